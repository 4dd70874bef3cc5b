/**
 * A cloud server's user data: a `#cloud-config` that only installs the agent (`zester-apply`),
 * tells it where the server's configuration is kept, and prepares the JetStream data disk. It
 * holds no secret and nothing that follows the peel count, so it changes only when the agent or
 * the disk does: an instance is never stopped to change its config. The agent applies the rest
 * (see components/aws/zester-apply.py) at every boot, before nats-server, and every 30 seconds.
 */
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import { DATA_DISK_SCRIPT, DATA_DISK_UNIT, dataDiskScript, dataDiskUnit, type DataDiskKind } from "./data-disk";
import { STORE_DIR } from "./server-files";
import { DEFAULT_UNIT_PATHS, serializeUnit } from "./systemd";

export const AGENT_SCRIPT = "/usr/local/sbin/zester-apply";
export const AGENT_CONFIG = "/etc/zester/agent.json";
export const AGENT_UNIT = "zester-apply.service";
export const AGENT_TIMER = "zester-apply.timer";
/** How often a running server looks for a changed configuration. */
export const AGENT_INTERVAL_SECONDS = 30;

/** Where the agent finds the server's configuration. */
export interface AgentConfig {
  /** The AWS region of the parameter store. */
  region: string;
  /** The path every parameter of this server is under, ending in `/`. */
  path: string;
}

export interface BootstrapInput {
  server: string;
  tier: string;
  /** The agent's program (components/aws/zester-apply.py). */
  agentScript: string;
  agent: AgentConfig;
  /** A separate JetStream disk, prepared and mounted at STORE_DIR on every boot. @default none (root disk) */
  dataDisk?: { kind: DataDiskKind; disks: number };
}

export function agentUnit(): string {
  return serializeUnit(
    {
      Unit: {
        Description: "Bring this server to its configuration in the parameter store (zester-infra)",
        After: "network-online.target",
        Wants: "network-online.target",
        Before: ["nats-server.service", "zester-master.service"],
      },
      Service: { Type: "oneshot", ExecStart: AGENT_SCRIPT, TimeoutStartSec: 900 },
      // Wanted, not required: if the parameter store cannot be read, the server starts with what it has.
      Install: { WantedBy: "multi-user.target" },
    },
    `${AGENT_UNIT}, rendered by zester-infra`,
  );
}

export function agentTimer(): string {
  return serializeUnit(
    {
      Unit: { Description: "Look for a changed configuration every 30 seconds (zester-infra)" },
      Timer: { OnBootSec: AGENT_INTERVAL_SECONDS, OnUnitInactiveSec: AGENT_INTERVAL_SECONDS },
      Install: { WantedBy: "timers.target" },
    },
    `${AGENT_TIMER}, rendered by zester-infra`,
  );
}

export function renderBootstrap(input: BootstrapInput): string {
  const p = DEFAULT_UNIT_PATHS;
  const disk = input.dataDisk;
  const file = (path: string, content: string, permissions = "0644") => ({
    path,
    content,
    permissions,
    owner: "root:root",
    defer: true,
  });
  // The agent is most of the user data; gzipped, the whole stays far below EC2's 16 KB.
  const gzipped = (path: string, content: string, permissions: string) => ({
    ...file(path, gzipSync(content).toString("base64"), permissions),
    encoding: "gz+b64",
  });
  const config = {
    users: ["default", { name: p.user, system: true, shell: "/usr/sbin/nologin", homedir: "/var/lib/nats" }],
    ...(disk === undefined ? {} : { packages: ["xfsprogs", ...(disk.disks > 1 ? ["mdadm"] : [])] }),
    write_files: [
      gzipped(AGENT_SCRIPT, input.agentScript, "0755"),
      file(AGENT_CONFIG, `${JSON.stringify(input.agent, null, 2)}\n`),
      file(`/etc/systemd/system/${AGENT_UNIT}`, agentUnit()),
      file(`/etc/systemd/system/${AGENT_TIMER}`, agentTimer()),
      ...(disk === undefined
        ? []
        : [
            file(DATA_DISK_SCRIPT, dataDiskScript(disk.kind, disk.disks, STORE_DIR, p.user), "0755"),
            file(`/etc/systemd/system/${DATA_DISK_UNIT}`, dataDiskUnit(STORE_DIR)),
          ]),
    ],
    runcmd: [
      ["systemctl", "daemon-reload"],
      ...(disk === undefined ? [] : [["systemctl", "enable", "--now", DATA_DISK_UNIT]]),
      ["install", "-d", "-o", p.user, "-g", p.user, "-m", "0750", STORE_DIR],
      // Installs the pinned binaries and the server's files, then starts nats-server.
      ["systemctl", "enable", "--now", AGENT_UNIT],
      ["systemctl", "enable", "--now", AGENT_TIMER],
    ],
  };
  // Literal blocks keep every file byte for byte as it was rendered.
  return `#cloud-config\n# ${input.server} (${input.tier} tier), rendered by zester-infra\n${stringify(config, { blockQuote: "literal", lineWidth: 0 })}`;
}
