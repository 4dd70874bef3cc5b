/** One region's network: the VPC and subnets the layout asks for, or the operator's. */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Children } from "../children";
import type { Deferred } from "../deferred";
import type { NewSubnet, RegionLayout, SubnetRef } from "./layout";

export interface RegionNetwork {
  vpcId: pulumi.Input<string>;
  /** Subnet ids by the layout's key; the operator's subnets are their own ids. */
  subnetId(ref: SubnetRef): pulumi.Input<string>;
  /** The private route table of a new VPC (peering routes go there). */
  privateRouteTable?: aws.ec2.RouteTable;
}

/** What a region's network is declared with. */
export interface NetworkArgs {
  children: Children;
  deferred: Deferred;
  region: RegionLayout;
  opts: pulumi.CustomResourceOptions;
  stackId: string;
}

export function createNetwork(args: NetworkArgs): RegionNetwork {
  const { region, deferred } = args;
  const vpcLayout = region.vpc;
  if (vpcLayout.kind === "existing")
    return {
      vpcId: deferred.input(vpcLayout.vpcId),
      subnetId: (ref) => ("id" in ref ? deferred.input(ref.id) : unknownSubnet(ref.key)),
    };

  const p = region.prefix;
  const { children, opts } = args;
  const tags = (name: string) =>
    children.tags({ Name: children.label(`${p}${name}`), "zester:region": region.name, "zester:stack": args.stackId });
  const vpc = children.make(`${p}vpc`, opts, (n, o) => {
    return new aws.ec2.Vpc(
      n,
      { cidrBlock: vpcLayout.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags("vpc") },
      o,
    );
  });
  const routeTable = children.make(`${p}private`, opts, (n, o) => {
    return new aws.ec2.RouteTable(n, { vpcId: vpc.id, tags: tags("private") }, o);
  });
  const ids = new Map<string, pulumi.Output<string>>();
  for (const s of vpcLayout.subnets) {
    const subnet = subnetIn(args, vpc, s, tags(s.key.slice(p.length)));
    children.make(s.key, opts, (n, o) => {
      return new aws.ec2.RouteTableAssociation(n, { subnetId: subnet.id, routeTableId: routeTable.id }, o);
    });
    ids.set(s.key, subnet.id);
  }
  if (vpcLayout.natSubnet !== undefined) natGateway(args, vpc, routeTable, vpcLayout.natSubnet, tags);
  return {
    vpcId: vpc.id,
    subnetId: (ref) => ("id" in ref ? deferred.input(ref.id) : (ids.get(ref.key) ?? unknownSubnet(ref.key))),
    privateRouteTable: routeTable,
  };
}

function subnetIn(args: NetworkArgs, vpc: aws.ec2.Vpc, s: NewSubnet, tags: Record<string, string>): aws.ec2.Subnet {
  return args.children.make(s.key, args.opts, (n, o) => {
    return new aws.ec2.Subnet(n, { vpcId: vpc.id, cidrBlock: s.cidr, availabilityZone: s.az, tags }, o);
  });
}

/** Egress for the pinned downloads; nothing in the public subnet but the NAT gateway. */
function natGateway(
  args: NetworkArgs,
  vpc: aws.ec2.Vpc,
  privateTable: aws.ec2.RouteTable,
  nat: NewSubnet,
  tags: (name: string) => Record<string, string>,
): void {
  const { children, opts } = args;
  const p = args.region.prefix;
  const igw = children.make(`${p}igw`, opts, (n, o) => {
    return new aws.ec2.InternetGateway(n, { vpcId: vpc.id, tags: tags("igw") }, o);
  });
  const publicSubnet = subnetIn(args, vpc, nat, tags(nat.key.slice(p.length)));
  const publicTable = children.make(`${p}public`, opts, (n, o) => {
    return new aws.ec2.RouteTable(
      n,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags("public") },
      o,
    );
  });
  children.make(nat.key, opts, (n, o) => {
    return new aws.ec2.RouteTableAssociation(n, { subnetId: publicSubnet.id, routeTableId: publicTable.id }, o);
  });
  const eip = children.make(`${p}nat`, opts, (n, o) => {
    return new aws.ec2.Eip(n, { domain: "vpc", tags: tags("nat") }, o);
  });
  const gateway = children.make(`${p}nat`, { ...opts, dependsOn: [igw] }, (n, o) => {
    return new aws.ec2.NatGateway(n, { subnetId: publicSubnet.id, allocationId: eip.id, tags: tags("nat") }, o);
  });
  children.make(`${p}private-egress`, opts, (n, o) => {
    return new aws.ec2.Route(
      n,
      { routeTableId: privateTable.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: gateway.id },
      o,
    );
  });
}

function unknownSubnet(key: string): never {
  throw new Error(`the layout names subnet "${key}", which this region's network does not have`);
}
