/**
 * Java regular expressions as JavaScript ones: botocore's `pattern`s are the services' own
 * (Java) validation patterns. What Java means and JavaScript's `u` mode says the same way passes
 * through; what differs in spelling only is rewritten; anything else fails loudly.
 */

/** Java's POSIX classes, as the contents of a character class (ASCII, as Java defines them). */
const POSIX: Record<string, string> = {
  Lower: "a-z",
  Upper: "A-Z",
  ASCII: "\\x00-\\x7F",
  Alpha: "a-zA-Z",
  Digit: "0-9",
  Alnum: "a-zA-Z0-9",
  Punct: "!-\\/:-@\\[-`{-~",
  Graph: "!-~",
  Print: " -~",
  Blank: " \\t",
  Cntrl: "\\x00-\\x1F\\x7F",
  XDigit: "0-9a-fA-F",
  Space: " \\t\\n\\x0B\\f\\r",
  // Java's (undocumented) "any character", which AWS's models use: [\p{all}]*.
  all: "\\s\\S",
};
/** Escapes JavaScript's `u` mode accepts for a literal (outside a class; `-` too inside one). */
const JS_SYNTAX = new Set(["^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/"]);

const translated = new Map<string, RegExp>();

/**
 * `pattern` as a JavaScript RegExp matching the whole value, as AWS does (the DLM description
 * `Zester … (staging)` is refused by `[0-9A-Za-z _-]+` though a part of it matches). Throws on a
 * Java construct it cannot translate, so no pattern is silently dropped.
 */
export function javaPattern(pattern: string): RegExp {
  const kept = translated.get(pattern);
  if (kept !== undefined) return kept;
  const fail = (why: string): never => {
    throw new Error(`cannot translate the Java pattern ${JSON.stringify(pattern)} to JavaScript: ${why}`);
  };
  let out = "";
  let inClass = false;
  let inCount = false; // inside a {n,m} quantifier
  let quantified = false; // the last token was a quantifier, so a + after it is possessive
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    const wasQuantified: boolean = quantified;
    quantified = false;
    if (c === "\\") {
      const next = pattern.charAt(i + 1);
      if (next === "p" || next === "P") {
        const name = /^\{(\w+)\}/.exec(pattern.slice(i + 2))?.[1];
        if (name === undefined) return fail(`\\${next} without {name}`);
        const posix = POSIX[name];
        if (posix !== undefined) {
          if (next === "P") fail(`negated \\P{${name}}`);
          out += inClass ? posix : `[${posix}]`;
        } else if (/^(java|In|Is)/.test(name)) fail(`\\${next}{${name}} is Java-only`);
        else out += `\\${next}{${name}}`; // a Unicode property: the same in JavaScript's u mode
        i += 2 + name.length + 1;
        continue;
      }
      if ("QEAZzGhHRXvKk".includes(next)) fail(`\\${next} has no JavaScript equivalent here`);
      if (next === "x" && pattern.charAt(i + 2) === "{") out += "\\u";
      else if (/[0-9A-Za-z]/.test(next) || JS_SYNTAX.has(next) || (inClass && next === "-")) out += c + next;
      // Java lets any other punctuation be escaped; JavaScript's u mode does not: keep it literal.
      else out += next;
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === "[") fail("a nested character class (Java's union)");
      if (c === "&" && pattern.charAt(i + 1) === "&") fail("&& (Java's class intersection)");
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      const rest = pattern.slice(i + 1);
      if (rest.startsWith("]") || rest.startsWith("^]")) fail("a ] first in a class (literal in Java only)");
    } else if (c === "+" && wasQuantified) fail("a possessive quantifier");
    else if (c === "(" && pattern.charAt(i + 1) === "?" && /[a-zA-Z]/.test(pattern.charAt(i + 2)))
      fail("an inline flag group");
    else if (c === "{" && /^\d/.test(pattern.charAt(i + 1))) inCount = true;
    else if (c === "}" && inCount) {
      inCount = false;
      quantified = true;
    } else if (c === "*" || c === "+") quantified = true;
    // ? quantifies unless it opens a group's (?…) or makes a quantifier lazy.
    else if (c === "?") quantified = pattern.charAt(i - 1) !== "(" && !wasQuantified;
    out += c;
  }
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${out})$`, "u");
  } catch (e) {
    return fail((e as Error).message);
  }
  translated.set(pattern, regex);
  return regex;
}
