/** Supercluster regions reach the hub over VPC peering (leaf connections, port 7422). */
import * as aws from "@pulumi/aws";
import type { RegionNetwork } from "./network";
import type { RegionLayout } from "./layout";
import type * as pulumi from "@pulumi/pulumi";
import type { Children } from "../children";

export interface PeeringArgs {
  /** The hub region first. */
  regions: RegionLayout[];
  networkOf: (r: RegionLayout) => RegionNetwork;
  /** Options of a resource in a region: its provider. */
  inRegion: (r: RegionLayout) => pulumi.CustomResourceOptions;
  stackId: string;
}

export function peerRegions(children: Children, args: PeeringArgs): void {
  const { networkOf, inRegion, stackId } = args;
  const hub = args.regions[0];
  if (hub === undefined || hub.vpc.kind !== "new") return;
  const hubNet = networkOf(hub);
  for (const r of args.regions.slice(1)) {
    if (!r.peerWithHub || r.vpc.kind !== "new") continue;
    const net = networkOf(r);
    const local = `${r.prefix}to-hub`;
    const peering = children.make(local, inRegion(r), (name, opts) => {
      return new aws.ec2.VpcPeeringConnection(
        name,
        {
          vpcId: net.vpcId,
          peerVpcId: hubNet.vpcId,
          peerRegion: hub.awsRegion,
          tags: children.tags({ Name: children.label(`${r.name}-to-${hub.name}`), "zester:stack": stackId }),
        },
        opts,
      );
    });
    children.make(local, inRegion(hub), (name, opts) => {
      return new aws.ec2.VpcPeeringConnectionAccepter(
        name,
        { vpcPeeringConnectionId: peering.id, autoAccept: true, ...children.tagged({ "zester:stack": stackId }) },
        opts,
      );
    });
    // A route each way, each in its own region's private table.
    for (const [routeName, side, cidr, at] of [
      [`${r.prefix}to-hub`, net, hub.vpc.cidr, r],
      [`${r.prefix}from-hub`, hubNet, r.vpc.cidr, hub],
    ] as const) {
      const table = side.privateRouteTable;
      if (table !== undefined)
        children.make(routeName, inRegion(at), (name, opts) => {
          return new aws.ec2.Route(
            name,
            { routeTableId: table.id, destinationCidrBlock: cidr, vpcPeeringConnectionId: peering.id },
            opts,
          );
        });
    }
  }
}
