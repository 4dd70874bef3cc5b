/**
 * Peel hosts for canaries and load tests, one instance each, each a peel with an identity of its
 * own (`canary-<region>-<i>`, issued by the stack): its user data only installs the agent (as a
 * server's does); its config, its own credentials and the CA are SecureString parameters under
 * its own path, which its instance profile alone may read. No secret in user data, and no canary
 * holds another's credentials (an Auto Scaling group's instances are identical, so they could not
 * each hold one).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { renderBootstrap } from "../../topology/render/bootstrap";
import { PEEL_CREDENTIALS } from "../../topology/render/peel-bootstrap";
import { DEFAULT_UNIT_PATHS, zesterUnit } from "../../topology/render/systemd";
import { peelConfig } from "../../topology/render/zester-config";
import type { Children } from "../children";
import type { Manifest } from "./server-config";
import { serverProfile } from "./parameters";
import { securityGroup, type RegionScope, type ServersArgs } from "./scope";
import { parameterPath } from "./target";
import type { AwsLayout } from "./layout";

const CANARY_TYPE = { x86: "t3.micro", arm64: "t4g.micro" } as const;

/** What canary peels are declared with: the servers' (a canary is a peel host run like one), and the region's image. */
export type CanaryArgs = Pick<ServersArgs, "ids" | "topology" | "layout" | "settings" | "agentScript" | "tls"> & {
  ami: pulumi.Input<string>;
  /** Each peel the stack issues credentials to, its `.creds` (the canaries' among them). Secret. */
  creds: pulumi.Output<Record<string, string>>;
};

/** The peel id of a region's `i`-th canary. */
export const canaryPeelId = (region: string, i: number): string => `canary-${region}-${String(i)}`;

/** Every canary's peel id: the stack issues each its credentials. */
export function canaryPeelIds(layout: AwsLayout, canaries: number): string[] {
  return layout.regions.flatMap((r) => Array.from({ length: canaries }, (_, i) => canaryPeelId(r.name, i)));
}

export function canaries(children: Children, region: RegionScope, args: CanaryArgs): void {
  const { settings: s, ids, ami } = args;
  const { r, net, o } = region;
  for (let i = 0; i < s.peelCanaries; i++) {
    const local = `${r.prefix}peel-canary-${String(i)}`;
    const peel = canaryPeelId(r.name, i);
    const creds = args.creds.apply((all) => all[peel] ?? missingCreds(peel));
    canaryParameters(children, region, { local, peel, creds }, args);
    const profile = serverProfile(children, region, { name: local }, { ids, sessionManager: s.ssmAgent !== undefined });
    const userData = renderBootstrap({
      server: local,
      tier: args.topology.tier,
      agentScript: args.agentScript,
      agent: { region: r.awsRegion, path: parameterPath(ids, local) },
    });
    const subnet = r.coreSubnets[i % r.coreSubnets.length] ?? missingSubnet(r.name);
    children.make(local, o, (name, opts) => {
      return new aws.ec2.Instance(
        name,
        {
          ami,
          instanceType: CANARY_TYPE[args.layout.arch],
          subnetId: net.subnetId(subnet),
          vpcSecurityGroupIds: [securityGroup(region, "canary").id],
          iamInstanceProfile: profile.name,
          userData,
          metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
          tags: children.tags({ "zester:role": "peel-canary", "zester:stack": ids.stackId, "zester:peel": peel }),
        },
        { ...opts, ignoreChanges: ["ami"] },
      );
    });
  }
}

/** A canary's manifest and files, as a server's: the agent applies them and starts the peel. */
function canaryParameters(
  children: Children,
  region: RegionScope,
  canary: { local: string; peel: string; creds: pulumi.Output<string> },
  args: CanaryArgs,
): void {
  const { local, peel } = canary;
  const { topology: t, settings: s } = args;
  const path = parameterPath(args.ids, local);
  const p = DEFAULT_UNIT_PATHS;
  const file = (name: string, filePath: string, mode: string, content: pulumi.Input<string>) => ({
    entry: { name, path: filePath, mode, owner: "root:root", service: "zester-peel" as const },
    content,
  });
  const files = [
    file(
      "peel.yaml",
      `${p.zesterConfigDir}/peel.yaml`,
      "0600",
      peelConfig(t, { region: region.r.name }, PEEL_CREDENTIALS, undefined, peel),
    ),
    file("peel.creds", PEEL_CREDENTIALS.credsFile, "0600", canary.creds),
    file("ca.pem", PEEL_CREDENTIALS.caFile, "0644", args.tls.ca),
    file("zester-peel.service", "/etc/systemd/system/zester-peel.service", "0644", zesterUnit("peel", t.plan)),
  ];
  const manifest = {
    version: 1,
    generation: "peel-canary",
    order: 0,
    files: files.map((f) => f.entry),
    pins: s.zesterPeel === undefined ? {} : { "zester-peel": { ...s.zesterPeel, dest: p.zesterPeelBin } },
    services: ["zester-peel.service"],
    peers: [],
  } satisfies Manifest;
  const tags = children.tagged({ "zester:stack": args.ids.stackId, "zester:server": local });
  children.make(`${local}-manifest`, region.o, (name, opts) => {
    return new aws.ssm.Parameter(
      name,
      { name: `${path}manifest`, type: "String", value: JSON.stringify(manifest), ...tags },
      opts,
    );
  });
  for (const f of files)
    children.make(`${local}-file-${f.entry.name}`, region.o, (name, opts) => {
      return new aws.ssm.Parameter(
        name,
        { name: `${path}files/${f.entry.name}`, type: "SecureString", value: pulumi.secret(f.content), ...tags },
        opts,
      );
    });
}

function missingCreds(peel: string): never {
  throw new Error(`the stack issued no credentials to canary ${peel}`);
}

function missingSubnet(region: string): never {
  throw new Error(`region ${region} has no core subnet for its canaries`);
}
