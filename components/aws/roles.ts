/** The IAM roles the topology's AWS services act with: the KV reconcile function, and snapshots. */
import * as aws from "@pulumi/aws";
import type { AwsScope } from "./scope";

export interface Roles {
  reconcile: aws.iam.Role;
  /** Present when there are EBS volumes to snapshot. */
  backups?: aws.iam.Role;
}

export function createRoles(scope: AwsScope): Roles {
  const reconcile = serviceRole(
    scope,
    "kv-reconcile",
    "lambda.amazonaws.com",
    "Zester KV reconcile (Lambda in the VPC)",
    ["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"],
  );
  if (!scope.layout.ebsBackups) return { reconcile };
  const backups = serviceRole(scope, "backups", "dlm.amazonaws.com", "Zester JetStream volume snapshots", [
    "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
  ]);
  return { reconcile, backups };
}

function serviceRole(
  scope: AwsScope,
  local: string,
  service: string,
  description: string,
  policies: string[],
): aws.iam.Role {
  const { children } = scope;
  const hub = scope.layout.regions[0];
  if (hub === undefined) throw new Error("a layout has at least one region");
  const o = scope.inRegion(hub);
  const role = children.make(local, o, (name, opts) => {
    return new aws.iam.Role(
      name,
      { assumeRolePolicy: assumeRole(service), description, ...children.tagged({ "zester:stack": scope.stackId }) },
      opts,
    );
  });
  for (const policyArn of policies)
    children.make(
      local,
      o,
      (name, opts) => new aws.iam.RolePolicyAttachment(name, { role: role.name, policyArn }, opts),
    );
  return role;
}

export function assumeRole(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}
