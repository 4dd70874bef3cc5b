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
import type { Manifest } from "./server-config";
import { serverProfile } from "./parameters";
import { securityGroup, type AwsScope, type RegionScope } from "./scope";

const CANARY_TYPE = { x86: "t3.micro", arm64: "t4g.micro" } as const;

export function canaries(scope: AwsScope, region: RegionScope, ami: pulumi.Input<string>): void {
  const { children, settings: s } = scope;
  const { r, net, o } = region;
  if (s.peelCanaries === 0) return;
  const local = `${r.prefix}peel-canary`;
  canaryParameters(scope, region, local);
  const profile = serverProfile(scope, region, { name: local });
  const userData = Buffer.from(
    renderBootstrap({
      server: local,
      tier: scope.topology.tier,
      agentScript: scope.agentScript,
      agent: { region: r.awsRegion, path: scope.parameterPath(local) },
    }),
  ).toString("base64");
  const template = children.make(local, o, (name, opts) => {
    return new aws.ec2.LaunchTemplate(
      name,
      {
        imageId: ami,
        instanceType: CANARY_TYPE[scope.layout.arch],
        userData,
        iamInstanceProfile: { name: profile.name },
        vpcSecurityGroupIds: [securityGroup(region, "canary").id],
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        ...children.tagged({ "zester:stack": scope.stackId }),
      },
      opts,
    );
  });
  const tags = children.tags({ "zester:role": "peel-canary", "zester:stack": scope.stackId });
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
function canaryParameters(scope: AwsScope, region: RegionScope, local: string): void {
  const { children, topology: t, settings: s } = scope;
  const path = scope.parameterPath(local);
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
      scope.identities.seeds.apply((x) => `${x.peel}\n`),
    ),
    file("ca.pem", PEEL_CREDENTIALS.caFile, "0644", scope.tls.ca),
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
  const tags = children.tagged({ "zester:stack": scope.stackId, "zester:server": local });
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
