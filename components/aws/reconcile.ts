/** The KV reconcile on a schedule, from inside the VPC, with the same code every target runs. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { JobTransition } from "../../change/phased";
import type { StackIds } from "../../change/target";
import { clusterJob, JOB_ENV } from "../../jetstream/cluster-job";
import type { Topology } from "../../topology/types";
import type { Children } from "../children";
import { credsOfRole, type Identities } from "../identities";
import { securityGroup, type RegionScope } from "./scope";
import { parameterPath, reportParameter } from "./target";

export interface ReconcileArgs {
  ids: StackIds;
  /** The topology whose buckets and cluster the job reconciles to (during a transition, maybe not the declared one). */
  topology: Topology;
  /** A transition's data-moving phase the job carries out and reports. */
  transition: JobTransition | undefined;
  role: aws.iam.Role;
  /** The bundled KV reconcile. */
  code: string;
  everyMinutes: number;
  /** The stack's keys (the reconcile identity's credentials are signed from them), and the CA it verifies the servers by. */
  identities: Identities;
  ca: pulumi.Output<string>;
}

/**
 * The region's job function: the KV reconcile on a schedule, and the health gate a rollout
 * invokes between servers (so it may run as long as Lambda allows). It connects as the reconcile
 * identity, whose seed it reads from a SecureString parameter of its own (its role may read that
 * one): the function's environment holds the job, never a secret.
 */
export function scheduledReconcile(children: Children, region: RegionScope, args: ReconcileArgs): aws.lambda.Function {
  const { ids, role, code, transition } = args;
  const { r, net, o } = region;
  const jobTopology = args.topology;
  const cluster = jobTopology.clusters.find((c) => c.region === r.name);
  if (cluster === undefined) throw new Error(`region ${r.name} has no core cluster`);
  const local = `${r.prefix}kv-reconcile`;
  const stackTag = { "zester:stack": ids.stackId };
  // The hub's is where the program reads the report back (the AWS target's reportPlace).
  const report = reportParameter(ids, r.prefix);
  const seed = reconcileSeed(children, region, { ...args, local, report });
  const job = args.ca.apply((ca) => ({
    ...clusterJob(jobTopology, cluster, { ca, credentials: { ssmParameter: seed, region: r.awsRegion } }),
    ...(transition === undefined
      ? {}
      : { transition: { ...transition, report: { ssmParameter: report, region: r.awsRegion } } }),
  }));
  const fn = children.make(local, o, (name, opts) => {
    return new aws.lambda.Function(
      name,
      {
        runtime: "nodejs22.x",
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(code) }),
        role: role.arn,
        // Lambda's longest: a health gate waits up to HEALTHY_WITHIN_SECONDS for a restarted server.
        timeout: 900,
        memorySize: 256,
        vpcConfig: {
          subnetIds: r.coreSubnets.map((x) => net.subnetId(x)),
          securityGroupIds: [securityGroup(region, "reconcile").id],
        },
        environment: { variables: { [JOB_ENV]: job.apply((j) => JSON.stringify(j)) } },
        description: `Zester KV replicas for cluster ${cluster.name}`,
        ...children.tagged(stackTag),
      },
      opts,
    );
  });
  const minutes = args.everyMinutes;
  const rule = children.make(local, o, (name, opts) => {
    return new aws.cloudwatch.EventRule(
      name,
      {
        scheduleExpression: `rate(${String(minutes)} ${minutes === 1 ? "minute" : "minutes"})`,
        ...children.tagged(stackTag),
      },
      opts,
    );
  });
  children.make(local, o, (name, opts) => new aws.cloudwatch.EventTarget(name, { rule: rule.name, arn: fn.arn }, opts));
  children.make(local, o, (name, opts) => {
    return new aws.lambda.Permission(
      name,
      { action: "lambda:InvokeFunction", function: fn.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
      opts,
    );
  });
  return fn;
}

/**
 * The reconcile identity's seed in a SecureString parameter, and the function's leave to read it
 * and to write its tier transition report (that one parameter, which the next update reads).
 */
function reconcileSeed(
  children: Children,
  region: RegionScope,
  args: Pick<ReconcileArgs, "ids" | "role" | "identities"> & { local: string; report: string },
): string {
  const { role, local, report } = args;
  const { r, o } = region;
  // Named `seed` from when it held the reconcile identity's NKey seed; it holds its `.creds` now.
  const name = `${parameterPath(args.ids, local)}seed`;
  children.make(`${local}-seed`, o, (resourceName, opts) => {
    return new aws.ssm.Parameter(
      resourceName,
      {
        name,
        type: "SecureString",
        value: credsOfRole(args.identities, "reconcile"),
        ...children.tagged({ "zester:stack": args.ids.stackId }),
      },
      opts,
    );
  });
  children.make(`${local}-seed`, o, (resourceName, opts) => {
    return new aws.iam.RolePolicy(
      resourceName,
      {
        role: role.name,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ssm:GetParameter"],
              Resource: `arn:aws:ssm:${r.awsRegion}:*:parameter${name}`,
            },
            {
              Effect: "Allow",
              Action: ["ssm:PutParameter"],
              Resource: `arn:aws:ssm:${r.awsRegion}:*:parameter${report}`,
            },
          ],
        }),
      },
      opts,
    );
  });
  return name;
}
