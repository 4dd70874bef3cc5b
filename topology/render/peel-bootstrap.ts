/**
 * A peel host's `#cloud-config`: the rendered peel config, its systemd unit, and (when the
 * binary is pinned) the install of `zester-peel` with its checksum checked. Peels run on the
 * operator's hosts; targets hand this out as user data or a cloud-init part.
 */
import { stringify } from "yaml";
import type { Topology } from "../types";
import { checkPin, installCommand, type PinnedDownload } from "./pins";
import { DEFAULT_UNIT_PATHS, zesterUnit } from "./systemd";
import { peelConfig, type ZesterCredentials } from "./zester-config";
import type { ClientAuth } from "../auth";

/** Where a peel host keeps its identity's seed and the stack's CA. */
export const PEEL_CREDENTIALS: ZesterCredentials = {
  nkeyFile: `${DEFAULT_UNIT_PATHS.zesterConfigDir}/peel.nk`,
  caFile: `${DEFAULT_UNIT_PATHS.zesterConfigDir}/ca.pem`,
};

export interface PeelBootstrapInput {
  topology: Topology;
  region: string;
  /** Peels of a leaf site connect to its leaf servers first. */
  site?: string;
  /**
   * The peel identity's NKey seed and the stack's CA (PEM), written next to the config. The
   * bootstrap then holds a secret: targets hand it out as a secret output only.
   */
  credentials: ClientAuth;
  /** The URLs peels connect to. @default the servers' own (see peelConfig) */
  servers?: string[];
  /** @default none: the bootstrap expects zester-peel to be installed already */
  zesterPeel?: PinnedDownload;
}

export function renderPeelBootstrap(input: PeelBootstrapInput): string {
  const p = DEFAULT_UNIT_PATHS;
  if (input.zesterPeel !== undefined) checkPin("zesterPeel", input.zesterPeel);
  const config = {
    write_files: [
      {
        path: `${p.zesterConfigDir}/peel.yaml`,
        content: peelConfig(
          input.topology,
          { region: input.region, ...(input.site === undefined ? {} : { site: input.site }) },
          PEEL_CREDENTIALS,
          input.servers,
        ),
        permissions: "0600",
        owner: "root:root",
      },
      {
        path: PEEL_CREDENTIALS.nkeyFile,
        content: `${input.credentials.seed}\n`,
        permissions: "0600",
        owner: "root:root",
      },
      { path: PEEL_CREDENTIALS.caFile, content: input.credentials.ca, permissions: "0644", owner: "root:root" },
      {
        path: "/etc/systemd/system/zester-peel.service",
        content: zesterUnit("peel", input.topology.plan),
        permissions: "0644",
        owner: "root:root",
      },
    ],
    runcmd: [
      ...(input.zesterPeel === undefined
        ? []
        : [
            [
              "sh",
              "-c",
              installCommand(
                input.zesterPeel,
                "/tmp/zester-peel",
                `install -m 0755 /tmp/zester-peel ${p.zesterPeelBin}`,
              ),
            ],
          ]),
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "zester-peel.service"],
    ],
  };
  const where = input.site === undefined ? `region ${input.region}` : `leaf site ${input.site}`;
  return `#cloud-config\n# Zester peel bootstrap (${where}, ${input.topology.tier} tier), rendered by zester-infra\n${stringify(config, { blockQuote: "literal", lineWidth: 0 })}`;
}
