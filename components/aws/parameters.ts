/**
 * A server's configuration in the parameter store, and the instance profile that may read it:
 * the manifest (no secrets: a String) and one SecureString per file, all under the server's own
 * path. The profile's policy names that path only, so no server can read another's files: a DMZ
 * leaf server reads its own certificate and the leaf-link certificate, nothing a core server or
 * a client holds. Secrets (keys, seeds) exist only here, never in user data.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRole } from "./roles";
import type { StackIds } from "../../change/target";
import type { Children } from "../children";
import type { ServerLayout } from "./layout";
import type { RegionScope, ServersArgs } from "./scope";
import { AWS, parameterPath } from "./target";
import { gzipSync } from "node:zlib";
import { filesOf, GZIP, manifestOf, NO_SECRETS } from "./server-config";
import { linkOf, serverCertificate } from "../../topology/tls";
import type { ServerSecretFiles } from "../../topology/render/server-files";
import { roleCreds } from "../../topology/identities";

/** Parameters over 4 KB (a big nats-server.conf) are stored in the advanced tier, others in the free one. */
const TIER = "Intelligent-Tiering";

/** The parameters of one server; `privateIp` goes into a leaf server's certificate. */
export function serverParameters(
  children: Children,
  region: RegionScope,
  server: ServerLayout,
  privateIp: pulumi.Output<string>,
  args: ServersArgs,
): void {
  const { topology: t, layout, settings, agentScript } = args;
  const o = region.o;
  const path = parameterPath(args.ids, server.name);
  const plain = filesOf(t, layout, settings, server, NO_SECRETS, agentScript);
  const stackTag = { "zester:stack": args.ids.stackId, "zester:server": server.name };
  const manifest = manifestOf(t, plain, server.name, args.generations, args.previous);
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
  const files = secretFilesOf(server, privateIp, args).apply(
    ([identities, secretFiles]) => filesOf(t, layout, settings, server, { identities, secretFiles }, agentScript).files,
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
}

/**
 * The server's certificate (issued here), its link certificate and credentials, the CA, and on a
 * core server the master's credentials and the peels' issuer (the enrollment side's).
 */
function secretFilesOf(
  server: ServerLayout,
  privateIp: pulumi.Output<string>,
  args: Pick<ServersArgs, "topology" | "layout" | "settings" | "identities" | "configIdentities" | "tls">,
) {
  const { topology: t, identities, tls } = args;
  const s = t.servers.find((x) => x.name === server.name);
  if (s === undefined) throw new Error(`no server ${server.name} in the topology`);
  // A leaf server is reached by its private address too, known once its instance exists.
  const own = tls.issue(
    serverCertificate(s, AWS.reachedBy(t, args.layout, args.settings)),
    s.role === "leaf" ? [privateIp] : [],
  );
  const linkName = linkOf(t, s);
  const link = linkName === undefined ? undefined : tls.links.get(linkName);
  const linkRole = linkName === "leaf-link" ? "leafLink" : "regionLink";
  return pulumi
    .all([
      args.configIdentities,
      identities.seeds,
      tls.ca,
      own.cert,
      own.key,
      link?.cert ?? pulumi.output(undefined),
      link?.key ?? pulumi.output(undefined),
    ])
    .apply(([configIdentities, seeds, ca, cert, key, linkCert, linkKey]) => {
      const secretFiles: ServerSecretFiles = {
        ca,
        cert,
        key,
        ...(linkCert === undefined || linkKey === undefined
          ? {}
          : { linkCert, linkKey, linkCreds: roleCreds(seeds, linkRole) }),
        ...(s.role === "core" ? { masterCreds: roleCreds(seeds, "master"), peelIssuerSeed: seeds.peelIssuer } : {}),
      };
      return [configIdentities, secretFiles] as const;
    });
}

/** The role a server's agent runs as: it may read the server's own path, nothing else. */
export function serverProfile(
  children: Children,
  region: RegionScope,
  server: { name: string },
  args: { ids: StackIds; /** Session Manager may reach the host (zester:aws.ssmAgent). */ sessionManager: boolean },
): aws.iam.InstanceProfile {
  const path = parameterPath(args.ids, server.name);
  const local = `${server.name}-agent`;
  const tags = children.tagged({ "zester:stack": args.ids.stackId, "zester:server": server.name });
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
            ...(args.sessionManager ? [SESSION_MANAGER] : []),
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
