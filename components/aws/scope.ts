/**
 * What the AWS steps share as they declare resources: a region (its layout, network, security
 * groups, provider) and what every server is declared with.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "../../change/deployment";
import type { StackIds } from "../../change/target";
import type { ServerIdentities } from "../../topology/auth";
import type { Topology } from "../../topology/types";
import type { Identities } from "../identities";
import type { StackTls } from "../certificates";
import type { AwsLayout, RegionLayout, SecurityGroupName } from "./layout";
import type { RegionNetwork } from "./network";
import type { AwsTarget } from "./settings";

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

/** What servers and clients are given to prove who they are: the stack's keys and its own peels', the stack's CA. */
export interface Credentials {
  /** The stack's keys and its own peels' (secret). */
  identities: Identities;
  /** What every server config holds of them: the operator's and the accounts' JWTs. */
  configIdentities: pulumi.Output<ServerIdentities>;
  tls: StackTls;
}

/** What every server of the topology is declared with, in whichever region. */
export interface ServersArgs extends Credentials {
  ids: StackIds;
  topology: Topology;
  layout: AwsLayout;
  settings: AwsTarget;
  /** The agent program the user data installs. */
  agentScript: string;
  /** What is deployed now, when something is: servers that exist get their changes in turn. */
  previous: Deployment | undefined;
  /** Each server's restart generation (what its `zester-gen:` tag says once it runs it). */
  generations: Map<string, string>;
}
