/**
 * NKeys (NATS's Ed25519 keys) on Node's own Ed25519: seeds and public keys in the NKey text
 * encoding (`@nats-io/nkeys`'s codec), signatures by `node:crypto`. `@nats-io/nkeys` signs with
 * tweetnacl in JavaScript, measured here at 20-50 ms per signature on a loaded 2-core machine;
 * a fleet of 10,000 peels, each with an identity of its own, would take minutes to issue.
 * Node's is ~0.1 ms. Ed25519 is deterministic, so both sign alike. Pure: no randomness here
 * (keys come from random bytes the caller makes).
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec";

/** What a key is for, as its NKey prefix says (seeds `SO…`, `SA…`, `SU…`; public keys `O…`, `A…`, `U…`). */
export type KeyKind = "operator" | "account" | "user";

const PREFIX: Record<KeyKind, Prefix> = { operator: Prefix.Operator, account: Prefix.Account, user: Prefix.User };

/** The DER header of a PKCS #8 Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

const td = new TextDecoder();
const te = new TextEncoder();

/** The NKey seed of `kind` made of 32 random bytes. */
export function seedOf(kind: KeyKind, raw: Uint8Array): string {
  if (raw.length !== 32) throw new Error(`an NKey seed is made of 32 bytes, not ${String(raw.length)}`);
  return td.decode(Codec.encodeSeed(PREFIX[kind], raw));
}

export interface KeyPair {
  /** The public key, e.g. `U…` for a user. */
  publicKey: string;
  kind: KeyKind;
  /** The Ed25519 signature of `data`. */
  sign(data: Uint8Array): Uint8Array;
}

const KIND_OF = new Map<Prefix, KeyKind>(Object.entries(PREFIX).map(([k, p]) => [p, k as KeyKind]));

// Deriving a key is cheap with Node, but configs and credentials are signed again and again.
const pairs = new Map<string, KeyPair>();

/** The key pair of an NKey seed; refuses a seed that is not one (naming what it got, never the seed). */
export function keyPair(seed: string): KeyPair {
  const known = pairs.get(seed);
  if (known !== undefined) return known;
  let decoded: { prefix: Prefix; buf: Uint8Array };
  try {
    decoded = Codec.decodeSeed(te.encode(seed));
  } catch (error) {
    throw new Error("not an NKey seed: expected the text of a seed, `S…`", { cause: error });
  }
  const kind = KIND_OF.get(decoded.prefix);
  if (kind === undefined)
    throw new Error("an NKey seed of a kind this project does not use (operator, account or user)");
  const key: KeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, Buffer.from(decoded.buf)]),
    format: "der",
    type: "pkcs8",
  });
  const raw = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
  const pair: KeyPair = {
    publicKey: td.decode(Codec.encode(PREFIX[kind], new Uint8Array(raw))),
    kind,
    sign: (data) => new Uint8Array(sign(null, data, key)),
  };
  pairs.set(seed, pair);
  return pair;
}

/** The public key of an NKey seed. */
export const publicKeyOf = (seed: string): string => keyPair(seed).publicKey;
