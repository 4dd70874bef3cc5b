/** The IAM roles the topology's AWS services act with: the KV reconcile function, and snapshots. */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Children } from "../children";

export interface Roles {
  reconcile: aws.iam.Role;
  /** Present when there are EBS volumes to snapshot. */
  backups?: aws.iam.Role;
}

export interface RolesArgs {
  /** Options of a resource in the hub region (IAM is global; its provider is the hub's). */
  hubOpts: pulumi.CustomResourceOptions;
  /** EBS volumes exist to snapshot. */
  ebsBackups: boolean;
  stackId: string;
}

export function createRoles(children: Children, args: RolesArgs): Roles {
  const reconcile = serviceRole(
    children,
    args,
    "kv-reconcile",
    "lambda.amazonaws.com",
    "Zester KV reconcile (Lambda in the VPC)",
    ["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"],
  );
  if (!args.ebsBackups) return { reconcile };
  const backups = serviceRole(children, args, "backups", "dlm.amazonaws.com", "Zester JetStream volume snapshots", [
    "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
  ]);
  return { reconcile, backups };
}

function serviceRole(
  children: Children,
  args: RolesArgs,
  local: string,
  service: string,
  description: string,
  policies: string[],
): aws.iam.Role {
  const o = args.hubOpts;
  const role = children.make(local, o, (name, opts) => {
    return new aws.iam.Role(
      name,
      { assumeRolePolicy: assumeRole(service), description, ...children.tagged({ "zester:stack": args.stackId }) },
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
