/** The KV reconcile on a schedule, from inside the VPC, with the same code every target runs. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { clusterJob, JOB_ENV } from "../../jetstream/cluster-job";
import { credsOfRole } from "../identities";
import { securityGroup, type AwsScope, type RegionScope } from "./scope";

/**
 * The region's job function: the KV reconcile on a schedule, and the health gate a rollout
 * invokes between servers (so it may run as long as Lambda allows). It connects as the reconcile
 * identity, whose seed it reads from a SecureString parameter of its own (its role may read that
 * one): the function's environment holds the job, never a secret.
 */
export function scheduledReconcile(
  scope: AwsScope,
  region: RegionScope,
  role: aws.iam.Role,
  code: string,
): aws.lambda.Function {
  const { children, topology: t, settings: s } = scope;
  const { r, net, o } = region;
  // During a tier transition the job may reconcile to another tier's plan than the servers declared.
  const jobTopology = scope.reconcile.topology ?? t;
  const cluster = jobTopology.clusters.find((c) => c.region === r.name);
  if (cluster === undefined) throw new Error(`region ${r.name} has no core cluster`);
  const local = `${r.prefix}kv-reconcile`;
  const stackTag = { "zester:stack": scope.stackId };
  // The same name transitionReportParameter gives the program that reads it back.
  const report = `${scope.parameterPath(local)}transition`;
  const seed = reconcileSeed(scope, region, role, local, report);
  const transition = scope.reconcile.transition;
  const job = scope.tls.ca.apply((ca) => ({
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
  const minutes = s.reconcileEveryMinutes;
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
  scope: AwsScope,
  region: RegionScope,
  role: aws.iam.Role,
  local: string,
  report: string,
): string {
  const { children } = scope;
  const { r, o } = region;
  // Named `seed` from when it held the reconcile identity's NKey seed; it holds its `.creds` now.
  const name = `${scope.parameterPath(local)}seed`;
  children.make(`${local}-seed`, o, (resourceName, opts) => {
    return new aws.ssm.Parameter(
      resourceName,
      {
        name,
        type: "SecureString",
        value: credsOfRole(scope.identities, "reconcile"),
        ...children.tagged({ "zester:stack": scope.stackId }),
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
