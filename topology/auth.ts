/**
 * Who may connect to a topology's servers, and as what: one identity per role. Clients (masters,
 * peels, the reconcile job, operators, monitoring) authenticate with an NKey: a server's config
 * holds only the public key, the seed stays with the client. Servers authenticate each other with
 * their TLS certificates (mutual TLS, one CA per stack): a route or a leaf link is accepted only
 * from a certificate the CA signed with that role's subject. Targets generate and keep the keys;
 * renderers only read what is here. What each role may do is in permissions.ts.
 */

/** The roles that connect as clients, each with an NKey of its own. */
export const CLIENT_ROLES = ["master", "peel", "reconcile", "system", "monitoring"] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/** The public NKey (`U…`) of each client role: all a server config holds of them. */
export type PublicKeys = Record<ClientRole, string>;

/** The seed (`SU…`) of each client role: the secret half, held only by that role's clients. */
export type Seeds = Record<ClientRole, string>;

/** Which account each client role lives in. */
export const ROLE_ACCOUNT: Record<ClientRole, "system" | "app"> = {
  master: "app",
  peel: "app",
  reconcile: "app",
  system: "system",
  monitoring: "system",
};

/**
 * The subject (a one-attribute distinguished name) of the certificates that carry a server-to-
 * server role. nats-server maps a verified client certificate to the route or leaf-link identity
 * by it (`verify_and_map`): a core server's own certificate is its route credential, and a leaf
 * link is accepted only with the link certificate, so a leaf server's own certificate opens
 * neither.
 */
export const CERT_SUBJECTS = {
  /** Core servers: their server certificate, used on routes in both directions. */
  route: "CN=zester-route",
  /** Leaf sites' servers connecting to their hub: the only credential a DMZ server holds. */
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
}

/** What a server config needs of the auth model: the clients' public keys and its TLS files. */
export interface ServerAuth {
  keys: PublicKeys;
  tls: ServerTlsFiles;
}

/** What a client of the topology connects with: its role's seed and the CA it verifies servers by. */
export interface ClientAuth {
  seed: string;
  /** The CA certificate(s), PEM. */
  ca: string;
}

/**
 * Stand-ins for the public keys where a config is only keyed (a digest of what changed) or
 * described before the keys exist: never the keys a running server uses.
 */
export const PLACEHOLDER_KEYS: PublicKeys = {
  master: "-",
  peel: "-",
  reconcile: "-",
  system: "-",
  monitoring: "-",
};
