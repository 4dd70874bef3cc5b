/**
 * The AWS target's shape (change/target.ts): every server on its own instance, named in the
 * private zone, on NATS's ports; the layout decides instance, volume and zone; the deployment
 * record is what the next update compares; a tier transition's report is an SSM parameter. Pure.
 */
import type { StackIds, Target } from "../../change/target";
import { standardAddressing } from "../../topology/build";
import { awsLayout, type AwsLayout } from "./layout";
import { awsDeployment } from "./server-config";
import type { AwsTarget } from "./settings";

/** Where a server's (or a service's) configuration is kept in the parameter store; ends with `/`. */
export const parameterPath = (ids: StackIds, owner: string): string =>
  `/zester/${ids.stackId}/${ids.component}/${owner}/`;

/** The String parameter a region's reconcile job writes its tier transition report to (next to its seed). */
export const reportParameter = (ids: StackIds, regionPrefix = ""): string =>
  `${parameterPath(ids, `${regionPrefix}kv-reconcile`)}transition`;

export const AWS: Target<AwsTarget, AwsLayout> = {
  name: "aws",
  addressing: (s) => standardAddressing(s.dnsZone),
  layout: awsLayout,
  deployment: awsDeployment,
  reportPlace: (s, ids) => ({ ssmParameter: reportParameter(ids), region: s.region }),
};
