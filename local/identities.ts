/**
 * The local target's identities: the stack's keys (auth.ts), made once per state directory and
 * kept in its state file; a `.creds` file per user the stack issues (`<state>/identities/`,
 * mode 0600); and each peel's own, issued when asked for (`creds --peel ID`, at its
 * enrollment) under `<state>/identities/peels/`, the state file keeping its public key. A peel
 * revoked is refused by every server after a reload of their configs (revocation.ts).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ACCOUNT_KEY,
  CLIENT_ROLES,
  checkPeelId,
  inboxPrefix,
  KEY_KIND,
  LINK_ROLES,
  STACK_KEYS,
  type ClientAuth,
  type ClientRole,
  type Seeds,
  type UserRole,
} from "../topology/auth";
import { issuePeel, roleCreds } from "../topology/identities";
import { publicKeyOf, seedOf } from "../topology/nkeys";
import type { LocalState } from "./state";

export const IDENTITIES_DIR = "identities";
const PEELS_DIR = "peels";

const newSeed = (kind: "operator" | "account" | "user"): string => seedOf(kind, randomBytes(32));

/**
 * Every key of the stack: those `known` has kept, new ones for the rest. A state directory made
 * before per-peel identities keeps its roles' user keys (the shared peel key is dropped).
 */
export function completeSeeds(known: Partial<Record<string, string>> = {}): Seeds {
  return Object.fromEntries(STACK_KEYS.map((k) => [k, known[k] ?? newSeed(KEY_KIND[k])])) as Seeds;
}

/** Whether a state directory was made before per-peel identities (its keys are its roles' only). */
export const predatesIdentities = (state: Pick<LocalState, "auth">): boolean =>
  STACK_KEYS.some((k) => state.auth.seeds[k] === undefined);

/** The state's keys, all of them; a state directory made before per-peel identities has not. */
export function stackSeeds(state: Pick<LocalState, "auth">): Seeds {
  if (predatesIdentities(state))
    throw new Error(
      "the state directory was made before per-peel identities (docs/security.md): its servers hold their KV buckets in the account ZESTER, which the servers now name by its key; `down --purge` and `up` again starts afresh (back up the streams first if you need them, e.g. `nats stream backup` with the version that made it)",
    );
  return state.auth.seeds as Seeds;
}

const fileName = (role: UserRole): string => role.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A user's `.creds` file (what `nats --creds` and a Zester config's `credentials` point at). */
export const credsFile = (stateDir: string, role: UserRole): string =>
  path.join(stateDir, IDENTITIES_DIR, `${fileName(role)}.creds`);

/** A peel's `.creds` file. */
export const peelCredsFile = (stateDir: string, peel: string): string =>
  path.join(stateDir, IDENTITIES_DIR, PEELS_DIR, `${checkPeelId(peel)}.creds`);

/** The peels' issuer's seed file: what the enrollment side (a Zester master) signs peels with. */
export const peelIssuerFile = (stateDir: string): string => path.join(stateDir, IDENTITIES_DIR, "peel-issuer.nk");

/** Writes every user's `.creds` the stack issues itself (the same at every `up`), and the peels' issuer. */
export function writeRoleCreds(stateDir: string, seeds: Seeds): void {
  mkdirSync(path.join(stateDir, IDENTITIES_DIR), { recursive: true, mode: 0o700 });
  for (const role of [...CLIENT_ROLES, ...LINK_ROLES])
    writeFileSync(credsFile(stateDir, role), roleCreds(seeds, role), { mode: 0o600 });
  writeFileSync(peelIssuerFile(stateDir), `${seeds.peelIssuer}\n`, { mode: 0o600 });
}

/** What a client of `role` connects with. */
export function clientAuth(state: Pick<LocalState, "auth">, role: ClientRole): ClientAuth {
  return { creds: roleCreds(stackSeeds(state), role), ca: state.auth.ca, inboxPrefix: inboxPrefix(role) };
}

/** Where the peels' issuer is, as a peel is signed with it. */
export function peelIssuer(state: Pick<LocalState, "auth">): { seed: string; account: string } {
  const seeds = stackSeeds(state);
  return { seed: seeds.peelIssuer, account: publicKeyOf(seeds[ACCOUNT_KEY.peels]) };
}

export class PeelRevoked extends Error {}

/**
 * `peel`'s credentials file, issuing them first if it has none: a key of its own, signed by the
 * peels' issuer (its enrollment). A revoked peel gets none unless `reissue` (a new key; the old
 * one stays refused). Updates `state` (write it back).
 */
export function ensurePeelCreds(
  stateDir: string,
  state: Pick<LocalState, "auth">,
  peel: string,
  options: { reissue?: boolean; now?: number } = {},
): { credsFile: string; key: string; issued: boolean } {
  const file = peelCredsFile(stateDir, peel);
  const known = state.auth.peels[peel];
  const revoked = known !== undefined && state.auth.revoked[known.key] !== undefined;
  if (known !== undefined && !revoked && existsSync(file)) return { credsFile: file, key: known.key, issued: false };
  if (revoked && options.reissue !== true)
    throw new PeelRevoked(
      `peel ${peel} was revoked: its credentials are refused. Issue it new ones (a new key) with --reissue, or use another peel id`,
    );
  const issuedAt = options.now ?? Math.floor(Date.now() / 1000);
  const issued = issuePeel(peel, peelIssuer(state), newSeed("user"), issuedAt);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, issued.creds, { mode: 0o600 });
  state.auth.peels[peel] = { key: issued.key, issuedAt };
  return { credsFile: file, key: issued.key, issued: true };
}

/** What `peel` connects with: its own credentials (issued already), the CA, its inbox prefix. */
export function peelAuth(stateDir: string, state: Pick<LocalState, "auth">, peel: string): ClientAuth {
  return {
    creds: readFileSync(peelCredsFile(stateDir, peel), "utf8"),
    ca: state.auth.ca,
    inboxPrefix: inboxPrefix(peel),
  };
}

/**
 * A peel's identity made in memory, not recorded: the fleet simulator's peels, each issued its
 * own at its start as a real one is at enrollment.
 */
export function simulatedPeelAuth(state: Pick<LocalState, "auth">, peel: string, now: number): ClientAuth {
  const issued = issuePeel(peel, peelIssuer(state), newSeed("user"), now);
  return { creds: issued.creds, ca: state.auth.ca, inboxPrefix: inboxPrefix(peel) };
}
