/**
 * The Pulumi random provider (terraform-provider-random) as the twins run it: values really drawn,
 * at plan time, kept in the state like the provider keeps them, a new one only when the resource
 * is replaced (every input replaces it). Documented outputs: random_bytes `base64`, `hex`;
 * random_password `result` from the character classes its inputs allow, at least `min*` of each.
 */
import { randomBytes, randomInt } from "node:crypto";
import type { TwinProvider } from "../engine/provider";

type Json = Record<string, unknown>;

export const RANDOM_TYPES = {
  bytes: "random:index/randomBytes:RandomBytes",
  password: "random:index/randomPassword:RandomPassword",
} as const;

const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

function positive(inputs: Json, key: string, type: string): number {
  const value = inputs[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
    throw new Error(`${type} ${key} must be a whole number of at least 1, not ${JSON.stringify(value)}`);
  return value;
}

export function drawBytes(inputs: Json): Json {
  const bytes = randomBytes(positive(inputs, "length", "random RandomBytes"));
  return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
}

export function drawPassword(inputs: Json): Json {
  const type = "random RandomPassword";
  const length = positive(inputs, "length", type);
  const special = typeof inputs.overrideSpecial === "string" ? inputs.overrideSpecial : DEFAULT_SPECIAL;
  const classes = [
    { on: inputs.upper !== false, chars: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min: inputs.minUpper },
    { on: inputs.lower !== false, chars: "abcdefghijklmnopqrstuvwxyz", min: inputs.minLower },
    { on: inputs.numeric !== false, chars: "0123456789", min: inputs.minNumeric },
    { on: inputs.special !== false, chars: special, min: inputs.minSpecial },
  ].filter((c) => c.on);
  const minimums = classes.map((c) => (typeof c.min === "number" ? c.min : 0));
  if (classes.length === 0)
    throw new Error(`${type} allows no character class: set one of upper, lower, numeric, special`);
  if (minimums.reduce((a, b) => a + b, 0) > length)
    throw new Error(`${type}: the min* counts add up to more than length ${String(length)}`);
  const pick = (chars: string) => chars[randomInt(chars.length)] ?? "";
  const all = classes.map((c) => c.chars).join("");
  const chars = [...classes.flatMap((c, i) => Array.from({ length: minimums[i] ?? 0 }, () => pick(c.chars)))];
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? "", chars[i] ?? ""];
  }
  return { result: chars.join("") };
}

/** The random provider: values drawn at plan time, kept in the state only. */
export const randomProvider: TwinProvider = {
  types: Object.values(RANDOM_TYPES),
  plan(resource) {
    const outputs = resource.type === RANDOM_TYPES.bytes ? drawBytes(resource.inputs) : drawPassword(resource.inputs);
    return Promise.resolve({ id: "none", outputs });
  },
  create: () => Promise.resolve({}),
  update: () => Promise.resolve({}),
  delete: () => Promise.resolve(),
};
