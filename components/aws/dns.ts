/** One private Route 53 zone for every region: names never change when servers are added. */
import * as aws from "@pulumi/aws";
import type { RegionNetwork } from "./network";
import type { RegionLayout } from "./layout";
import type * as pulumi from "@pulumi/pulumi";
import type { Children } from "../children";

export interface ZoneArgs {
  dnsZone: string;
  /** The hub region first: the zone is declared there, and associated with every region's VPC. */
  regions: RegionLayout[];
  networkOf: (r: RegionLayout) => RegionNetwork;
  /** Options of a resource in the hub region. */
  hubOpts: pulumi.CustomResourceOptions;
  stackId: string;
}

export function privateZone(children: Children, args: ZoneArgs): aws.route53.Zone {
  const { networkOf, hubOpts, stackId } = args;
  const hub = args.regions[0];
  if (hub === undefined) throw new Error("a layout has at least one region");
  const zone = children.make("zone", { ...hubOpts, ignoreChanges: ["vpcs"] }, (name, opts) => {
    return new aws.route53.Zone(
      name,
      {
        name: args.dnsZone,
        comment: `Zester servers (${stackId})`,
        vpcs: [{ vpcId: networkOf(hub).vpcId, vpcRegion: hub.awsRegion }],
        ...children.tagged({ "zester:stack": stackId }),
      },
      opts,
    );
  });
  for (const r of args.regions.slice(1))
    children.make(`${r.prefix}zone`, hubOpts, (name, opts) => {
      return new aws.route53.ZoneAssociation(
        name,
        { zoneId: zone.zoneId, vpcId: networkOf(r).vpcId, vpcRegion: r.awsRegion },
        opts,
      );
    });
  return zone;
}
