/**
 * The identities of a topology on a cloud target: every key of the stack (topology/auth.ts), its
 * seed made from 32 random bytes Pulumi generates once and keeps (secret) in the stack's state,
 * so the keys (and so the JWTs signed from them) are the same at every update; and the peels the
 * stack issues credentials to itself (`zester:peelCredentials`, its canaries), each a key of its
 * own. The seeds stay secret outputs; server configs get public JWTs.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  KEY_KIND,
  STACK_KEYS,
  type Seeds,
  type ServerIdentities,
  type StackKey,
  type UserRole,
} from "../topology/auth";
import { roleCreds, serverIdentities } from "../topology/identities";
import { publicKeyOf, seedOf } from "../topology/nkeys";
import type { Topology } from "../topology/types";
import type { Children } from "./children";
import { revocationsOf, stackIssuedCreds } from "./peels";

export interface Identities {
  /** Every key of the stack. Secret. */
  seeds: pulumi.Output<Seeds>;
  /** Each peel the stack issues credentials to, its own key's seed. Secret. */
  peelSeeds: pulumi.Output<Record<string, string>>;
}

/**
 * The random bytes as the provider returns them. Mocks that echo a resource's inputs (Pulumi's
 * own example, a test of a program using this component) return none: only then a stand-in made
 * from the key's name, so the program still runs; a deployed stack always has the bytes.
 */
function rawBytes(base64: string | undefined, key: string): Uint8Array {
  if (base64 === undefined) return new Uint8Array(createHash("sha256").update(`mock-${key}`).digest());
  return new Uint8Array(Buffer.from(base64, "base64"));
}

/**
 * The resource name of a key's random bytes: the roles' keep the names they had (`master-nkey`),
 * so their keys stay what they were.
 */
export const keyResourceName = (key: StackKey): string => `${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-nkey`;

/** A peel's key's random bytes, by its id. */
export const peelKeyResourceName = (peel: string): string => `peel-${peel}-nkey`;

const bytesOf = (children: Children, local: string): pulumi.Output<string> =>
  children.make(local, {}, (name, opts) => new random.RandomBytes(name, { length: 32 }, opts)).base64;

/** The stack's keys, and a key for each of `peels` (the ids the stack issues credentials to). */
export function generatedIdentities(children: Children, peels: readonly string[]): Identities {
  const stack = STACK_KEYS.map((key) => bytesOf(children, keyResourceName(key)));
  const seeds = pulumi.secret(
    pulumi
      .all(stack)
      .apply(
        (all) =>
          Object.fromEntries(
            STACK_KEYS.map((key, i) => [key, seedOf(KEY_KIND[key], rawBytes(all[i], keyResourceName(key)))]),
          ) as Seeds,
      ),
  );
  const own = peels.map((peel) => bytesOf(children, peelKeyResourceName(peel)));
  const peelSeeds = pulumi.secret(
    pulumi
      .all(own)
      .apply((all) =>
        Object.fromEntries(peels.map((peel, i) => [peel, seedOf("user", rawBytes(all[i], peelKeyResourceName(peel)))])),
      ),
  );
  return { seeds, peelSeeds };
}

/**
 * What every server config holds of the identities (public JWTs: no secret), with `revoked`
 * peels (settings' `revokedPeels`) refused.
 */
export function configIdentities(
  identities: Identities,
  t: Topology,
  revoked: readonly string[],
): pulumi.Output<ServerIdentities> {
  return pulumi.unsecret(
    pulumi
      .all([identities.seeds, identities.peelSeeds])
      .apply(([seeds, peels]) => serverIdentities(seeds, t, revocationsOf(revoked, peels))),
  );
}

/** Each peel the stack issues credentials to, its `.creds`. Secret. */
export function issuedPeelCreds(identities: Identities): pulumi.Output<Record<string, string>> {
  return pulumi.secret(
    pulumi.all([identities.seeds, identities.peelSeeds]).apply(([seeds, peels]) => {
      const issuer = { seed: seeds.peelIssuer, account: publicKeyOf(seeds.peelsAccount) };
      return Object.fromEntries(Object.entries(peels).map(([id, seed]) => [id, stackIssuedCreds(id, issuer, seed)]));
    }),
  );
}

/** A user the stack issues itself, its `.creds`. Secret. */
export const credsOfRole = (identities: Identities, role: UserRole): pulumi.Output<string> =>
  pulumi.secret(identities.seeds.apply((seeds) => roleCreds(seeds, role)));
