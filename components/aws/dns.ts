/** One private Route 53 zone for every region: names never change when servers are added. */
import * as aws from "@pulumi/aws";
import type { RegionNetwork } from "./network";
import type { RegionLayout } from "./layout";
import type { AwsScope } from "./scope";

export function privateZone(scope: AwsScope, networkOf: (r: RegionLayout) => RegionNetwork): aws.route53.Zone {
  const { children, layout } = scope;
  const hub = layout.regions[0];
  if (hub === undefined) throw new Error("a layout has at least one region");
  const zone = children.make("zone", { ...scope.inRegion(hub), ignoreChanges: ["vpcs"] }, (name, opts) => {
    return new aws.route53.Zone(
      name,
      {
        name: layout.dnsZone,
        comment: `Zester servers (${scope.stackId})`,
        vpcs: [{ vpcId: networkOf(hub).vpcId, vpcRegion: hub.awsRegion }],
        ...children.tagged({ "zester:stack": scope.stackId }),
      },
      opts,
    );
  });
  for (const r of layout.regions.slice(1))
    children.make(`${r.prefix}zone`, scope.inRegion(hub), (name, opts) => {
      return new aws.route53.ZoneAssociation(
        name,
        { zoneId: zone.zoneId, vpcId: networkOf(r).vpcId, vpcRegion: r.awsRegion },
        opts,
      );
    });
  return zone;
}
