/**
 * What each server of a topology on AWS runs by, and what is deployed, as plain data: the files
 * and pins the agent applies (topology/render/server-files.ts), the manifest it reads them by,
 * and the deployment record the next run compares against. Pure: no Pulumi.
 */
import { PLACEHOLDER_IDENTITIES, type ServerIdentities } from "../../topology/auth";
import { ACCOUNTS, type Deployment, type DeployedServer } from "../../change/deployment";
import { AGENT_SCRIPT, AGENT_TIMER, AGENT_UNIT, agentTimer, agentUnit } from "../../topology/render/bootstrap";
import { DATA_DISK_SCRIPT, DATA_DISK_UNIT, dataDiskScript, dataDiskUnit } from "../../topology/render/data-disk";
import {
  PLACEHOLDER_FILES,
  serverFiles,
  STORE_DIR,
  type ServerFiles,
  type ServerSecretFiles,
} from "../../topology/render/server-files";
import { DEFAULT_UNIT_PATHS } from "../../topology/render/systemd";
import { monitorUrl, type Topology } from "../../topology/types";
import type { AwsLayout, RegionLayout, ServerLayout } from "./layout";
import { DEFAULT_NATS_SERVER, type AwsTarget } from "./settings";

/** How a file too big for a standard parameter (4 KB) is kept: the agent itself is one. */
export const GZIP = "gzip+base64";
/** Past this, a parameter's value is stored gzipped (the advanced tier holds 8 KB; gzip fits the rest). */
export const PLAIN_PARAMETER_LIMIT = 4_096;
/**
 * The file whose size is known only at deploy: nats-server.conf holds the accounts' JWTs (some
 * 25 KB, ~6 KB gzipped), which the manifest, built before the keys exist, sees as stand-ins.
 */
const DEPLOY_SIZED = "nats-server.conf";

/** The Amazon SSM Agent's unit, when the agent is pinned (Session Manager). */
export const SSM_AGENT_SERVICE = "amazon-ssm-agent.service";

/** Everything listens on all addresses and advertises its DNS name. */
export const BIND_ALL = "0.0.0.0";

/** What the agent reads first: the server's files by name (each its own parameter), its pins, its peers. */
export interface Manifest {
  version: 1;
  generation: string;
  /** The server's place among its peers: restarts go in this order. */
  order: number;
  /** Its own monitoring base URL, where the agent checks that a restart or reload took (a nats-server's). */
  monitor?: string;
  /** Each file's parameter holds its content, gzipped and base64-encoded where `encoding` says so. */
  files: (Omit<ServerFiles["files"][number], "content"> & { encoding?: typeof GZIP })[];
  pins: ServerFiles["pins"];
  services: string[];
  /**
   * The other servers of its cluster (or leaf site). A server restarts only while they are all
   * healthy, and after every one before it that has a restart of its own pending runs it. A peer
   * this update adds (`joining`) is not waited for: it starts after the deployed ones, which would
   * otherwise wait for it for ever.
   */
  peers: { name: string; monitor: string; order: number; generation: string; pending: boolean; joining?: true }[];
}

/** The servers a server takes turns with: its cluster's, or its leaf site's. */
export function peersOf(t: Topology, server: string): string[] {
  const s = t.servers.find((x) => x.name === server);
  if (s === undefined) return [];
  if (s.role === "core") return t.clusters.find((c) => c.name === s.cluster)?.servers ?? [];
  return t.leafSites.find((x) => x.name === s.site && x.region === s.region)?.servers ?? [];
}

/**
 * The server's files: its services' (server-files.ts), and the agent's own and the data disk's,
 * so a new agent or disk script reaches a running server the same way (its user data is read
 * only at launch).
 */
export function filesOf(
  t: Topology,
  layout: AwsLayout,
  s: AwsTarget,
  server: ServerLayout,
  auth: { identities: ServerIdentities; secretFiles: ServerSecretFiles },
  agent: string,
): ServerFiles {
  const services = servicesFiles(t, layout, s, server, auth);
  const storage = server.hardware.storage;
  const system = (name: string, path: string, content: string, mode = "0644") => ({
    name,
    path,
    mode,
    owner: "root:root",
    content,
  });
  const disk =
    storage.kind === "none"
      ? []
      : [
          system(
            "zester-data-disk",
            DATA_DISK_SCRIPT,
            dataDiskScript(
              storage.kind,
              storage.kind === "instance-store" ? storage.disks : 1,
              STORE_DIR,
              DEFAULT_UNIT_PATHS.user,
            ),
            "0755",
          ),
          system(DATA_DISK_UNIT, `/etc/systemd/system/${DATA_DISK_UNIT}`, dataDiskUnit(STORE_DIR)),
        ];
  const ssmAgent = s.ssmAgent;
  return {
    ...services,
    pins: {
      ...services.pins,
      ...(ssmAgent === undefined
        ? {}
        : { "amazon-ssm-agent": { ...ssmAgent, dest: "/var/lib/zester/amazon-ssm-agent.deb", package: true } }),
    },
    services: [...services.services, ...(ssmAgent === undefined ? [] : [SSM_AGENT_SERVICE])],
    files: [
      ...services.files,
      system("zester-apply", AGENT_SCRIPT, agent, "0755"),
      system(AGENT_UNIT, `/etc/systemd/system/${AGENT_UNIT}`, agentUnit()),
      system(AGENT_TIMER, `/etc/systemd/system/${AGENT_TIMER}`, agentTimer()),
      ...disk,
    ],
  };
}

function servicesFiles(
  t: Topology,
  layout: AwsLayout,
  s: AwsTarget,
  server: ServerLayout,
  auth: { identities: ServerIdentities; secretFiles: ServerSecretFiles },
): ServerFiles {
  const nats = s.natsServer ?? DEFAULT_NATS_SERVER[layout.arch];
  const clustered = server.role === "core" && peersOf(t, server.name).length > 1;
  return serverFiles({
    topology: t,
    server: server.name,
    natsVersion: nats.version,
    natsServer: { url: nats.url, sha256: nats.sha256 },
    ...(s.zesterMaster === undefined ? {} : { zesterMaster: s.zesterMaster }),
    identities: auth.identities,
    secretFiles: auth.secretFiles,
    bindHost: BIND_ALL,
    ...(clustered ? { serverTags: [`az:${server.az}`], uniqueTagPrefix: "az:" } : {}),
  });
}

/** Stand-ins for the JWTs and secret files: what is deployed is described without them. */
export const NO_SECRETS = { identities: PLACEHOLDER_IDENTITIES, secretFiles: PLACEHOLDER_FILES };

export function awsDeployment(t: Topology, layout: AwsLayout, s: AwsTarget): Deployment {
  const nats = s.natsServer ?? DEFAULT_NATS_SERVER[layout.arch];
  return {
    version: 1,
    target: "aws",
    tier: t.tier,
    peels: t.plan.peels,
    natsVersion: nats.version,
    accounts: ACCOUNTS,
    servers: layout.regions.flatMap((r, index) =>
      r.servers.map((server): DeployedServer => {
        const files = servicesFiles(t, layout, s, server, NO_SECRETS);
        const topo = t.servers.find((x) => x.name === server.name);
        const storage = server.hardware.storage;
        const placement = { [zoneLabel(r.name, index === 0)]: server.az };
        // The instance is an instance-store server's store: a new subnet replaces it, NVMe and all.
        const instancePlacement = { ...placement, [subnetLabel(r.name, index === 0)]: subnetIdentity(r, server) };
        return {
          name: server.name,
          role: server.role,
          region: r.name,
          ...(topo?.cluster === undefined ? {} : { cluster: topo.cluster }),
          ...(server.site === undefined ? {} : { site: server.site }),
          host: server.hardware.instance.name,
          restart: files.generation,
          reload: files.reload,
          ...(storage.kind === "ebs"
            ? {
                data: {
                  kind: "ebs",
                  volume: `${server.name}-data`,
                  detail: `${storage.volumeType} ${String(storage.sizeGiB)} GiB ${String(storage.iops)} IOPS`,
                  sizeGiB: storage.sizeGiB,
                  placement,
                },
              }
            : storage.kind === "instance-store"
              ? {
                  data: {
                    kind: "instance-store",
                    volume: server.name,
                    detail: `${String(storage.disks)} × ${String(storage.totalGB / storage.disks)} GB`,
                    placement: instancePlacement,
                  },
                }
              : {}),
        };
      }),
    ),
  };
}

/** The settings that decide a server's availability zone, in its region (the first, or a later one). */
const zoneLabel = (region: string, first: boolean): string =>
  `availability zone (${first ? "zester:aws.region, zester:aws.network" : `zester:aws.regions.${region}`})`;

const subnetLabel = (region: string, first: boolean): string =>
  `subnet (${first ? "zester:aws.network" : `zester:aws.regions.${region}.network`})`;

/** A server's subnet as the provider tells subnets apart: the operator's by id, ours by name and CIDR. */
function subnetIdentity(r: RegionLayout, server: ServerLayout): string {
  const ref = server.subnet;
  if ("id" in ref) return ref.id;
  const made = r.vpc.kind === "new" ? r.vpc.subnets.find((x) => x.key === ref.key) : undefined;
  return `${ref.key} ${made?.cidr ?? "?"}`;
}

/** The manifest of one server: `previous` says which peers have a restart pending. */
export function manifestOf(
  t: Topology,
  files: ServerFiles,
  server: string,
  generations: Map<string, string>,
  previous: Deployment | undefined,
): Manifest {
  const peers = peersOf(t, server);
  const self = t.servers.find((x) => x.name === server);
  const before = new Map(previous?.servers.map((x) => [x.name, x.restart]) ?? []);
  return {
    version: 1,
    generation: files.generation,
    order: peers.indexOf(server),
    monitor: self === undefined ? "" : monitorUrl(self),
    files: files.files.map(({ content, ...file }) => ({
      ...file,
      ...(content.length > PLAIN_PARAMETER_LIMIT || file.name === DEPLOY_SIZED ? { encoding: GZIP } : {}),
    })),
    pins: files.pins,
    services: files.services,
    peers: peers
      .filter((name) => name !== server)
      .map((name) => {
        const peer = t.servers.find((x) => x.name === name);
        const generation = generations.get(name) ?? "";
        const was = before.get(name);
        return {
          name,
          monitor: peer === undefined ? "" : monitorUrl(peer),
          order: peers.indexOf(name),
          generation,
          pending: was !== undefined && was !== generation,
          ...(previous !== undefined && was === undefined ? { joining: true as const } : {}),
        };
      }),
  };
}
