/**
 * `#cloud-config` for one server: writes the rendered files, applies sysctl, enables the units.
 * The pinned binaries are installed (checksum checked before anything runs) by `zester-apply`,
 * which also re-applies changed user data on every later boot (see apply-config.ts).
 */
import { stringify } from "yaml";
import type { Topology } from "../types";
import { USERS, type Secrets } from "../auth";
import { renderNatsServerConf } from "./nats-server-conf";
import { DEFAULT_UNIT_PATHS, natsServerUnit, sysctlFile, zesterUnit } from "./systemd";
import { masterConfig } from "./zester-config";
import { APPLY_SCRIPT, APPLY_UNIT, applyScript, applyUnit, PINS_FILE, pinsFile, type BinaryPin } from "./apply-config";
import { DATA_DISK_SCRIPT, DATA_DISK_UNIT, dataDiskScript, dataDiskUnit, type DataDiskKind } from "./data-disk";

export interface PinnedDownload {
  url: string;
  /** Hex SHA-256 of the file at `url`. */
  sha256: string;
}

export interface CloudInitInput {
  topology: Topology;
  server: string;
  /** The version the nats-server.conf is rendered for (that of `natsServer`). */
  natsVersion: string;
  /** A release tarball holding `nats-server` (NATS's `nats-server-vX-linux-ARCH.tar.gz`). */
  natsServer: PinnedDownload;
  /** The Zester master binary, installed and started on core servers when given. */
  zesterMaster?: PinnedDownload;
  secrets: Secrets;
  /** A separate JetStream disk, prepared and mounted at STORE_DIR on every boot. @default none (root disk) */
  dataDisk?: { kind: DataDiskKind; disks: number };
  /** nats-server placement tags and the prefix replicas must differ in (see NatsConfInput). */
  serverTags?: string[];
  uniqueTagPrefix?: string;
}

export const STORE_DIR = "/var/lib/nats/jetstream";

export function checkPin(what: string, pin: PinnedDownload): void {
  if (!/^https:\/\/\S+$/.test(pin.url))
    throw new Error(`${what}.url must be an https:// URL; got ${JSON.stringify(pin.url)}`);
  if (!/^[0-9a-f]{64}$/.test(pin.sha256))
    throw new Error(`${what}.sha256 must be 64 lowercase hex digits; got ${JSON.stringify(pin.sha256)}`);
}

/** A shell line that downloads, checks the checksum, and only then installs. */
export function installCommand(pin: PinnedDownload, file: string, extract: string): string {
  return `set -eu; curl -fsSL --retry 5 -o ${file} '${pin.url}'; echo '${pin.sha256}  ${file}' | sha256sum -c -; ${extract}`;
}

export function renderCloudInit(input: CloudInitInput): string {
  const { topology: t, secrets } = input;
  const s = t.servers.find((x) => x.name === input.server);
  if (s === undefined) throw new Error(`no server "${input.server}" in this topology`);
  checkPin("natsServer", input.natsServer);
  if (input.zesterMaster !== undefined) checkPin("zesterMaster", input.zesterMaster);
  const p = DEFAULT_UNIT_PATHS;
  const limitNofile =
    s.role === "core" ? t.plan.os.limitNofile : (t.plan.leafNode?.limitNofile ?? t.plan.os.limitNofile);
  const withMaster = s.role === "core" && input.zesterMaster !== undefined;
  const sysctl = sysctlFile(t.plan);
  const disk = input.dataDisk;
  const owned = (path: string, content: string, permissions = "0644", owner = "root:root") => ({
    path,
    content,
    permissions,
    owner,
    defer: true,
  });

  const files = [
    owned(
      p.natsConf,
      renderNatsServerConf({
        topology: t,
        server: s.name,
        version: input.natsVersion,
        storeDir: STORE_DIR,
        secrets,
        ...(input.serverTags === undefined ? {} : { serverTags: input.serverTags }),
        ...(input.uniqueTagPrefix === undefined ? {} : { uniqueTagPrefix: input.uniqueTagPrefix }),
      }),
      "0640",
      `root:${p.user}`,
    ),
    owned("/etc/systemd/system/nats-server.service", natsServerUnit(t.plan, limitNofile)),
    ...(sysctl === undefined ? [] : [owned("/etc/sysctl.d/99-zester.conf", sysctl)]),
    ...(disk === undefined
      ? []
      : [
          owned(DATA_DISK_SCRIPT, dataDiskScript(disk.kind, disk.disks, STORE_DIR, p.user), "0755"),
          owned(`/etc/systemd/system/${DATA_DISK_UNIT}`, dataDiskUnit(STORE_DIR)),
        ]),
    ...(withMaster
      ? [
          owned(
            `${p.zesterConfigDir}/master.yaml`,
            masterConfig(t, s.name, { user: USERS.app, password: secrets.app }),
            "0600",
          ),
          owned("/etc/systemd/system/zester-master.service", zesterUnit("master", t.plan)),
        ]
      : []),
  ];
  const pins: Record<string, BinaryPin> = {
    "nats-server": { ...input.natsServer, dest: p.natsServerBin, member: "nats-server" },
    ...(withMaster && input.zesterMaster !== undefined
      ? { "zester-master": { ...input.zesterMaster, dest: p.zesterMasterBin } }
      : {}),
  };
  files.push(
    owned(PINS_FILE, pinsFile(pins)),
    owned(APPLY_SCRIPT, applyScript(), "0755"),
    owned(`/etc/systemd/system/${APPLY_UNIT}`, applyUnit()),
  );
  const runcmd: (string | string[])[] = [
    ["systemctl", "daemon-reload"],
    // Installs the pinned binaries now, and brings the server to its user data on every boot.
    ["systemctl", "enable", "--now", APPLY_UNIT],
    ...(disk === undefined ? [] : [["systemctl", "enable", "--now", DATA_DISK_UNIT]]),
    ["install", "-d", "-o", p.user, "-g", p.user, "-m", "0750", STORE_DIR],
    ...(sysctl === undefined ? [] : [["sysctl", "--system"]]),
    ["systemctl", "enable", "--now", "nats-server.service"],
    ...(withMaster ? [["systemctl", "enable", "--now", "zester-master.service"]] : []),
  ];
  const config = {
    users: ["default", { name: p.user, system: true, shell: "/usr/sbin/nologin", homedir: "/var/lib/nats" }],
    packages: [
      "python3-yaml",
      ...(disk === undefined ? [] : ["xfsprogs"]),
      ...(disk !== undefined && disk.disks > 1 ? ["mdadm"] : []),
    ],
    write_files: files,
    runcmd,
  };
  // Literal blocks keep every rendered file byte for byte as the renderer wrote it.
  return `#cloud-config\n# ${s.name} (${t.tier} tier), rendered by zester-infra\n${stringify(config, { blockQuote: "literal", lineWidth: 0 })}`;
}
