/** Peel hosts for canaries and load tests, bootstrapped with the exported peel user data. */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { renderPeelBootstrap } from "../../topology/render/peel-bootstrap";
import { securityGroup, type AwsScope, type RegionScope } from "./scope";

const CANARY_TYPE = { x86: "t3.micro", arm64: "t4g.micro" } as const;

export function canaries(scope: AwsScope, region: RegionScope, ami: pulumi.Input<string>): void {
  const { children, topology: t, settings: s, secrets } = scope;
  const { r, net, o } = region;
  if (s.peelCanaries === 0) return;
  const userData = secrets.apply((sec) =>
    Buffer.from(
      renderPeelBootstrap({
        topology: t,
        region: r.name,
        appPassword: sec.app,
        ...(s.zesterPeel === undefined ? {} : { zesterPeel: s.zesterPeel }),
      }),
    ).toString("base64"),
  );
  const local = `${r.prefix}peel-canary`;
  const template = children.make(local, o, (name, opts) => {
    return new aws.ec2.LaunchTemplate(
      name,
      {
        imageId: ami,
        instanceType: CANARY_TYPE[scope.layout.arch],
        userData,
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
