/**
 * The JWTs of a stack, signed from its seeds (auth.ts): the operator's and the three accounts'
 * (what each exports and imports, its scoped signing keys with their templates, the revoked
 * peels), the users the stack issues itself, and a peel's credentials issued by the peels'
 * issuer. The same seeds, topology and revocations always sign the same JWTs (issued at
 * ISSUED_AT), so a config changes only when what it says does. Pure.
 */
import { hkdfSync } from "node:crypto";
import type { Account, Operator, SigningKey, User, UserPermissionsLimits } from "@nats-io/jwt";
import {
  ACCOUNT_KEY,
  ACCOUNT_ROLES,
  checkPeelId,
  ROLE_ACCOUNT,
  type AccountRole,
  type Revocations,
  type Seeds,
  type ServerIdentities,
  type UserRole,
} from "./auth";
import { credsOf, signJwt } from "./jwt";
import { keyPair, seedOf, type KeyPair } from "./nkeys";
import { fixedRolePermissions, peelServices, peelTemplate, rolePermissions, type Permissions } from "./permissions";
import type { Topology } from "./types";

/**
 * When the stack's own JWTs say they were issued (2026-01-01): a fixed time, so they are the
 * same at every update. Peels' credentials carry the real time they were issued.
 */
export const ISSUED_AT = 1_767_225_600;

/** Each account's name in its JWT (the servers show it next to the key). */
export const ACCOUNT_NAMES: Record<AccountRole, string> = { system: "SYS", app: "ZESTER", peels: "ZESTER_PEELS" };

/** Account limits: none of NATS's own (a JWT without them allows no import, export or connection). */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
} as const;

/** JetStream, in the app account only: bounded by the servers' own limits (max_file_store, …). */
const JETSTREAM = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } as const;

const jwtPermissions = (p: Permissions) => ({ pub: { allow: p.publish.allow }, sub: { allow: p.subscribe.allow } });

/**
 * The users whose permissions follow the topology (its domains, its planned streams) are a
 * scoped signing key's: the key signs names, the template (in the account's JWT, so in every
 * server's config) is all its users may do. So no user's credentials change with the topology,
 * and a topology change is a reload of the configs, as a change of permissions always was. The
 * others carry their permissions in their own JWT (the monitoring and the leaf link's, which are
 * the same for every topology), or have none (`system`, a region link).
 */
const SCOPED = ["master", "reconcile"] as const;
type ScopedRole = (typeof SCOPED)[number];
const isScoped = (role: UserRole): role is ScopedRole => (SCOPED as readonly string[]).includes(role);

/**
 * A role's scoped signing key, derived from its account's seed (HKDF): no secret to keep beyond
 * the account's, and the same key at every update.
 */
function scopeKey(seeds: Seeds, role: ScopedRole): KeyPair {
  const account = seeds[ACCOUNT_KEY[ROLE_ACCOUNT[role]]];
  const raw = hkdfSync("sha256", account, "zester", `scoped signing key of ${role}`, 32);
  return keyPair(seedOf("account", new Uint8Array(raw)));
}

function templates(t: Topology): Record<ScopedRole, Partial<UserPermissionsLimits>> {
  const p = rolePermissions(t);
  return { master: jwtPermissions(p.master), reconcile: jwtPermissions(p.reconcile) };
}

/** What the users that are not scoped carry in their own JWT. */
function ownClaims(role: Exclude<UserRole, ScopedRole>): Partial<User> {
  const unlimited = { subs: -1, data: -1, payload: -1 } as const;
  const fixed = fixedRolePermissions();
  switch (role) {
    case "monitoring":
      return { ...unlimited, ...jwtPermissions(fixed.monitoring) };
    case "leafLink":
      // Its connection type in its own JWT: 2.9.10 honours a scoped key's only from 2.11.0.
      return { ...unlimited, ...jwtPermissions(fixed.leafLink), allowed_connection_types: ["LEAFNODE"] };
    case "regionLink":
      return { ...unlimited, allowed_connection_types: ["LEAFNODE"] };
    case "system":
      return unlimited;
  }
}

const scope = (key: KeyPair, role: string, template: Partial<UserPermissionsLimits>): SigningKey => ({
  kind: "user_scope",
  key: key.publicKey,
  role,
  template,
});

function accountJwts(seeds: Seeds, t: Topology, revoked: Revocations): ServerIdentities["accounts"] {
  const operator = keyPair(seeds.operator);
  const key = (role: AccountRole) => keyPair(seeds[ACCOUNT_KEY[role]]).publicKey;
  const { services, streams } = peelServices();
  const exported = [
    ...services.map((subject) => ({ name: subject, subject, type: "service" as const })),
    ...streams.map((subject) => ({ name: subject, subject, type: "stream" as const })),
  ];
  const roles = templates(t);
  const scopesIn = (account: AccountRole): SigningKey[] =>
    SCOPED.filter((r) => ROLE_ACCOUNT[r] === account).map((r) => scope(scopeKey(seeds, r), r, roles[r]));
  const claims: Record<AccountRole, Partial<Account>> = {
    system: { limits: UNLIMITED, signing_keys: scopesIn("system") },
    app: { limits: { ...UNLIMITED, ...JETSTREAM }, exports: exported, signing_keys: scopesIn("app") },
    peels: {
      limits: UNLIMITED,
      imports: exported.map((e) => ({ ...e, account: key("app") })),
      signing_keys: [
        // The peels' issuer: what the enrollment side signs every peel with, and all it holds.
        scope(keyPair(seeds.peelIssuer), "peel", {
          ...jwtPermissions(peelTemplate()),
          allowed_connection_types: ["STANDARD"],
        }),
        ...scopesIn("peels"),
      ],
      ...(Object.keys(revoked).length === 0 ? {} : { revocations: revoked }),
    },
  };
  return Object.fromEntries(
    ACCOUNT_ROLES.map((role) => [
      role,
      {
        key: key(role),
        jwt: signJwt<Partial<Account>>(
          { name: ACCOUNT_NAMES[role], sub: key(role), aud: "NATS", nats: { ...claims[role], type: "account" } },
          operator,
          ISSUED_AT,
        ),
      },
    ]),
  ) as ServerIdentities["accounts"];
}

// Signing is cheap, but every server's config (and every transition planned) asks again.
const signed = new WeakMap<Seeds, Map<string, ServerIdentities>>();

/**
 * What a server config holds of the identities for topology `t`, with `revoked` peels refused:
 * the operator's and the accounts' JWTs.
 */
export function serverIdentities(seeds: Seeds, t: Topology, revoked: Revocations = {}): ServerIdentities {
  const memo = signed.get(seeds) ?? new Map<string, ServerIdentities>();
  signed.set(seeds, memo);
  const id = JSON.stringify([t.servers.map((s) => s.domain ?? ""), t.plan.kv, t.plan.regions, revoked]);
  const known = memo.get(id);
  if (known !== undefined) return known;
  const operator = keyPair(seeds.operator);
  const accounts = accountJwts(seeds, t, revoked);
  const result: ServerIdentities = {
    operator: signJwt<Partial<Operator>>(
      {
        name: "zester",
        sub: operator.publicKey,
        aud: "NATS",
        nats: { system_account: accounts.system.key, type: "operator" },
      },
      operator,
      ISSUED_AT,
    ),
    accounts,
  };
  memo.set(id, result);
  return result;
}

/** A user the stack issues itself, as its `.creds` (its JWT and its seed): what its clients connect with. */
export function roleCreds(seeds: Seeds, role: UserRole): string {
  const user = keyPair(seeds[role]);
  const account = keyPair(seeds[ACCOUNT_KEY[ROLE_ACCOUNT[role]]]);
  const nats: Partial<User> = isScoped(role)
    ? // A scoped user carries no permissions of its own: the template decides them at connect.
      { issuer_account: account.publicKey }
    : ownClaims(role);
  const jwt = signJwt<Partial<User>>(
    { name: role, sub: user.publicKey, aud: "NATS", nats: { ...nats, type: "user" } },
    isScoped(role) ? scopeKey(seeds, role) : account,
    ISSUED_AT,
  );
  return credsOf(jwt, seeds[role]);
}

export interface IssuedPeel {
  id: string;
  /** Its public key: what a revocation names. */
  key: string;
  /** Its `.creds`: its own JWT and seed, nothing of any other peel. */
  creds: string;
}

/**
 * A peel's identity, signed by the peels' issuer: its name is its id, and the issuer's template
 * (in the `peels` account's JWT) is all it may do. `userSeed` is the peel's own new key;
 * `issuedAt` the time (seconds) of its enrollment.
 */
export function issuePeel(
  id: string,
  issuer: { seed: string; account: string },
  userSeed: string,
  issuedAt: number,
): IssuedPeel {
  checkPeelId(id);
  const user = keyPair(userSeed);
  if (user.kind !== "user") throw new Error(`peel ${id}: its key must be a user key (\`SU…\`), not a ${user.kind} key`);
  const jwt = signJwt<Partial<User>>(
    {
      name: id,
      sub: user.publicKey,
      aud: "NATS",
      // A scoped user carries no permissions of its own: the template decides them at connect.
      nats: { issuer_account: issuer.account, type: "user" },
    },
    keyPair(issuer.seed),
    issuedAt,
  );
  return { id, key: user.publicKey, creds: credsOf(jwt, userSeed) };
}
