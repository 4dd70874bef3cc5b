/**
 * A peel host's `#cloud-config`: the rendered peel config, the stack's CA, its systemd unit, and
 * (when the binary is pinned) the install of `zester-peel` with its checksum checked; with one
 * peel's credentials, those too, and nothing of any other peel. Peels run on the operator's
 * hosts; targets hand this out as user data or a cloud-init part.
 */
import { stringify } from "yaml";
import type { Topology } from "../types";
import { checkPeelId } from "../auth";
import { checkPin, installCommand, type PinnedDownload } from "./pins";
import { DEFAULT_UNIT_PATHS, zesterUnit } from "./systemd";
import { peelConfig, type ZesterCredentials } from "./zester-config";

/** Where a peel host keeps its own credentials and the stack's CA. */
export const PEEL_CREDENTIALS: ZesterCredentials = {
  credsFile: `${DEFAULT_UNIT_PATHS.zesterConfigDir}/peel.creds`,
  caFile: `${DEFAULT_UNIT_PATHS.zesterConfigDir}/ca.pem`,
};

export interface PeelBootstrapInput {
  topology: Topology;
  region: string;
  /** Peels of a leaf site connect to its leaf servers first. */
  site?: string;
  /** The stack's CA (PEM): the peel verifies the servers by it. */
  ca: string;
  /**
   * One peel's own identity: its id and its `.creds` (issued at its enrollment), written next to
   * the config. The bootstrap then holds that peel's secret, and only that: hand it to that
   * peel's host alone.
   * @default none: enrollment puts the peel's credentials at PEEL_CREDENTIALS.credsFile
   */
  peel?: { id: string; creds: string };
  /** The URLs peels connect to. @default the servers' own (see peelConfig) */
  servers?: string[];
  /** @default none: the bootstrap expects zester-peel to be installed already */
  zesterPeel?: PinnedDownload;
}

export function renderPeelBootstrap(input: PeelBootstrapInput): string {
  const p = DEFAULT_UNIT_PATHS;
  if (input.zesterPeel !== undefined) checkPin("zesterPeel", input.zesterPeel);
  if (input.peel !== undefined) checkPeelId(input.peel.id);
  const config = {
    write_files: [
      {
        path: `${p.zesterConfigDir}/peel.yaml`,
        content: peelConfig(
          input.topology,
          { region: input.region, ...(input.site === undefined ? {} : { site: input.site }) },
          PEEL_CREDENTIALS,
          input.servers,
          input.peel?.id,
        ),
        permissions: "0600",
        owner: "root:root",
      },
      ...(input.peel === undefined
        ? []
        : [{ path: PEEL_CREDENTIALS.credsFile, content: input.peel.creds, permissions: "0600", owner: "root:root" }]),
      { path: PEEL_CREDENTIALS.caFile, content: input.ca, permissions: "0644", owner: "root:root" },
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
  const where = [
    input.site === undefined ? `region ${input.region}` : `leaf site ${input.site}`,
    ...(input.peel === undefined ? [] : [`peel ${input.peel.id}`]),
  ].join(", ");
  return `#cloud-config\n# Zester peel bootstrap (${where}, ${input.topology.tier} tier), rendered by zester-infra\n${stringify(config, { blockQuote: "literal", lineWidth: 0 })}`;
}
