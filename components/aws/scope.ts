/** What every AWS resource of a topology is declared with: the component's and one region's. */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "../../topology/deployment";
import type { ServerIdentities } from "../../topology/auth";
import type { Topology } from "../../topology/types";
import type { StackTls } from "../certificates";
import type { Children } from "../children";
import type { Identities } from "../identities";
import type { ReconcileDuringTransition } from "../transition";
import type { Deferred } from "../deferred";
import type { AwsLayout, RegionLayout, SecurityGroupName } from "./layout";
import type { RegionNetwork } from "./network";
import type { AwsTarget } from "./settings";

export interface AwsScope {
  children: Children;
  deferred: Deferred;
  topology: Topology;
  layout: AwsLayout;
  settings: AwsTarget;
  /** The stack's keys and its own peels' (secret). */
  identities: Identities;
  /** What every server config holds of them: the operator's and the accounts' JWTs. */
  configIdentities: pulumi.Output<ServerIdentities>;
  /** The stack's CA and the certificates issued by it. */
  tls: StackTls;
  /** `<project>-<stack>`: in every resource's tags, and selects this stack's volumes for snapshots. */
  stackId: string;
  /** Options of a resource in a region: its provider. */
  inRegion(r: RegionLayout): pulumi.CustomResourceOptions;
  /** What is deployed now, when something is: servers that exist get their changes in turn. */
  previous: Deployment | undefined;
  /** Each server's restart generation (what its `zester-gen:` tag says once it runs it). */
  generations: Map<string, string>;
  /** The agent program the user data installs. */
  agentScript: string;
  /** Where a server's configuration is kept in the parameter store (ends with `/`). */
  parameterPath(server: string): string;
  /** What the KV reconcile job does while a tier transition is under way. */
  reconcile: ReconcileDuringTransition;
}

export interface RegionScope {
  r: RegionLayout;
  net: RegionNetwork;
  groups: Map<SecurityGroupName, aws.ec2.SecurityGroup>;
  o: pulumi.CustomResourceOptions;
}

export function securityGroup(scope: RegionScope, name: SecurityGroupName): aws.ec2.SecurityGroup {
  const group = scope.groups.get(name);
  if (group === undefined) throw new Error(`no security group "${name}" in region ${scope.r.name}`);
  return group;
}
