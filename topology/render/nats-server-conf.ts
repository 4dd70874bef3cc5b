/**
 * `nats-server.conf` for one server of a topology, for a given nats-server version. Built as
 * data, written by the one serializer; never a key the version rejects.
 */
import { CERT_SUBJECTS, type ServerAuth, type ServerTlsFiles } from "../auth";
import { linkOf } from "../tls";
import type { Topology, TopologyServer } from "../types";
import { STANDARD_PORTS } from "../build";
import { serializeNatsConf, type ConfBlock } from "./nats-conf-format";
import { atLeast, KEY_SINCE, OLDEST_SUPPORTED } from "./version";

export interface NatsConfInput {
  topology: Topology;
  server: string;
  /** The nats-server version the file is for, e.g. "2.9.10". */
  version: string;
  /** JetStream's store directory on that server. */
  storeDir: string;
  /** The operator's and the accounts' JWTs and the server's TLS files (auth.ts): a config holds no secret. */
  auth: ServerAuth;
  /**
   * Placement tags (e.g. `az:us-east-1a`): with `uniqueTagPrefix`, JetStream puts a stream's
   * replicas on servers whose tags with that prefix differ, so R3 spans three zones.
   */
  serverTags?: string[];
  /** @default none: replicas go to any servers */
  uniqueTagPrefix?: string;
  /** The address listeners bind (e.g. 0.0.0.0 in a pod). @default the server's host */
  bindHost?: string;
  /**
   * Advertise the server's host name to clients, routes and leaf connections (when listeners bind
   * all addresses, what else a server would advertise is its own IP). @default false
   */
  advertise?: boolean;
  /** Where nats-server writes its pid (a reloader next to it signals that pid). @default none */
  pidFile?: string;
  /**
   * Where other regions reach the hub region's leafnode port when its servers' hosts are not
   * routable from them (separate Kubernetes clusters). @default the hub servers' hosts
   */
  hubLeafHost?: string;
}

/**
 * Servers every member lists as routes (and leaf remotes as hub URLs): the cluster's first
 * three. Gossip completes the mesh, so growing a cluster (3 → 5) adds servers without changing
 * the routes, and so the config, of the ones that stay.
 */
export const ROUTE_SEEDS = 3;

/**
 * Durability (`sync_interval`, 2.10+): NATS fsyncs every 2 min and acknowledges before fsync.
 * On the single tiers there is no second copy, so every write is synced before it is
 * acknowledged (`always`). Clusters keep NATS's default: R3 across failure domains is their
 * durability, and `always` costs throughput on every write; a coordinated power loss of all
 * replicas can still lose acknowledged writes (Jepsen, NATS 2.12.1).
 */
export function syncIntervalFor(t: Topology): "always" | undefined {
  return t.clusters.every((c) => c.servers.length === 1) ? "always" : undefined;
}

const seconds = (s: number): string => `${s}s`;
const url = (scheme: string, host: string, port: number | undefined): string => `${scheme}://${host}:${String(port)}`;

/**
 * Seconds a TLS handshake may take. NATS's default (2 s) is tight for a server taking thousands
 * of reconnecting peels at once, each handshake costing it an ECDSA signature.
 */
export const TLS_TIMEOUT_SECONDS = 5;

/**
 * A listener's TLS: the server's certificate; `peers` also asks for the peer's, which must be of
 * the stack's CA: `"map"` also maps its subject to the route identity, `"verify"` only verifies
 * (leaf links: the link's credentials then say who it is, operator mode allows no mapping).
 */
function tlsBlock(files: ServerTlsFiles, peers?: "map" | "verify"): ConfBlock {
  return {
    cert_file: files.certFile,
    key_file: files.keyFile,
    ca_file: files.caFile,
    ...(peers === "map" ? { verify_and_map: true } : peers === "verify" ? { verify: true } : {}),
    timeout: TLS_TIMEOUT_SECONDS,
  };
}

/** A peer's route or leaf endpoint; validate.ts makes sure every member and hub has the listener. */
function endpoint(peer: TopologyServer, kind: "route" | "leaf"): string {
  const found = peer.endpoints[kind];
  if (found === undefined) throw new Error(`${peer.name} has no ${kind} listener`);
  return found;
}

function find(t: Topology, name: string): TopologyServer {
  const s = t.servers.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no server "${name}" in this topology`);
  return s;
}

/** A server's whole config, built block by block. */
export function natsServerConfig(input: NatsConfInput): ConfBlock {
  if (!atLeast(input.version, OLDEST_SUPPORTED))
    throw new Error(`nats-server ${input.version} is older than ${OLDEST_SUPPORTED}, the oldest line supported`);
  const s = find(input.topology, input.server);
  const config: ConfBlock = { ...serverBlock(input, s), ...accountsBlock(input) };
  const jetstream = jetstreamBlock(input, s);
  if (jetstream !== undefined) config.jetstream = jetstream;
  const cluster = clusterBlock(input, s);
  if (cluster !== undefined) config.cluster = cluster;
  const leafnodes = leafnodesBlock(input, s);
  if (leafnodes !== undefined) config.leafnodes = leafnodes;
  return config;
}

const bindOf = (input: NatsConfInput, s: TopologyServer): string => input.bindHost ?? s.host;

/** `advertise` for a listener, when listeners bind all addresses. */
const advertised = (input: NatsConfInput, s: TopologyServer, port: number | undefined): ConfBlock =>
  input.advertise === true ? { advertise: `${s.host}:${String(port)}` } : {};

/** Who the server is, where it listens, and the limits every server has. */
function serverBlock(input: NatsConfInput, s: TopologyServer): ConfBlock {
  const plan = input.topology.plan;
  const bind = bindOf(input, s);
  return {
    server_name: s.name,
    listen: `${bind}:${String(s.ports.client)}`,
    ...(input.advertise === true ? { client_advertise: `${s.host}:${String(s.ports.client)}` } : {}),
    // Clients verify the server; a plaintext client is refused.
    tls: tlsBlock(input.auth.tls),
    http: `${bind}:${String(s.ports.monitor)}`,
    ...(input.pidFile === undefined ? {} : { pid_file: input.pidFile }),
    max_connections:
      s.role === "core"
        ? plan.natsServer.maxConnections
        : (plan.leafNode?.maxConnections ?? plan.natsServer.maxConnections),
    max_payload: plan.natsServer.maxPayloadBytes,
    write_deadline: seconds(plan.natsServer.writeDeadlineSeconds),
    lame_duck_duration: seconds(plan.natsServer.lameDuckDurationSeconds),
    lame_duck_grace_period: seconds(plan.natsServer.lameDuckGracePeriodSeconds),
    ...(input.serverTags === undefined || input.serverTags.length === 0 ? {} : { server_tags: input.serverTags }),
  };
}

/**
 * Operator mode: the one operator every server trusts, and the accounts' JWTs held in memory
 * (`MEMORY` resolver, preloaded from this file). Users are not listed: a client proves a JWT an
 * account (or the peels' issuer) signed. A change to an account (a revoked peel) is a reload:
 * on SIGHUP the server applies every preloaded account again and disconnects revoked users.
 */
function accountsBlock(input: NatsConfInput): ConfBlock {
  const { identities } = input.auth;
  const accounts = Object.values(identities.accounts);
  return {
    operator: identities.operator,
    system_account: identities.accounts.system.key,
    resolver: "MEMORY",
    resolver_preload: Object.fromEntries(accounts.map((a) => [a.key, a.jwt])),
  };
}

function jetstreamBlock(input: NatsConfInput, s: TopologyServer): ConfBlock | undefined {
  const t = input.topology;
  if (s.role !== "core" || !s.jetstream) return undefined;
  const js = t.plan.natsServer.jetstream;
  const sync = syncIntervalFor(t);
  return {
    store_dir: input.storeDir,
    max_memory_store: js.maxMemStoreBytes,
    max_file_store: js.maxFileStoreBytes,
    ...(s.domain === undefined ? {} : { domain: s.domain }),
    ...(input.uniqueTagPrefix === undefined ? {} : { unique_tag: input.uniqueTagPrefix }),
    ...(sync !== undefined && atLeast(input.version, KEY_SINCE["jetstream.sync_interval"] ?? "")
      ? { sync_interval: sync }
      : {}),
    ...(js.maxAckPending === undefined && js.duplicateWindowSeconds === undefined
      ? {}
      : {
          limits: {
            ...(js.maxAckPending === undefined ? {} : { max_ack_pending: js.maxAckPending }),
            ...(js.duplicateWindowSeconds === undefined
              ? {}
              : { duplicate_window: seconds(js.duplicateWindowSeconds) }),
          },
        }),
  };
}

/** Routes: mutual TLS, and only a certificate with the route subject (a core server's) is accepted. */
function clusterBlock(input: NatsConfInput, s: TopologyServer): ConfBlock | undefined {
  const t = input.topology;
  const cluster = t.clusters.find((c) => c.name === s.cluster);
  if (cluster === undefined || cluster.servers.length <= 1) return undefined;
  return {
    name: cluster.name,
    listen: `${bindOf(input, s)}:${String(s.ports.cluster)}`,
    ...advertised(input, s, s.ports.cluster),
    tls: tlsBlock(input.auth.tls, "map"),
    authorization: { user: CERT_SUBJECTS.route },
    routes: cluster.servers
      .slice(0, ROUTE_SEEDS)
      .filter((n) => n !== s.name)
      .map((n) => {
        return endpoint(find(t, n), "route");
      }),
  };
}

/**
 * Leaf connections come in over mutual TLS with a certificate of the stack's CA, as a link user
 * (its JWT says which account and what it may do); a leaf server or a region's core solicits its
 * hub with its link certificate and the link's credentials.
 */
function leafnodesBlock(input: NatsConfInput, s: TopologyServer): ConfBlock | undefined {
  const leafnodes: ConfBlock = {};
  if (s.ports.leafnode !== undefined) {
    leafnodes.listen = `${bindOf(input, s)}:${String(s.ports.leafnode)}`;
    Object.assign(leafnodes, advertised(input, s, s.ports.leafnode));
    leafnodes.tls = tlsBlock(input.auth.tls, "verify");
  }
  const remotes = leafRemotes(input, s);
  if (remotes.length > 0) leafnodes.remotes = remotes;
  return Object.keys(leafnodes).length > 0 ? leafnodes : undefined;
}

/** Leaf servers connect to their site's hub; a supercluster's other regions to the hub region. */
function leafRemotes(input: NatsConfInput, s: TopologyServer): ConfBlock[] {
  const { topology: t, auth } = input;
  const hubCluster =
    s.role === "leaf"
      ? t.leafSites.find((site) => site.name === s.site && site.region === s.region)?.hub
      : t.clusters.find((c) => c.region === t.regionLinks.find((l) => l.region === s.region)?.hub)?.name;
  const hub = t.clusters.find((c) => c.name === hubCluster);
  if (hub === undefined) return [];
  const link = linkOf(t, s);
  const { linkCertFile, linkKeyFile, linkCredsFile } = auth.tls;
  if (linkCertFile === undefined || linkKeyFile === undefined || linkCredsFile === undefined || link === undefined)
    throw new Error(
      `${s.name} connects to its hub with the ${link ?? "link"} certificate and credentials; its files name none`,
    );
  const tls = {
    cert_file: linkCertFile,
    key_file: linkKeyFile,
    ca_file: auth.tls.caFile,
    timeout: TLS_TIMEOUT_SECONDS,
  };
  // A leaf site's servers carry its peels (the peels' account); another region's core, the app's.
  const account = auth.identities.accounts[s.role === "leaf" ? "peels" : "app"].key;
  const urls =
    s.role === "core" && input.hubLeafHost !== undefined
      ? [url("nats-leaf", input.hubLeafHost, STANDARD_PORTS.leafnode)]
      : hub.servers.slice(0, ROUTE_SEEDS).map((n) => {
          return endpoint(find(t, n), "leaf");
        });
  return [{ urls, account, credentials: linkCredsFile, tls }];
}

export function renderNatsServerConf(input: NatsConfInput): string {
  return serializeNatsConf(natsServerConfig(input), [
    `nats-server.conf for ${input.server} (${input.topology.tier} tier), rendered by zester-infra for nats-server ${input.version}.`,
  ]);
}
