/**
 * Who may connect to a topology's servers, and as what. The servers run in NATS's operator mode:
 * they trust one operator key and hold only public JWTs (the operator's and its accounts'), so a
 * config holds no secret and no list of users. Three accounts separate what must not be shared:
 *
 * - `app`: the Zester masters, the KV buckets and streams (JetStream lives only here), the
 *   reconcile job. Its replies (a master's reads of `KV_secrets`) never leave it.
 * - `peels`: every peel, each with an identity of its own issued at enrollment by the peels'
 *   scoped signing key (the "issuer"), whose template limits each to its own subjects. The
 *   account has no JetStream; it imports from `app` exactly the services and the stream a peel
 *   needs (permissions.ts), so whatever a peel makes a server send lands in `peels`, never in
 *   `app`.
 * - `system`: the operators' and the monitoring identities.
 *
 * Servers authenticate each other with their TLS certificates (mutual TLS, one CA per stack): a
 * route only from a certificate with the route subject; a leaf link from a certificate of the
 * CA, as a link user (its JWT, in `peels` for a leaf site, in `app` for another region).
 * Targets generate and keep the seeds; what is signed from them is in identities.ts.
 */

/** The identities the stack issues itself, each a user in its account. */
export const CLIENT_ROLES = ["master", "reconcile", "system", "monitoring"] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/** The leaf links' users: a leaf site's servers into their hub, a region's core into the hub region. */
export const LINK_ROLES = ["leafLink", "regionLink"] as const;
export type LinkRole = (typeof LINK_ROLES)[number];

export type UserRole = ClientRole | LinkRole;

/** The accounts, by what they are for. */
export const ACCOUNT_ROLES = ["system", "app", "peels"] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

/** Which account each user the stack issues lives in. */
export const ROLE_ACCOUNT: Record<UserRole, AccountRole> = {
  master: "app",
  reconcile: "app",
  system: "system",
  monitoring: "system",
  leafLink: "peels",
  regionLink: "app",
};

/**
 * Every key a stack holds: the operator's, each account's, the peels' issuer (the `peels`
 * account's scoped signing key: the enrollment side holds it and nothing else of the accounts),
 * and each user's the stack issues itself. Peels' keys are each peel's own.
 */
export const STACK_KEYS = [
  "operator",
  "systemAccount",
  "appAccount",
  "peelsAccount",
  "peelIssuer",
  ...CLIENT_ROLES,
  ...LINK_ROLES,
] as const;
export type StackKey = (typeof STACK_KEYS)[number];

/** What kind of NKey each stack key is. */
export const KEY_KIND: Record<StackKey, "operator" | "account" | "user"> = {
  operator: "operator",
  systemAccount: "account",
  appAccount: "account",
  peelsAccount: "account",
  peelIssuer: "account",
  master: "user",
  reconcile: "user",
  system: "user",
  monitoring: "user",
  leafLink: "user",
  regionLink: "user",
};

export const ACCOUNT_KEY: Record<AccountRole, StackKey> = {
  system: "systemAccount",
  app: "appAccount",
  peels: "peelsAccount",
};

/** The seed (`S…`) of each stack key: the secret halves, each held only where it is used. */
export type Seeds = Record<StackKey, string>;

/**
 * Revoked peel identities: each public key (`U…`) with the time (seconds since the epoch) up to
 * which its credentials are refused; a peel issued again later gets a new key.
 */
export type Revocations = Record<string, number>;

/**
 * A peel's identity is its name in its credentials: the token that names its job subject, its
 * keys and its inbox. One subject token, so a name can never widen a template (`*`, `>`, `.`).
 */
export const PEEL_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkPeelId(id: string): string {
  if (!PEEL_ID.test(id))
    throw new Error(
      `peel id "${id}": not accepted; a peel id is 1 to 64 letters, digits, "-" or "_" (it becomes a subject token: its job subject, its KV keys, its inbox)`,
    );
  return id;
}

/**
 * Where an identity's replies come back: each has an inbox prefix of its own and may subscribe
 * to nothing else of `_INBOX` (a peel's inbox is its id's, a role's its name's).
 */
export const inboxPrefix = (identity: string): string => `_INBOX.${identity}`;

/**
 * The subject (a one-attribute distinguished name) of the certificates of server-to-server
 * connections. A route is accepted only from a certificate with the route subject
 * (`verify_and_map`), which only core servers' certificates carry; leaf links are mutual TLS with
 * the stack's CA, and the link's user (its credentials) says what it may do.
 */
export const CERT_SUBJECTS = {
  /** Core servers: their server certificate, used on routes in both directions. */
  route: "CN=zester-route",
  /** Leaf sites' servers connecting to their hub. */
  leafLink: "CN=zester-leaf-link",
  /** A supercluster's regions connecting to the hub region. */
  regionLink: "CN=zester-region-link",
} as const;

/** The CN of a certificate subject (`CN=zester-route` → `zester-route`). */
export const commonName = (subject: string): string => subject.replace(/^CN=/, "");

/** Where a server finds its TLS files (paths on that server; the target puts the files there). */
export interface ServerTlsFiles {
  /** The stack's CA (or, while it rotates, the old and the new one in one file). */
  caFile: string;
  /** The server's own certificate and key: its client, route and leafnode listeners. */
  certFile: string;
  keyFile: string;
  /** The link certificate a leaf server (or another region's core) solicits its hub with. */
  linkCertFile?: string;
  linkKeyFile?: string;
  /** The link user's credentials (`.creds`) it solicits its hub with. */
  linkCredsFile?: string;
}

/** What a server config holds of the identities: public JWTs, no secret. */
export interface ServerIdentities {
  /** The operator's JWT: the one key every server trusts. */
  operator: string;
  /** Each account's public key and JWT (its exports, imports, signing keys, revocations). */
  accounts: Record<AccountRole, { key: string; jwt: string }>;
}

/** What a server config needs of the auth model: the public JWTs and its TLS files. */
export interface ServerAuth {
  identities: ServerIdentities;
  tls: ServerTlsFiles;
}

/** What a client of the topology connects with. */
export interface ClientAuth {
  /** Its `.creds` file's content: the user JWT and its seed. */
  creds: string;
  /** The CA certificate(s), PEM. */
  ca: string;
  /** Its inbox prefix: replies to it come back under it, and nowhere else may it subscribe in `_INBOX`. */
  inboxPrefix: string;
}

/**
 * Stand-ins for the JWTs where a config is only keyed (a digest of what changed) or described
 * before the keys exist: never what a running server uses.
 */
export const PLACEHOLDER_IDENTITIES: ServerIdentities = {
  operator: "-",
  accounts: { system: { key: "-", jwt: "-" }, app: { key: "-", jwt: "-" }, peels: { key: "-", jwt: "-" } },
};
