/**
 * NATS JWTs (version 2) and `.creds` files. The claims' shapes, the creds format and (in tests)
 * decoding and verification are `@nats-io/jwt`'s; the encoding is done here, in a few lines
 * that mirror its `encode`, for two reasons that library cannot meet: its `encode` stamps `iat`
 * with the clock, so the same stack would render different server configs at every update (a
 * reload of every server, a changed parameter per server, at every `pulumi up`), and it signs
 * with tweetnacl (see nkeys.ts), too slow to issue a fleet's identities. Pure.
 */
import { createHash } from "node:crypto";
import { fmtCreds, type ClaimsData } from "@nats-io/jwt";
import type { KeyPair } from "./nkeys";

const HEADER = { typ: "JWT", alg: "ed25519-nkey" } as const;

const base64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString("base64url");

/** The claims a JWT carries besides what signing adds (`iss`, `iat`, `jti`). */
export type Claims<T> = Omit<ClaimsData<T>, "iss" | "iat" | "jti">;

/**
 * A signed JWT of `claims`, issued by `signer` at `issuedAt` (seconds since the epoch): the same
 * claims, signer and time always give the same JWT.
 */
export function signJwt<T>(claims: Claims<T>, signer: KeyPair, issuedAt: number): string {
  const body: Record<string, unknown> = { ...claims, iat: issuedAt, iss: signer.publicKey };
  body.nats = { ...(claims.nats as object), version: 2 };
  // As @nats-io/jwt does: the id is a hash of the claims without it.
  body.jti = createHash("sha512").update(JSON.stringify(body)).digest("base64");
  const payload = `${base64url(JSON.stringify(HEADER))}.${base64url(JSON.stringify(body))}`;
  return `${payload}.${base64url(signer.sign(Buffer.from(payload)))}`;
}

/** A `.creds` file (a user's JWT and its seed, the format nats.js, nats.go and the nats CLI read). */
export function credsOf(jwt: string, seed: string): string {
  const pair = { getSeed: () => new TextEncoder().encode(seed) };
  return new TextDecoder().decode(fmtCreds(jwt, pair as Parameters<typeof fmtCreds>[1]));
}

/**
 * The user JWT and the seed of a `.creds` file (what `credsOf` writes); fails naming what is
 * missing, never printing the seed.
 */
export function credsParts(creds: string): { jwt: string; seed: string } {
  const blocks = [...creds.matchAll(/-{3,}[^\n]*-{3,}\n\s*([^\s-][^\n]*)\n\s*-{3,}[^\n]*-{3,}/g)].map((m) =>
    (m[1] ?? "").trim(),
  );
  const [jwt, seed] = blocks;
  if (jwt === undefined || seed === undefined || !seed.startsWith("SU"))
    throw new Error("not a .creds file: expected a user JWT block and then a user seed block (`SU…`)");
  return { jwt, seed };
}
