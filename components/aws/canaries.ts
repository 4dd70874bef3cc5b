/**
 * Peel hosts for canaries and load tests. Their user data only installs the agent (as a
 * server's does); the peel's config, its identity's seed and the CA are SecureString parameters
 * under the canaries' own path, which their instance profile alone may read: no secret in user
 * data.
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

const CANARY_TYPE = { x86: "t3.micro", arm64: "t4g.micro" } as const;

/** What canary peels are declared with: the servers' (a canary is a peel host run like one), and the region's image. */
export type CanaryArgs = Pick<
  ServersArgs,
  "ids" | "topology" | "layout" | "settings" | "agentScript" | "identities" | "tls"
> & {
  ami: pulumi.Input<string>;
};

export function canaries(children: Children, region: RegionScope, args: CanaryArgs): void {
  const { settings: s, ids, ami } = args;
  const { r, net, o } = region;
  if (s.peelCanaries === 0) return;
  const local = `${r.prefix}peel-canary`;
  canaryParameters(children, region, local, args);
  const profile = serverProfile(children, region, { name: local }, { ids, sessionManager: s.ssmAgent !== undefined });
  const userData = Buffer.from(
    renderBootstrap({
      server: local,
      tier: args.topology.tier,
      agentScript: args.agentScript,
      agent: { region: r.awsRegion, path: parameterPath(ids, local) },
    }),
  ).toString("base64");
  const template = children.make(local, o, (name, opts) => {
    return new aws.ec2.LaunchTemplate(
      name,
      {
        imageId: ami,
        instanceType: CANARY_TYPE[args.layout.arch],
        userData,
        iamInstanceProfile: { name: profile.name },
        vpcSecurityGroupIds: [securityGroup(region, "canary").id],
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        ...children.tagged({ "zester:stack": ids.stackId }),
      },
      opts,
    );
  });
  const tags = children.tags({ "zester:role": "peel-canary", "zester:stack": ids.stackId });
  children.make(local, o, (name, opts) => {
    return new aws.autoscaling.Group(
      name,
      {
        desiredCapacity: s.peelCanaries,
        minSize: s.peelCanaries,
        maxSize: s.peelCanaries,
        vpcZoneIdentifiers: r.coreSubnets.map((x) => net.subnetId(x)),
        launchTemplate: { id: template.id, version: "$Latest" },
        tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      },
      opts,
    );
  });
}

/** The canaries' manifest and files, as a server's: the agent applies them and starts the peel. */
function canaryParameters(children: Children, region: RegionScope, local: string, args: CanaryArgs): void {
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
      peelConfig(t, { region: region.r.name }, PEEL_CREDENTIALS),
    ),
    file(
      "peel.nk",
      PEEL_CREDENTIALS.nkeyFile,
      "0600",
      args.identities.seeds.apply((x) => `${x.peel}\n`),
    ),
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
