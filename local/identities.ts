/**
 * The local target's client identities: an NKey per role (auth.ts), made once per state
 * directory with the nats ecosystem's own library. The seeds stay in the state file and in one
 * seed file per role under `<state>/identities/` (mode 0600); server configs get the public keys.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createUser, fromSeed } from "@nats-io/nkeys";
import { CLIENT_ROLES, type ClientAuth, type ClientRole, type PublicKeys, type Seeds } from "../topology/auth";

export const IDENTITIES_DIR = "identities";

export function newSeeds(): Seeds {
  const seed = (): string => new TextDecoder().decode(createUser().getSeed());
  return Object.fromEntries(CLIENT_ROLES.map((role) => [role, seed()])) as Seeds;
}

// Deriving a key costs milliseconds, and every server's config (and every transition planned) asks again.
const derived = new WeakMap<Seeds, PublicKeys>();

export function publicKeys(seeds: Seeds): PublicKeys {
  const known = derived.get(seeds);
  if (known !== undefined) return known;
  const keys = Object.fromEntries(
    CLIENT_ROLES.map((role) => [role, fromSeed(new TextEncoder().encode(seeds[role])).getPublicKey()]),
  ) as PublicKeys;
  derived.set(seeds, keys);
  return keys;
}

/** A role's seed file (what `nats --nkey` and a Zester config's `nkey` point at). */
export const seedFile = (stateDir: string, role: ClientRole): string =>
  path.join(stateDir, IDENTITIES_DIR, `${role}.nk`);

export function writeSeedFiles(stateDir: string, seeds: Seeds): void {
  mkdirSync(path.join(stateDir, IDENTITIES_DIR), { recursive: true, mode: 0o700 });
  for (const role of CLIENT_ROLES) writeFileSync(seedFile(stateDir, role), `${seeds[role]}\n`, { mode: 0o600 });
}

/** What a client of `role` connects with. */
export function clientAuth(state: { auth: { seeds: Seeds; ca: string } }, role: ClientRole): ClientAuth {
  return { seed: state.auth.seeds[role], ca: state.auth.ca };
}
