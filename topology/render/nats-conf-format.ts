/**
 * The one writer of nats-server's config format. Configs are built as data and serialized
 * here, never string-templated. Strings are always quoted; numbers (byte counts included) are
 * bare, because 2.9 fails to parse a quoted size such as "1GB".
 */
export type ConfValue = string | number | boolean | ConfValue[] | ConfBlock;
export interface ConfBlock {
  [key: string]: ConfValue | undefined;
}

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function scalar(value: string | number | boolean): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} into a nats-server config`);
    return String(value);
  }
  return typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

function write(value: ConfValue, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${indent}  ${write(v, `${indent}  `)}`).join("\n")}\n${indent}]`;
  }
  if (typeof value === "object") {
    const lines = entries(value).map(([k, v]) => `${indent}  ${k}: ${write(v, `${indent}  `)}`);
    return lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
  }
  return scalar(value);
}

function entries(block: ConfBlock): [string, ConfValue][] {
  return Object.entries(block)
    .filter((e): e is [string, ConfValue] => e[1] !== undefined)
    .map(([k, v]) => [BARE_KEY.test(k) ? k : JSON.stringify(k), v]);
}

/** A whole config file; `header` lines become comments at the top. */
export function serializeNatsConf(config: ConfBlock, header: string[] = []): string {
  const top = entries(config).map(([k, v]) => `${k}: ${write(v, "")}`);
  return [...header.map((h) => `# ${h}`), ...top, ""].join("\n");
}
