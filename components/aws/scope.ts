/** A region of an AWS topology as its resources are declared: its layout, network, security groups, provider. */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Identities } from "../identities";
import type { StackTls } from "../certificates";
import type { RegionLayout, SecurityGroupName } from "./layout";
import type { RegionNetwork } from "./network";

export interface RegionScope {
  r: RegionLayout;
  net: RegionNetwork;
  groups: Map<SecurityGroupName, aws.ec2.SecurityGroup>;
  /** Options of a resource in the region: its provider. */
  o: pulumi.CustomResourceOptions;
}

export function securityGroup(scope: RegionScope, name: SecurityGroupName): aws.ec2.SecurityGroup {
  const group = scope.groups.get(name);
  if (group === undefined) throw new Error(`no security group "${name}" in region ${scope.r.name}`);
  return group;
}

/** What servers and clients are given to prove who they are: the identities' seeds and keys, the stack's CA. */
export interface Credentials {
  identities: Identities;
  tls: StackTls;
}
