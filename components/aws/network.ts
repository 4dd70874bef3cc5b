/** One region's network: the VPC and subnets the layout asks for, or the operator's. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RegionLayout, SubnetRef } from "./layout";

export interface RegionNetwork {
  vpcId: pulumi.Input<string>;
  /** Subnet ids by the layout's key; the operator's subnets are their own ids. */
  subnetId(ref: SubnetRef): pulumi.Input<string>;
  /** The private route table of a new VPC (peering routes go there). */
  privateRouteTable?: aws.ec2.RouteTable;
}

export function createNetwork(region: RegionLayout, opts: pulumi.CustomResourceOptions): RegionNetwork {
  const vpcLayout = region.vpc;
  if (vpcLayout.kind === "existing")
    return { vpcId: vpcLayout.vpcId, subnetId: (ref) => ("id" in ref ? ref.id : unknownSubnet(ref.key)) };

  const p = region.prefix;
  const tags = (name: string) => ({ Name: `zester-${p}${name}`, "zester:region": region.name });
  const vpc = new aws.ec2.Vpc(
    `${p}vpc`,
    { cidrBlock: vpcLayout.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags("vpc") },
    opts,
  );
  const routeTable = new aws.ec2.RouteTable(`${p}private`, { vpcId: vpc.id, tags: tags("private") }, opts);
  const ids = new Map<string, pulumi.Output<string>>();
  for (const s of vpcLayout.subnets) {
    const subnet = new aws.ec2.Subnet(
      s.key,
      { vpcId: vpc.id, cidrBlock: s.cidr, availabilityZone: s.az, tags: tags(s.key.slice(p.length)) },
      opts,
    );
    new aws.ec2.RouteTableAssociation(s.key, { subnetId: subnet.id, routeTableId: routeTable.id }, opts);
    ids.set(s.key, subnet.id);
  }
  const nat = vpcLayout.natSubnet;
  if (nat !== undefined) {
    // Egress for the pinned downloads; nothing in this subnet but the NAT gateway.
    const igw = new aws.ec2.InternetGateway(`${p}igw`, { vpcId: vpc.id, tags: tags("igw") }, opts);
    const publicSubnet = new aws.ec2.Subnet(
      nat.key,
      { vpcId: vpc.id, cidrBlock: nat.cidr, availabilityZone: nat.az, tags: tags(nat.key.slice(p.length)) },
      opts,
    );
    const publicTable = new aws.ec2.RouteTable(
      `${p}public`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags("public") },
      opts,
    );
    new aws.ec2.RouteTableAssociation(nat.key, { subnetId: publicSubnet.id, routeTableId: publicTable.id }, opts);
    const eip = new aws.ec2.Eip(`${p}nat`, { domain: "vpc", tags: tags("nat") }, opts);
    const gateway = new aws.ec2.NatGateway(
      `${p}nat`,
      { subnetId: publicSubnet.id, allocationId: eip.id, tags: tags("nat") },
      { ...opts, dependsOn: [igw] },
    );
    new aws.ec2.Route(
      `${p}private-egress`,
      { routeTableId: routeTable.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: gateway.id },
      opts,
    );
  }
  return {
    vpcId: vpc.id,
    subnetId: (ref) => ("id" in ref ? ref.id : (ids.get(ref.key) ?? unknownSubnet(ref.key))),
    privateRouteTable: routeTable,
  };
}

function unknownSubnet(key: string): never {
  throw new Error(`the layout names subnet "${key}", which this region's network does not have`);
}
