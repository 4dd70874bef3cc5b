/**
 * Everything a cloud server runs by, as files: its nats-server.conf and unit, the kernel
 * settings, the Zester master's config and unit, and the pinned binaries. A target delivers them
 * (AWS: SecureString parameters the server's agent applies); what is rendered here never depends
 * on how. Each file says which service it belongs to, and two keys say how a change reaches the
 * running server: `reload` (SIGHUP) or `generation` (a restart, which the server then reports in
 * its `zester-gen:` tag).
 */
import { PLACEHOLDER_IDENTITIES, type ServerIdentities } from "../auth";
import { tlsFilesIn } from "../tls";
import type { Topology, TopologyServer } from "../types";
import { natsServerConfig, type NatsConfInput } from "./nats-server-conf";
import { serializeNatsConf } from "./nats-conf-format";
import { checkPin, type BinaryPin, type PinnedDownload } from "./pins";
import { digest, restartPart } from "./reload";
import { DEFAULT_UNIT_PATHS, natsServerUnit, sysctlFile, zesterUnit } from "./systemd";
import { masterConfig } from "./zester-config";

/** JetStream's store on a cloud server (its data disk is mounted there). */
export const STORE_DIR = "/var/lib/nats/jetstream";
/** A cloud server's TLS files: the CA, its certificate and key, its link certificate and key. */
export const TLS_DIR = "/etc/nats/tls";

/**
 * The secret files a server holds, as PEM, seed or `.creds` text: the CA, its certificate and
 * key, the link certificate, key and credentials it solicits its hub with (leaf servers, other
 * regions' cores), and on core servers running the Zester master the master's credentials and
 * the peels' issuer (the enrollment side's one key: it signs peels and nothing else).
 */
export interface ServerSecretFiles {
  ca: string;
  cert: string;
  key: string;
  linkCert?: string;
  linkKey?: string;
  linkCreds?: string;
  masterCreds?: string;
  peelIssuerSeed?: string;
}

/** Stand-ins for the secret files where the files are only described (the manifest, a deployment record). */
export const PLACEHOLDER_FILES: ServerSecretFiles = {
  ca: "-",
  cert: "-",
  key: "-",
  linkCert: "-",
  linkKey: "-",
  linkCreds: "-",
  masterCreds: "-",
  peelIssuerSeed: "-",
};
/** The server tag that says which restart generation a running nats-server was started with. */
export const GENERATION_TAG = "zester-gen:";

export type Service = "nats-server" | "zester-master" | "zester-peel";

export interface ServerFile {
  /** A short, stable name (the file's key where a target stores it). */
  name: string;
  path: string;
  mode: string;
  owner: string;
  /** The service the file belongs to: a change to it reloads or restarts that service. */
  service?: Service;
  content: string;
}

export interface ServerFiles {
  files: ServerFile[];
  pins: Record<string, BinaryPin>;
  /** The units to run, in order. */
  services: string[];
  /** Digest of what only a restart of nats-server applies (binary, unit, keys it cannot reload). */
  generation: string;
  /** Digest of the whole nats-server.conf: what a reload applies. */
  reload: string;
}

export interface ServerFilesInput {
  topology: Topology;
  server: string;
  /** The version the nats-server.conf is rendered for (that of `natsServer`). */
  natsVersion: string;
  /** A release tarball holding `nats-server` (NATS's `nats-server-vX-linux-ARCH.tar.gz`). */
  natsServer: PinnedDownload;
  /** The Zester master binary, installed and started on core servers when given. */
  zesterMaster?: PinnedDownload;
  /** The operator's and the accounts' JWTs (identities.ts). */
  identities: ServerIdentities;
  /** The server's secret files' contents. */
  secretFiles: ServerSecretFiles;
  /** Placement tags (e.g. `az:eu-west-1a`) and the prefix replicas must differ in. */
  serverTags?: string[];
  uniqueTagPrefix?: string;
  /** Listeners bind here and advertise the server's host name. @default the host name itself */
  bindHost?: string;
}

const owned = (
  name: string,
  path: string,
  content: string,
  service?: Service,
  mode = "0644",
  owner = "root:root",
): ServerFile => ({
  name,
  path,
  mode,
  owner,
  ...(service === undefined ? {} : { service }),
  content,
});

export function serverFiles(input: ServerFilesInput): ServerFiles {
  const { topology: t } = input;
  const s = t.servers.find((x) => x.name === input.server);
  if (s === undefined) throw new Error(`no server "${input.server}" in this topology`);
  checkPin("natsServer", input.natsServer);
  if (input.zesterMaster !== undefined) checkPin("zesterMaster", input.zesterMaster);
  const p = DEFAULT_UNIT_PATHS;
  const unit = natsServerUnit(t.plan, limitNofileOf(t, s));
  const confInput: NatsConfInput = {
    topology: t,
    server: s.name,
    version: input.natsVersion,
    storeDir: STORE_DIR,
    auth: { identities: input.identities, tls: tlsFilesIn(TLS_DIR, t, s) },
    ...(input.uniqueTagPrefix === undefined ? {} : { uniqueTagPrefix: input.uniqueTagPrefix }),
    ...(input.bindHost === undefined ? {} : { bindHost: input.bindHost, advertise: true }),
  };
  const keyed = natsServerConfig({
    ...confInput,
    ...(input.serverTags === undefined ? {} : { serverTags: input.serverTags }),
    auth: { ...confInput.auth, identities: PLACEHOLDER_IDENTITIES },
  });
  const generation = digest(restartPart(keyed), unit, input.natsServer.sha256, input.natsVersion);
  const config = natsServerConfig({
    ...confInput,
    serverTags: [...(input.serverTags ?? []), `${GENERATION_TAG}${generation}`],
  });
  const conf = serializeNatsConf(config, [
    `nats-server.conf for ${s.name} (${t.tier} tier), rendered by zester-infra for nats-server ${input.natsVersion}.`,
  ]);
  const withMaster = s.role === "core" && input.zesterMaster !== undefined;
  const sysctl = sysctlFile(t.plan);
  const files = [
    owned("nats-server.conf", p.natsConf, conf, "nats-server", "0640", `root:${p.user}`),
    ...tlsFiles(t, s, input.secretFiles),
    owned("nats-server.service", "/etc/systemd/system/nats-server.service", unit, "nats-server"),
    ...(sysctl === undefined ? [] : [owned("sysctl.conf", "/etc/sysctl.d/99-zester.conf", sysctl)]),
    ...(withMaster ? masterFiles(t, s, input.secretFiles) : []),
  ];
  return {
    files,
    pins: {
      "nats-server": { ...input.natsServer, dest: p.natsServerBin, member: "nats-server" },
      ...(withMaster && input.zesterMaster !== undefined
        ? { "zester-master": { ...input.zesterMaster, dest: p.zesterMasterBin } }
        : {}),
    },
    services: ["nats-server.service", ...(withMaster ? ["zester-master.service"] : [])],
    generation,
    reload: digest(keyed),
  };
}

/** Where the Zester master finds its identity's credentials and the CA. */
/** A core server's Zester master: its config, its credentials, the peels' issuer, its unit. */
function masterFiles(t: Topology, s: TopologyServer, secret: ServerSecretFiles): ServerFile[] {
  return [
    owned(
      "master.yaml",
      `${DEFAULT_UNIT_PATHS.zesterConfigDir}/master.yaml`,
      masterConfig(t, s.name, MASTER_CREDENTIALS),
      "zester-master",
      "0600",
    ),
    owned(
      "master.creds",
      MASTER_CREDENTIALS.credsFile,
      secret.masterCreds ?? missingSecret("masterCreds", s.name),
      "zester-master",
      "0600",
    ),
    owned(
      "peel-issuer.nk",
      PEEL_ISSUER_FILE,
      `${secret.peelIssuerSeed ?? missingSecret("peelIssuerSeed", s.name)}\n`,
      "zester-master",
      "0600",
    ),
    owned(
      "zester-master.service",
      "/etc/systemd/system/zester-master.service",
      zesterUnit("master", t.plan),
      "zester-master",
    ),
  ];
}

/**
 * Where the enrollment side (the Zester master) finds the peels' issuer: the seed of the scoped
 * key it signs each peel's identity with at enrollment (identities.ts `issuePeel`).
 */
export const PEEL_ISSUER_FILE = `${DEFAULT_UNIT_PATHS.zesterConfigDir}/peel-issuer.nk`;

export const MASTER_CREDENTIALS = {
  credsFile: `${DEFAULT_UNIT_PATHS.zesterConfigDir}/master.creds`,
  caFile: `${TLS_DIR}/ca.pem`,
  peelIssuerFile: PEEL_ISSUER_FILE,
};

/**
 * The TLS files, owned by nats-server's user: a change to one is applied by a reload (nats-server
 * reads certificates again on SIGHUP), so a certificate is rotated without a restart.
 */
function tlsFiles(t: Topology, s: TopologyServer, secret: ServerSecretFiles): ServerFile[] {
  const paths = tlsFilesIn(TLS_DIR, t, s);
  const group = `root:${DEFAULT_UNIT_PATHS.user}`;
  const file = (name: string, path: string, content: string, mode: string) =>
    owned(name, path, content, "nats-server", mode, group);
  return [
    file("ca.pem", paths.caFile, secret.ca, "0644"),
    file("server.pem", paths.certFile, secret.cert, "0644"),
    file("server-key.pem", paths.keyFile, secret.key, "0640"),
    ...(paths.linkCertFile === undefined || paths.linkKeyFile === undefined
      ? []
      : [
          file("link.pem", paths.linkCertFile, secret.linkCert ?? missingSecret("linkCert", s.name), "0644"),
          file("link-key.pem", paths.linkKeyFile, secret.linkKey ?? missingSecret("linkKey", s.name), "0640"),
          file(
            "link.creds",
            paths.linkCredsFile ?? missingSecret("linkCreds", s.name),
            secret.linkCreds ?? missingSecret("linkCreds", s.name),
            "0640",
          ),
        ]),
  ];
}

function missingSecret(what: string, server: string): never {
  throw new Error(`${server} needs its ${what}, which the target did not give`);
}

function limitNofileOf(t: Topology, s: TopologyServer): number {
  return s.role === "core" ? t.plan.os.limitNofile : (t.plan.leafNode?.limitNofile ?? t.plan.os.limitNofile);
}
