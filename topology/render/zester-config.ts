/**
 * Zester master and peel config YAML. Zester's schema is only partly documented (the guide shows
 * `nats.listen` and `nats.leaf_node.remotes`); every key assumed beyond that is in ZESTER_KEYS,
 * so adapting to the real schema is a change in one place.
 */
import { stringify } from "yaml";
import type { ClientSettings } from "../../sizing/types";
import { inboxPrefix } from "../auth";
import { clientUrl, type Topology } from "../types";

/** Every Zester config key this renderer writes, and whether the guide documents it. */
export const ZESTER_KEYS = {
  servers: { key: "servers", documented: false },
  inboxPrefix: { key: "inbox_prefix", documented: false },
  peelIssuer: { key: "peel_issuer", documented: false },
  tls: { key: "tls", documented: false },
  caFile: { key: "ca_file", documented: false },
  jetstreamDomain: { key: "jetstream_domain", documented: false },
  client: { key: "client", documented: false },
  listen: { key: "listen", documented: true },
  leafNode: { key: "leaf_node", documented: true },
  remotes: { key: "remotes", documented: true },
  url: { key: "url", documented: true },
  credentials: { key: "credentials", documented: true },
} as const;

/** How a Zester binary is told where its config is (assumed; the guide does not say). */
export const ZESTER_CONFIG_FLAG = "--config";

/** Zester's `ClientConfig` fields as YAML keys (guide §6 names them in Go). */
function clientBlock(c: ClientSettings): Record<string, number | string> {
  return {
    max_reconnects: c.maxReconnects,
    reconnect_wait: `${c.reconnectWaitSeconds}s`,
    reconnect_jitter: `${c.reconnectJitterSeconds}s`,
    reconnect_buf_size: c.reconnectBufSizeBytes,
    ping_interval: `${c.pingIntervalSeconds}s`,
    max_pings_out: c.maxPingsOut,
    drain_timeout: `${c.drainTimeoutSeconds}s`,
    ack_timeout: `${c.ackTimeoutSeconds}s`,
    publish_attempts: c.publishAttempts,
  };
}

const K = ZESTER_KEYS;

/**
 * How a Zester process authenticates: its `.creds` file (its identity's JWT and seed; the key
 * the guide's leaf-node example uses), and the CA file it verifies the servers' certificates by
 * (the servers refuse plaintext clients).
 */
export interface ZesterCredentials {
  credsFile: string;
  caFile: string;
  /** The master only: the peels' issuer's seed, which it signs each peel's identity with at enrollment. */
  peelIssuerFile?: string;
}

/**
 * Its credentials, and the inbox prefix its identity may subscribe to (`_INBOX.<name>`, the
 * only inbox its permissions allow: replies come back there, auth.ts); a peel's name is its id.
 */
const credentialKeys = (creds: ZesterCredentials, identity: string | undefined) => ({
  [K.credentials.key]: creds.credsFile,
  ...(identity === undefined ? {} : { [K.inboxPrefix.key]: inboxPrefix(identity) }),
  ...(creds.peelIssuerFile === undefined ? {} : { [K.peelIssuer.key]: creds.peelIssuerFile }),
  [K.tls.key]: { [K.caFile.key]: creds.caFile },
});

/** A master runs next to every core server and talks to its own cluster, its own server first. */
export function masterConfig(t: Topology, server: string, creds: ZesterCredentials): string {
  const s = t.servers.find((x) => x.name === server && x.role === "core");
  if (s === undefined) throw new Error(`no core server "${server}"`);
  const cluster = t.servers.filter((x) => x.cluster === s.cluster && x.name !== s.name);
  return stringify({
    nats: {
      [K.servers.key]: [clientUrl(s), ...cluster.map(clientUrl)],
      ...credentialKeys(creds, "master"),
      [K.jetstreamDomain.key]: s.domain,
      [K.client.key]: clientBlock(t.plan.client.master),
    },
  });
}

/**
 * A peel of a leaf site connects to the site's leaf servers; one of the core connects to the
 * core. Either way the core's servers come last, as a fallback (the plan sizes the core for it).
 * `servers` replaces those URLs where peels reach the servers by other names (a load balancer,
 * addresses that resolve outside the servers' network). `peel` is its id when known; a config
 * rendered before enrollment has none, and the peel takes its inbox prefix from the name in the
 * credentials enrollment gives it.
 */
export function peelConfig(
  t: Topology,
  where: { region: string; site?: string },
  creds: ZesterCredentials,
  servers?: string[],
  peel?: string,
): string {
  const core = t.servers.filter((x) => x.role === "core" && x.region === where.region);
  const site =
    where.site === undefined
      ? []
      : t.servers.filter((x) => x.role === "leaf" && x.region === where.region && x.site === where.site);
  if (where.site !== undefined && site.length === 0)
    throw new Error(`no leaf site "${where.site}" in region "${where.region}"`);
  return stringify({
    nats: {
      [K.servers.key]: servers ?? [...site, ...core].map(clientUrl),
      ...credentialKeys(creds, peel),
      [K.jetstreamDomain.key]: core[0]?.domain,
      [K.client.key]: clientBlock(t.plan.client.peel),
    },
  });
}

/** The guide's leaf-node example: Zester's own config on a leaf server, with its remotes. */
export function leafNodeConfig(t: Topology, server: string, credentialsFile: string): string {
  const s = t.servers.find((x) => x.name === server && x.role === "leaf");
  if (s === undefined) throw new Error(`no leaf server "${server}"`);
  const hub = t.leafSites.find((x) => x.name === s.site && x.region === s.region)?.hub;
  const hubs = t.servers.filter((x) => x.cluster === hub);
  return stringify({
    nats: {
      [K.listen.key]: `${s.host}:${String(s.ports.client)}`,
      [K.leafNode.key]: {
        // The guide's `tls://` remotes: the same host and port as the hub's `endpoints.leaf`, whose
        // scheme is `nats-leaf://`, so that endpoint is not used as it is.
        [K.remotes.key]: hubs.map((h) => ({
          [K.url.key]: `tls://${h.host}:${String(h.ports.leafnode)}`,
          [K.credentials.key]: credentialsFile,
        })),
      },
    },
  });
}
