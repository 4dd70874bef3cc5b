/**
 * A server's configuration in the parameter store, and the instance profile that may read it:
 * the manifest (no secrets: a String) and one SecureString per file, all under the server's own
 * path. The profile's policy names that path only, so no server can read another's files.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRole } from "./roles";
import type { ServerLayout } from "./layout";
import type { AwsScope, RegionScope } from "./scope";
import { gzipSync } from "node:zlib";
import { filesOf, GZIP, manifestOf } from "./server-config";

/** Parameters over 4 KB (a big nats-server.conf) are stored in the advanced tier, others in the free one. */
const TIER = "Intelligent-Tiering";

export function serverParameters(scope: AwsScope, region: RegionScope, server: ServerLayout): aws.iam.InstanceProfile {
  const { children, topology: t } = scope;
  const o = region.o;
  const path = scope.parameterPath(server.name);
  const plain = filesOf(
    t,
    scope.layout,
    scope.settings,
    server,
    { system: "-", app: "-", leaf: "-", route: "-" },
    scope.agentScript,
  );
  const stackTag = { "zester:stack": scope.stackId, "zester:server": server.name };
  const manifest = manifestOf(t, plain, server.name, scope.generations, scope.previous);
  children.make(`${server.name}-manifest`, o, (name, opts) => {
    return new aws.ssm.Parameter(
      name,
      {
        name: `${path}manifest`,
        type: "String",
        tier: TIER,
        value: JSON.stringify(manifest),
        ...children.tagged(stackTag),
      },
      opts,
    );
  });
  const files = scope.secrets.apply(
    (secrets) => filesOf(t, scope.layout, scope.settings, server, secrets, scope.agentScript).files,
  );
  const encoded = new Map(manifest.files.map((f) => [f.name, f.encoding]));
  for (const file of plain.files)
    children.make(`${server.name}-file-${file.name}`, o, (name, opts) => {
      return new aws.ssm.Parameter(
        name,
        {
          name: `${path}files/${file.name}`,
          type: "SecureString",
          tier: TIER,
          value: pulumi.secret(
            files.apply((all) => {
              const content = all.find((f) => f.name === file.name)?.content ?? missing(file.name);
              return encoded.get(file.name) === GZIP ? gzipSync(content).toString("base64") : content;
            }),
          ),
          ...children.tagged(stackTag),
        },
        opts,
      );
    });
  return instanceProfile(scope, region, server, path);
}

function instanceProfile(
  scope: AwsScope,
  region: RegionScope,
  server: ServerLayout,
  path: string,
): aws.iam.InstanceProfile {
  const { children } = scope;
  const local = `${server.name}-agent`;
  const tags = children.tagged({ "zester:stack": scope.stackId, "zester:server": server.name });
  const role = children.make(local, region.o, (name, opts) => {
    return new aws.iam.Role(
      name,
      {
        assumeRolePolicy: assumeRole("ec2.amazonaws.com"),
        description: `Zester ${server.name}: reads its own configuration`,
        ...tags,
      },
      opts,
    );
  });
  // The account is the caller's own: a role can only ever read its own account's parameters.
  const arn = `arn:aws:ssm:${region.r.awsRegion}:*:parameter${path.replace(/\/$/, "")}`;
  children.make(local, region.o, (name, opts) => {
    return new aws.iam.RolePolicy(
      name,
      {
        role: role.name,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"],
              Resource: [arn, `${arn}/*`],
            },
            ...(scope.settings.ssmAgent === undefined ? [] : [SESSION_MANAGER]),
          ],
        }),
      },
      opts,
    );
  });
  return children.make(
    local,
    region.o,
    (name, opts) => new aws.iam.InstanceProfile(name, { role: role.name, ...tags }, opts),
  );
}

/**
 * What the SSM Agent needs for Session Manager, and nothing more (AWS's minimal policy for it; no
 * session logging): unlike AmazonSSMManagedInstanceCore, no parameter of any other server.
 */
const SESSION_MANAGER = {
  Effect: "Allow",
  Action: [
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
  ],
  Resource: "*",
};

function missing(file: string): never {
  throw new Error(`the server's files lost "${file}" between the plan and the deployment`);
}
