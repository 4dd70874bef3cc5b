/**
 * The client identities of a topology on a cloud target: an NKey per role (topology/auth.ts),
 * its seed made from 32 random bytes Pulumi generates once and keeps (secret) in the stack's
 * state, so the keys are the same at every update. The seeds stay secret outputs; server
 * configs get the public keys.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { fromSeed, Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec";
import { CLIENT_ROLES, type PublicKeys, type Seeds } from "../topology/auth";
import type { Children } from "./children";

export interface Identities {
  /** Secret. */
  seeds: pulumi.Output<Seeds>;
  keys: pulumi.Output<PublicKeys>;
}

/** The NKey user seed (`SU…`) of 32 random bytes. */
export function userSeed(raw: Uint8Array): string {
  if (raw.length !== 32) throw new Error(`an NKey seed is made of 32 bytes, not ${String(raw.length)}`);
  return new TextDecoder().decode(Codec.encodeSeed(Prefix.User, raw));
}

/**
 * The random bytes as the provider returns them. Mocks that echo a resource's inputs (Pulumi's
 * own example, a test of a program using this component) return none: only then a stand-in made
 * from the role's name, so the program still runs; a deployed stack always has the bytes.
 */
function rawBytes(base64: string | undefined, role: string): Uint8Array {
  if (base64 === undefined) return new Uint8Array(createHash("sha256").update(`mock-${role}`).digest());
  return new Uint8Array(Buffer.from(base64, "base64"));
}

export const publicKeyOf = (seed: string): string => fromSeed(new TextEncoder().encode(seed)).getPublicKey();

export function generatedIdentities(children: Children): Identities {
  const bytes = CLIENT_ROLES.map(
    (role) =>
      children.make(`${role}-nkey`, {}, (name, opts) => new random.RandomBytes(name, { length: 32 }, opts)).base64,
  );
  const seeds = pulumi.secret(
    pulumi
      .all(bytes)
      .apply(
        (all) => Object.fromEntries(CLIENT_ROLES.map((role, i) => [role, userSeed(rawBytes(all[i], role))])) as Seeds,
      ),
  );
  // Public keys are no secret: unwrapped so configs and outputs built from them are plain.
  const keys = pulumi.unsecret(
    seeds.apply((s) => Object.fromEntries(CLIENT_ROLES.map((role) => [role, publicKeyOf(s[role])])) as PublicKeys),
  );
  return { seeds, keys };
}
