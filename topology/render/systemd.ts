/**
 * systemd units for nats-server, zester-master and zester-peel, built as data and written by
 * one INI writer. nats-server stops through lame duck (KillSignal=SIGUSR2), never a plain kill.
 */
import type { SizingPlan } from "../../sizing/types";
import type { ZesterKind } from "../types";
import { ZESTER_CONFIG_FLAG } from "./zester-config";

type Section = Record<string, string | number | string[]>;
export type Unit = Partial<Record<"Unit" | "Service" | "Timer" | "Install", Section>>;

export function serializeUnit(unit: Unit, header: string): string {
  const lines = [`# ${header}`];
  for (const [name, section] of Object.entries(unit)) {
    lines.push("", `[${name}]`);
    for (const [key, value] of Object.entries(section)) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}=${String(v)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export interface UnitPaths {
  natsServerBin: string;
  natsConf: string;
  zesterMasterBin: string;
  zesterPeelBin: string;
  zesterConfigDir: string;
  user: string;
}

export const DEFAULT_UNIT_PATHS: UnitPaths = {
  natsServerBin: "/usr/local/bin/nats-server",
  natsConf: "/etc/nats/nats-server.conf",
  zesterMasterBin: "/usr/local/bin/zester-master",
  zesterPeelBin: "/usr/local/bin/zester-peel",
  zesterConfigDir: "/etc/zester",
  user: "nats",
};

/** `limitNofile` is the server's own (core and leaf servers differ). */
export function natsServerUnit(plan: SizingPlan, limitNofile: number, paths: UnitPaths = DEFAULT_UNIT_PATHS): string {
  const stopSeconds = plan.natsServer.lameDuckDurationSeconds + plan.natsServer.lameDuckGracePeriodSeconds + 30;
  return serializeUnit(
    {
      Unit: {
        Description: "NATS server (zester-infra)",
        After: "network-online.target",
        Wants: "network-online.target",
      },
      Service: {
        Type: "simple",
        User: paths.user,
        Group: paths.user,
        ExecStart: `${paths.natsServerBin} -c ${paths.natsConf}`,
        ExecReload: "/bin/kill -s HUP $MAINPID",
        // Lame duck: leaders hand off and clients move gradually before the server exits.
        KillSignal: "SIGUSR2",
        TimeoutStopSec: stopSeconds,
        LimitNOFILE: limitNofile,
        Restart: "on-failure",
        RestartSec: 5,
      },
      Install: { WantedBy: "multi-user.target" },
    },
    `nats-server.service, rendered by zester-infra (${plan.tier} tier)`,
  );
}

export function zesterUnit(kind: ZesterKind, plan: SizingPlan, paths: UnitPaths = DEFAULT_UNIT_PATHS): string {
  const master = kind === "master";
  return serializeUnit(
    {
      Unit: {
        Description: `Zester ${kind} (zester-infra)`,
        After: master ? ["network-online.target", "nats-server.service"] : ["network-online.target"],
        Wants: "network-online.target",
      },
      Service: {
        Type: "simple",
        ExecStart: `${master ? paths.zesterMasterBin : paths.zesterPeelBin} ${ZESTER_CONFIG_FLAG} ${paths.zesterConfigDir}/${kind}.yaml`,
        // The client's drain timeout, plus a margin, before systemd kills it.
        TimeoutStopSec: plan.client[kind].drainTimeoutSeconds + 15,
        Restart: "always",
        RestartSec: 5,
      },
      Install: { WantedBy: "multi-user.target" },
    },
    `zester-${kind}.service, rendered by zester-infra (${plan.tier} tier)`,
  );
}

/** `/etc/sysctl.d/99-zester.conf`; undefined below the tier where the guide tunes the kernel. */
export function sysctlFile(plan: SizingPlan): string | undefined {
  const entries = Object.entries(plan.os.sysctl);
  if (entries.length === 0) return undefined;
  return [
    `# /etc/sysctl.d/99-zester.conf, rendered by zester-infra (${plan.tier} tier); applied with sysctl --system`,
    ...entries.map(([k, v]) => `${k} = ${v}`),
    "",
  ].join("\n");
}
