// A test file's pragmas: the `@word`s on the lines of its first comment that hold nothing else
// (e.g. ` * @servers @long`). jest.config.js sorts files into projects by them, the sequencer
// orders by them.
const { readFileSync } = require("node:fs");

function pragmas(file) {
  const head = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, "utf8"))?.[1] ?? "";
  const words = new Set();
  for (const line of head.split("\n")) {
    const only = /^\s*\*?\s*((?:@[a-z]+\s*)+)$/.exec(line);
    for (const m of only?.[1].matchAll(/@([a-z]+)/g) ?? []) words.add(m[1]);
  }
  return words;
}

module.exports = { pragmas };
