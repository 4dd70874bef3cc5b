/**
 * The AWS twin's endpoints, run as a process of its own in the sandbox's network namespace (the
 * router every packet crosses), on addresses of the sandbox's own:
 *
 * - the instance metadata service on 169.254.169.254:80, IMDSv2 (a token by `PUT
 *   /latest/api/token`, then every read with it; without one, 401 where the instance requires
 *   tokens), answering each instance by its source address: instance id, type, zone, address,
 *   host name, and its instance profile role's temporary credentials;
 * - Systems Manager's JSON API over HTTPS (`ssm.<region>.amazonaws.com`): GetParametersByPath,
 *   GetParameter, GetParameters and PutParameter, each request's Signature Version 4 checked
 *   against the credentials IMDS issued, and authorized by the role's policies as IAM evaluates
 *   them (an action no statement allows is refused with AccessDeniedException, as AWS words it);
 * - a download mirror over HTTPS: `https://<host>/<path>` is `<mirror>/<host>/<path>`, as an
 *   operator without internet egress serves the pinned binaries.
 *
 * In: JSON lines (endpoint-world.ts): the world to serve. Out: JSON lines (ready; parameters the
 * API wrote). It ends when its input closes. Run from dist/ (endpoint-process.ts).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { createInterface } from "node:readline";
import { evaluate, parsePolicy } from "./iam";
import { verify, SignatureError } from "./sigv4";
import {
  API_ADDRESS,
  EndpointInSchema,
  IMDS_ADDRESS,
  type EndpointOut,
  type EndpointWorld,
  type StoredParameter,
} from "./endpoint-world";

let world: EndpointWorld | undefined;
const tokens = new Map<string, { address: string; expires: number }>();

function send(out: EndpointOut): void {
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} aws endpoints: ${line}\n`);
}

function body(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      resolve(Buffer.concat(chunks));
    });
    request.on("error", reject);
  });
}

function reply(response: http.ServerResponse, status: number, text: string, type = "text/plain"): void {
  response.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  response.end(text);
}

// --- IMDSv2 -------------------------------------------------------------------------------------

const callerOf = (request: http.IncomingMessage): string =>
  (request.socket.remoteAddress ?? "").replace(/^::ffff:/, "");

/** The role's temporary credentials as IMDS gives them (`iam/security-credentials/<role>`). */
function roleCredentials(world: EndpointWorld, role: string): string | undefined {
  const found = Object.entries(world.credentials).find(([, c]) => c.role === role);
  if (found === undefined) return undefined;
  const [accessKeyId, c] = found;
  return JSON.stringify({
    Code: "Success",
    LastUpdated: new Date().toISOString(),
    Type: "AWS-HMAC",
    AccessKeyId: accessKeyId,
    SecretAccessKey: c.secret,
    Token: c.token,
    Expiration: new Date(Date.now() + 6 * 3_600_000).toISOString(),
  });
}

function imds(request: http.IncomingMessage, response: http.ServerResponse): void {
  const address = callerOf(request);
  const instance = world?.instances[address];
  if (world === undefined || instance === undefined) {
    reply(response, 404, "Not Found");
    return;
  }
  const url = request.url ?? "/";
  if (request.method === "PUT" && url === "/latest/api/token") {
    const ttl = Number(request.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) {
      reply(response, 400, "Bad Request");
      return;
    }
    const token = randomBytes(42).toString("base64");
    tokens.set(token, { address, expires: Date.now() + ttl * 1000 });
    reply(response, 200, token);
    return;
  }
  if (request.method !== "GET") {
    reply(response, 405, "Method Not Allowed");
    return;
  }
  const token = request.headers["x-aws-ec2-metadata-token"];
  const held = typeof token === "string" ? tokens.get(token) : undefined;
  const valid = held !== undefined && held.address === address && held.expires > Date.now();
  if (!valid && (instance.tokensRequired || token !== undefined)) {
    reply(response, 401, "Unauthorized");
    return;
  }
  const base = "/latest/meta-data/";
  if (!url.startsWith(base)) {
    reply(response, 404, "Not Found");
    return;
  }
  const key = url.slice(base.length);
  const credentialsBase = "iam/security-credentials/";
  const simple: Record<string, string> = {
    "instance-id": instance.instanceId,
    "instance-type": instance.instanceType,
    "local-ipv4": address,
    "local-hostname": instance.hostname,
    hostname: instance.hostname,
    "placement/availability-zone": instance.az,
    "placement/region": world.region,
  };
  const value = simple[key];
  if (value !== undefined) {
    reply(response, 200, value);
    return;
  }
  if (key === credentialsBase) {
    if (instance.role === undefined) reply(response, 404, "Not Found");
    else reply(response, 200, instance.role);
    return;
  }
  if (
    key.startsWith(credentialsBase) &&
    instance.role !== undefined &&
    key.slice(credentialsBase.length) === instance.role
  ) {
    const credentials = roleCredentials(world, instance.role);
    if (credentials === undefined) reply(response, 404, "Not Found");
    else reply(response, 200, credentials, "application/json");
    return;
  }
  reply(response, 404, "Not Found");
}

// --- Systems Manager ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const arnOf = (w: EndpointWorld, name: string): string =>
  `arn:aws:ssm:${w.region}:${w.account}:parameter${name.startsWith("/") ? "" : "/"}${name}`;

function authorize(w: EndpointWorld, accessKeyId: string, action: string, resource: string): void {
  const credential = w.credentials[accessKeyId];
  if (credential === undefined)
    throw new ApiError("UnrecognizedClientException", "The security token included in the request is invalid.");
  const policies = (w.roles[credential.role] ?? []).map((text, i) =>
    parsePolicy(text, `role ${credential.role} policy ${String(i)}`),
  );
  const decision = evaluate(policies, action, resource);
  if (decision !== "allowed")
    throw new ApiError(
      "AccessDeniedException",
      `User: arn:aws:sts::${w.account}:assumed-role/${credential.role}/session is not authorized to perform: ${action} on resource: ${resource} because ${decision === "explicit-deny" ? "an explicit deny in an identity-based policy" : "no identity-based policy allows"} the ${action} action`,
    );
}

function shown(w: EndpointWorld, name: string, p: StoredParameter, decrypt: boolean) {
  return {
    Name: name,
    Type: p.type,
    // Without decryption a SecureString reads as its ciphertext.
    Value:
      p.type === "SecureString" && !decrypt
        ? Buffer.from(`twin-kms:${name}:${String(p.version)}`).toString("base64")
        : p.value,
    Version: p.version,
    LastModifiedDate: p.modified,
    ARN: arnOf(w, name),
    DataType: "text",
  };
}

function ssm(w: EndpointWorld, target: string, input: Record<string, unknown>, accessKeyId: string): unknown {
  const name = typeof input.Name === "string" ? input.Name : "";
  const decrypt = input.WithDecryption === true;
  switch (target) {
    case "AmazonSSM.GetParametersByPath": {
      const p = typeof input.Path === "string" ? input.Path : "";
      if (!p.startsWith("/"))
        throw new ApiError(
          "ValidationException",
          'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".',
        );
      authorize(w, accessKeyId, "ssm:GetParametersByPath", arnOf(w, p.replace(/\/+$/, "") || "/"));
      const prefix = p.endsWith("/") ? p : `${p}/`;
      const names = Object.keys(w.parameters)
        .filter((n) => n.startsWith(prefix) && (input.Recursive === true || !n.slice(prefix.length).includes("/")))
        .sort();
      const max = typeof input.MaxResults === "number" ? input.MaxResults : 10;
      if (!Number.isInteger(max) || max < 1 || max > 10)
        throw new ApiError(
          "ValidationException",
          `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`,
        );
      const from = typeof input.NextToken === "string" ? Number(Buffer.from(input.NextToken, "base64").toString()) : 0;
      if (!Number.isInteger(from) || from < 0)
        throw new ApiError("ValidationException", "The specified token is not valid.");
      const page = names.slice(from, from + max);
      return {
        Parameters: page.map((n) => shown(w, n, w.parameters[n] as StoredParameter, decrypt)),
        ...(from + max < names.length ? { NextToken: Buffer.from(String(from + max)).toString("base64") } : {}),
      };
    }
    case "AmazonSSM.GetParameter": {
      authorize(w, accessKeyId, "ssm:GetParameter", arnOf(w, name));
      const p = w.parameters[name];
      if (p === undefined) throw new ApiError("ParameterNotFound", "");
      return { Parameter: shown(w, name, p, decrypt) };
    }
    case "AmazonSSM.GetParameters": {
      const names = Array.isArray(input.Names) ? input.Names.filter((n): n is string => typeof n === "string") : [];
      for (const n of names) authorize(w, accessKeyId, "ssm:GetParameters", arnOf(w, n));
      return {
        Parameters: names
          .filter((n) => w.parameters[n] !== undefined)
          .map((n) => shown(w, n, w.parameters[n] as StoredParameter, decrypt)),
        InvalidParameters: names.filter((n) => w.parameters[n] === undefined),
      };
    }
    case "AmazonSSM.PutParameter": {
      authorize(w, accessKeyId, "ssm:PutParameter", arnOf(w, name));
      const old = w.parameters[name];
      if (old !== undefined && input.Overwrite !== true)
        throw new ApiError(
          "ParameterAlreadyExists",
          "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
        );
      const type = input.Type ?? old?.type ?? "String";
      if (type !== "String" && type !== "StringList" && type !== "SecureString")
        throw new ApiError(
          "ValidationException",
          `Type ${JSON.stringify(type)} is not one of String, StringList, SecureString`,
        );
      if (typeof input.Value !== "string") throw new ApiError("ValidationException", "Value is required");
      const parameter: StoredParameter = {
        type,
        value: input.Value,
        version: (old?.version ?? 0) + 1,
        modified: Date.now() / 1000,
      };
      w.parameters[name] = parameter;
      send({ kind: "put", name, parameter });
      return { Version: parameter.version, Tier: "Standard" };
    }
    default:
      throw new ApiError("UnknownOperationException", `the twin's Systems Manager does not serve ${target}`);
  }
}

async function api(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const host = (request.headers.host ?? "").replace(/:\d+$/, "");
  const w = world;
  if (w === undefined) {
    reply(response, 503, "not ready");
    return;
  }
  if (host === `ssm.${w.region}.amazonaws.com`) {
    const data = await body(request);
    const json = (status: number, value: unknown) => {
      reply(response, status, JSON.stringify(value), "application/x-amz-json-1.1");
    };
    try {
      if (request.method !== "POST") throw new ApiError("UnknownOperationException", "POST only", 400);
      const signed = verify(
        { method: request.method, url: request.url ?? "/", headers: request.headers, body: data },
        (key) => w.credentials[key]?.secret,
      );
      const credential = w.credentials[signed.accessKeyId];
      if (request.headers["x-amz-security-token"] !== credential?.token)
        throw new ApiError("UnrecognizedClientException", "The security token included in the request is invalid.");
      if (signed.region !== w.region || signed.service !== "ssm")
        throw new ApiError(
          "InvalidSignatureException",
          `Credential should be scoped to a valid region and to the service ssm: ${signed.region}/${signed.service}`,
        );
      const target = request.headers["x-amz-target"];
      const input = JSON.parse(data.toString() || "{}") as Record<string, unknown>;
      json(200, ssm(w, typeof target === "string" ? target : "", input, signed.accessKeyId));
    } catch (error) {
      if (error instanceof SignatureError) {
        json(403, { __type: error.code, message: error.message });
        return;
      }
      if (error instanceof ApiError) {
        json(error.status, { __type: error.type, message: error.message });
        return;
      }
      json(500, { __type: "InternalServerError", message: String(error) });
      return;
    }
    return;
  }
  // The mirror: a file under <mirror>/<host>/, never outside it.
  const wanted = path.resolve(w.mirror, host, `.${decodeURIComponent((request.url ?? "/").split("?")[0] ?? "/")}`);
  if (request.method !== "GET" || !wanted.startsWith(path.resolve(w.mirror, host) + path.sep)) {
    reply(response, 404, "Not Found");
    return;
  }
  try {
    if (!statSync(wanted).isFile()) {
      reply(response, 404, "Not Found");
      return;
    }
    const data = readFileSync(wanted);
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length });
    response.end(data);
  } catch {
    reply(response, 404, "Not Found");
  }
}

// --- the process --------------------------------------------------------------------------------

let apiServer: https.Server | undefined;

function serve(next: EndpointWorld): void {
  const tlsChanged = world === undefined || world.tls.cert !== next.tls.cert || world.tls.key !== next.tls.key;
  world = next;
  if (apiServer === undefined) {
    apiServer = https.createServer({ key: next.tls.key, cert: next.tls.cert }, (q, r) => {
      api(q, r).catch((error: unknown) => {
        reply(r, 500, String(error));
      });
    });
    const imdsServer = http.createServer(imds);
    let listening = 0;
    const up = () => {
      listening += 1;
      if (listening === 2) send({ kind: "ready" });
    };
    apiServer.listen(443, API_ADDRESS, up);
    imdsServer.listen(80, IMDS_ADDRESS, up);
  } else if (tlsChanged) apiServer.setSecureContext({ key: next.tls.key, cert: next.tls.cert });
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const parsed = EndpointInSchema.safeParse(JSON.parse(line));
  if (!parsed.success) {
    log(`a line it cannot read: ${parsed.error.message}`);
    return;
  }
  serve(parsed.data.world);
});
lines.on("close", () => process.exit(0));
