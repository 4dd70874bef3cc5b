/** Supercluster regions reach the hub over VPC peering (leaf connections, port 7422). */
import * as aws from "@pulumi/aws";
import type { RegionNetwork } from "./network";
import type { RegionLayout } from "./layout";
import type { AwsScope } from "./scope";

export function peerRegions(scope: AwsScope, networkOf: (r: RegionLayout) => RegionNetwork): void {
  const { children, layout } = scope;
  const hub = layout.regions[0];
  if (hub === undefined || hub.vpc.kind !== "new") return;
  const hubNet = networkOf(hub);
  for (const r of layout.regions.slice(1)) {
    if (!r.peerWithHub || r.vpc.kind !== "new") continue;
    const net = networkOf(r);
    const local = `${r.prefix}to-hub`;
    const peering = children.make(local, scope.inRegion(r), (name, opts) => {
      return new aws.ec2.VpcPeeringConnection(
        name,
        {
          vpcId: net.vpcId,
          peerVpcId: hubNet.vpcId,
          peerRegion: hub.awsRegion,
          tags: children.tags({ Name: children.label(`${r.name}-to-${hub.name}`), "zester:stack": scope.stackId }),
        },
        opts,
      );
    });
    children.make(local, scope.inRegion(hub), (name, opts) => {
      return new aws.ec2.VpcPeeringConnectionAccepter(
        name,
        { vpcPeeringConnectionId: peering.id, autoAccept: true, ...children.tagged({ "zester:stack": scope.stackId }) },
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
        children.make(routeName, scope.inRegion(at), (name, opts) => {
          return new aws.ec2.Route(
            name,
            { routeTableId: table.id, destinationCidrBlock: cidr, vpcPeeringConnectionId: peering.id },
            opts,
          );
        });
    }
  }
}
