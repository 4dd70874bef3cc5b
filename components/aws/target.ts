/**
 * The AWS target's shape (change/target.ts): every server on its own instance, named in the
 * private zone, on NATS's ports; the layout decides instance, volume and zone; the deployment
 * record is what the next update compares; a tier transition's report is an SSM parameter. Pure.
 */
import type { StackIds, Target } from "../../change/target";
import { standardAddressing } from "../../topology/build";
import type { ExtraNames } from "../../topology/tls";
import { awsLayout, type AwsLayout } from "./layout";
import { awsDeployment } from "./server-config";
import type { AwsTarget } from "./settings";

/** Where a server's (or a service's) configuration is kept in the parameter store; ends with `/`. */
export const parameterPath = (ids: StackIds, owner: string): string =>
  `/zester/${ids.stackId}/${ids.component}/${owner}/`;

/** The String parameter a region's reconcile job writes its tier transition report to (next to its seed). */
export const reportParameter = (ids: StackIds, regionPrefix = ""): string =>
  `${parameterPath(ids, `${regionPrefix}kv-reconcile`)}transition`;

/**
 * The names a server is reached by: its own, and for a core server the load balancer's, both
 * its name in the private zone and AWS's own (`*.elb.<region>.amazonaws.com`: peels use it,
 * and it is known only once the balancer exists); a leaf server also by its private address
 * (added where the instance exists: components/aws/parameters.ts).
 */
function awsReachedBy(layout: AwsLayout): ExtraNames {
  return (x) => {
    if (x.role !== "core") return {};
    const r = layout.regions.find((y) => y.name === x.region);
    if (r === undefined) throw new Error(`no region ${x.region} in the layout`);
    return { dnsNames: [`${r.prefix}clients.${layout.dnsZone}`, `*.elb.${r.awsRegion}.amazonaws.com`] };
  };
}

export const AWS: Target<AwsTarget, AwsLayout> = {
  name: "aws",
  addressing: (s) => standardAddressing(s.dnsZone),
  layout: awsLayout,
  deployment: awsDeployment,
  reachedBy: (_t, layout) => awsReachedBy(layout),
  reportPlace: (s, ids) => ({ ssmParameter: reportParameter(ids), region: s.region }),
};
