/**
 * The AWS twin (issue 18's first part): each `up` runs the stack's program with the twin's plan-time
 * answers, then carries the plan out with the engine (twin/engine/) and the AWS providers
 * (providers.ts) over the state the last `up` left, printing as `pulumi up` does. Hosts reach the
 * twin's instance metadata service, Systems Manager and a download mirror (endpoint.ts) and
 * resolve the private zone's records. A rehearsal on this machine: nothing runs on AWS, and every
 * report says so.
 *
 * The mirror: `<state-dir>/mirror/<host>/<path>` is served as `https://<host>/<path>` (the twin has
 * no internet, as an operator's VPC without egress): put the pinned nats-server tarball there and
 * point `zester:aws.natsServer` at it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { up as engineUp } from "../engine/engine";
import { PlanTimeAnswers } from "../engine/plan-time";
import { Providers } from "../engine/provider";
import { loadState, saveState, stateFile, type StackState } from "../engine/state";
import { targetResources } from "../engine/steps";
import type { ForwarderSpec } from "../host/forwarder";
import { makeCertRequest, makeLocallySigned, makePrivateKey, makeSelfSigned, tlsProvider } from "../providers/tls";
import { randomProvider } from "../providers/random";
import type { TargetFactory, TargetIo, TwinTarget } from "../daemon/target";
import type { Twin } from "../daemon/twin";
import { API_ADDRESS, type EndpointWorld } from "./endpoint-world";
import { Endpoints } from "./endpoint-process";
import { awsProviders, type AwsContext } from "./providers";
import { ACCOUNT, AwsWorld, type FunctionRecord } from "./world";
import { builtScript } from "../host/built-script";
import { runCommand } from "../host/namespaces";

/** The node_modules folder holding the AWS SDK the twin's Lambda runtime offers (a devDependency). */
function sdkModules(): string {
  try {
    return path.resolve(path.dirname(require.resolve("@aws-sdk/client-ssm/package.json")), "..", "..");
  } catch {
    throw new Error("the AWS twin's Lambda runtime needs @aws-sdk/client-ssm (a devDependency): run `npm ci`");
  }
}

/** Where the compiled Lambda runtime is (it runs as a process of its own, from dist/). */
const lambdaRuntime = (): string => builtScript(__filename, "twin/aws/lambda-runtime", "the AWS twin's Lambda runtime");

type Json = Record<string, unknown>;

export const REHEARSAL = "a rehearsal on the AWS twin (this machine): nothing was created on AWS";

/** The default NLB health check of a target group, where the plan leaves a field out (ELB's documentation). */
const NLB_HEALTH_DEFAULTS = { interval: 30, timeout: { HTTP: 6, HTTPS: 10, TCP: 10 }, healthy: 5, unhealthy: 2 };

const MONITOR_PORT = 8222;

function systemBundle(): string {
  try {
    return readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8");
  } catch {
    return "";
  }
}

class AwsTwinTarget implements TwinTarget {
  private readonly world = new AwsWorld();
  private readonly providers: Providers;
  private endpoints: Endpoints | undefined;
  private ca: { key: string; cert: string } | undefined;
  private tls: { names: string; key: string; cert: string } | undefined;
  private forwarded = new Set<string>();
  /** Each filtered address's policy as last applied (its JSON). */
  private readonly filters = new Map<string, string>();
  private syncing: Promise<void> = Promise.resolve();
  private readonly mirror: string;
  /** The state directory held a stack before this twin started: its resources are gone with the old twin. */
  private readonly stale: boolean;

  constructor(
    private readonly twin: Twin,
    private readonly plan: Parameters<TargetFactory>[1]["plan"],
  ) {
    this.mirror = path.join(twin.dir, "mirror");
    mkdirSync(this.mirror, { recursive: true });
    this.stale = existsSync(stateFile(twin.dir));
    this.providers = new Providers([tlsProvider, randomProvider, ...awsProviders(this.context(this.world))]);
  }

  private mirrorHosts(): string[] {
    return readdirSync(this.mirror)
      .filter((h) => /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(h))
      .filter((h) => statSync(path.join(this.mirror, h)).isDirectory())
      .sort();
  }

  /** The endpoints' names: Systems Manager's, and each mirrored host's. */
  private apiNames(world: AwsWorld): string[] {
    return [`ssm.${world.region}.amazonaws.com`, ...this.mirrorHosts()];
  }

  private async ensureTls(world: AwsWorld): Promise<{ key: string; cert: string }> {
    if (this.ca === undefined) {
      const key = makePrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
      const cert = await makeSelfSigned({
        privateKeyPem: key.privateKeyPem,
        isCaCertificate: true,
        subject: { commonName: "zester-infra AWS twin endpoints CA", organization: "zester-infra twin" },
        validityPeriodHours: 24 * 365,
        allowedUses: ["cert_signing", "crl_signing"],
      });
      this.ca = { key: String(key.privateKeyPem), cert: String(cert.certPem) };
    }
    const names = this.apiNames(world);
    if (this.tls?.names !== names.join(",")) {
      const key = makePrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
      const request = await makeCertRequest({
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: names[0] },
        dnsNames: names,
      });
      const signed = await makeLocallySigned({
        certRequestPem: request.certRequestPem,
        caPrivateKeyPem: this.ca.key,
        caCertPem: this.ca.cert,
        validityPeriodHours: 24 * 90,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      });
      this.tls = { names: names.join(","), key: String(key.privateKeyPem), cert: String(signed.certPem) };
    }
    return { key: this.tls.key, cert: this.tls.cert };
  }

  private endpointWorld(world: AwsWorld, tls: { key: string; cert: string }): EndpointWorld {
    const instances: EndpointWorld["instances"] = {};
    for (const i of world.instances.values()) {
      const role = world.roleOf(i);
      if (role !== undefined) world.credentialsFor(role);
      instances[i.address] = {
        instanceId: i.id,
        instanceType: i.instanceType,
        az: i.az,
        hostname: i.hostname,
        ...(role === undefined ? {} : { role }),
        tokensRequired: i.tokensRequired,
        tags: i.tags,
      };
    }
    return {
      region: world.region,
      account: ACCOUNT,
      tls,
      instances,
      roles: Object.fromEntries([...world.roles].map((r) => [r, [...(world.policies.get(r)?.values() ?? [])]])),
      credentials: Object.fromEntries(world.credentials),
      parameters: Object.fromEntries(world.parameters),
      mirror: this.mirror,
    };
  }

  /** The hosts' view brought up to the world: endpoints, records, load balancers; one at a time. */
  private sync(world: AwsWorld): Promise<void> {
    const next = this.syncing.then(() => this.syncNow(world));
    this.syncing = next.catch(() => undefined);
    return next;
  }

  private async syncNow(world: AwsWorld): Promise<void> {
    const tls = await this.ensureTls(world);
    const view = this.endpointWorld(world, tls);
    if (this.endpoints === undefined)
      this.endpoints = await Endpoints.start(
        this.twin.sandbox,
        view,
        (chunk) => process.stderr.write(chunk),
        (name, parameter) => world.parameters.set(name, parameter),
      );
    else this.endpoints.update(view);
    this.twin.sandbox.setRecords(
      world.hostRecords(Object.fromEntries(this.apiNames(world).map((n) => [n, [API_ADDRESS]]))),
    );
    await this.forward(world);
    await this.filter(world);
  }

  /** The security groups as each host's packet filter; only what changed is applied again. */
  private async filter(world: AwsWorld): Promise<void> {
    const wanted = world.hostPolicies();
    for (const [address, policy] of wanted) {
      const text = JSON.stringify(policy);
      if (this.filters.get(address) === text) continue;
      await this.twin.sandbox.setPolicy(address, policy);
      this.filters.set(address, text);
    }
    for (const address of [...this.filters.keys()])
      if (!wanted.has(address)) {
        await this.twin.sandbox.setPolicy(address, undefined);
        this.filters.delete(address);
      }
  }

  private async forward(world: AwsWorld): Promise<void> {
    const wanted = new Map<string, ForwarderSpec>();
    for (const [arn, l] of world.listeners) {
      const lb = world.loadBalancers.get(l.loadBalancerArn);
      const tg = world.targetGroups.get(l.targetGroupArn);
      if (lb === undefined || tg === undefined) continue;
      const hc = tg.healthCheck;
      const protocol = (typeof hc.protocol === "string" ? hc.protocol : "TCP").toUpperCase() as
        "HTTP" | "HTTPS" | "TCP";
      const name = `nlb-${arn.split("/").pop() ?? ""}`.slice(0, 63);
      wanted.set(name, {
        name,
        listen: { address: lb.address, port: l.port },
        targets: [...world.attachments.values()]
          .filter((a) => a.targetGroupArn === tg.arn)
          .flatMap((a) => {
            const i = world.instances.get(a.instanceId);
            return i === undefined ? [] : [{ address: i.address, port: a.port || tg.port }];
          }),
        healthCheck: {
          protocol: protocol === "TCP" ? "tcp" : "http",
          ...(protocol === "TCP" ? {} : { path: typeof hc.path === "string" ? hc.path : "/" }),
          ...(hc.port === undefined || hc.port === "traffic-port" ? {} : { port: Number(hc.port) }),
          intervalMs: Number(hc.interval ?? NLB_HEALTH_DEFAULTS.interval) * 1000,
          timeoutMs: Number(hc.timeout ?? NLB_HEALTH_DEFAULTS.timeout[protocol]) * 1000,
          healthyThreshold: Number(hc.healthyThreshold ?? NLB_HEALTH_DEFAULTS.healthy),
          unhealthyThreshold: Number(hc.unhealthyThreshold ?? NLB_HEALTH_DEFAULTS.unhealthy),
        },
        clientAddress: tg.preserveClientIp ? "preserved" : "translated",
        // A network load balancer with no healthy target fails open: it sends to all of them.
        whenNoneHealthy: "all-targets",
      });
    }
    for (const spec of wanted.values()) await this.twin.forwarders.set(spec);
    for (const name of this.forwarded) if (!wanted.has(name)) await this.twin.forwarders.remove(name);
    this.forwarded = new Set(wanted.keys());
  }

  private context(world: AwsWorld): AwsContext {
    return {
      world,
      twin: this.twin,
      sync: () => this.sync(world),
      caBundle: () => `${systemBundle()}${this.ca?.cert ?? ""}`,
      invoke: (fn, event) => this.invoke(fn, event),
    };
  }

  async up(request: { stack: string; set: string[] }, io: TargetIo): Promise<number> {
    io.out(`Updating (${request.stack}) on the AWS twin: ${REHEARSAL}\n\n`);
    if (this.stale) {
      io.err(
        `error: ${stateFile(this.twin.dir)} holds a stack a twin that is gone carried out; its hosts and volumes went with it.\n` +
          "`npm run -s twin -- aws down` (with the same --state-dir) removes it; then `up` starts from nothing.\n",
      );
      return 1;
    }
    this.twin.own("stack.json");
    const state: StackState = loadState(this.twin.dir);
    const world = this.world;
    const providers = this.providers;
    const answers = new PlanTimeAnswers(state, providers);
    let planned: Awaited<ReturnType<typeof this.plan>>;
    try {
      planned = await this.plan({
        stack: request.stack,
        set: request.set,
        answer: (resource) => {
          if (resource.type === "pulumi:providers:aws")
            world.useRegion(typeof resource.inputs.region === "string" ? resource.inputs.region : "");
          return answers.answer(resource);
        },
        ...(state.outputs === null ? {} : { previousOutputs: state.outputs }),
        ...this.reportFor(),
      });
    } catch (error) {
      io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
    if (planned.outputs.target !== "aws" || !world.hasRegion) {
      io.err(`error: stack ${request.stack} targets ${String(planned.outputs.target)}: run it on that target's twin\n`);
      return 1;
    }
    const resources = targetResources(planned.resources);
    for (const note of this.unmirrored(planned.resources.map((r) => r.inputs))) io.err(`warning: ${note}\n`);
    const result = await engineUp(
      state,
      { resources, outputs: planned.outputs, answers: answers.answers() },
      {
        providers,
        save: (s) => {
          saveState(this.twin.dir, s);
        },
        print: (line) => {
          io.out(`${line}\n`);
        },
      },
    );
    const c = result.counts;
    io.out(
      `\nResources: ${String(c.create)} created, ${String(c.update)} updated, ${String(c.replace)} replaced, ${String(c.delete)} deleted, ${String(c.same)} unchanged\n`,
    );
    for (const n of result.notRun) io.out(`  recorded, not run: ${n.urn.split("::").pop() ?? n.urn}: ${n.why}\n`);
    if (!result.ok) {
      const f = result.failure;
      io.err(`error: ${f?.operation ?? "update"} ${f?.urn ?? ""} failed: ${f?.message ?? "unknown"}\n`);
      io.err("What was done is kept: the next `up` starts from there.\n");
      return 1;
    }
    io.out(`\n${REHEARSAL}.\n`);
    return 0;
  }

  /** The reconcile job's last report, as the program reads it back (its parameter). */
  private reportFor(): { transitionReport?: string } {
    for (const [name, p] of this.world.parameters)
      if (name.endsWith("/kv-reconcile/transition")) return { transitionReport: p.value };
    return {};
  }

  /** Pinned downloads whose URL the mirror does not hold: the hosts cannot fetch them. */
  private unmirrored(inputs: Json[]): string[] {
    const urls = new Set<string>();
    for (const i of inputs) {
      if (typeof i.name !== "string" || !i.name.endsWith("/manifest") || typeof i.value !== "string") continue;
      try {
        const pins = (JSON.parse(i.value) as { pins?: Record<string, { url?: string }> }).pins ?? {};
        for (const pin of Object.values(pins)) if (typeof pin.url === "string") urls.add(pin.url);
      } catch {
        continue;
      }
    }
    return [...urls]
      .filter((url) => {
        const u = new URL(url);
        return !existsSync(path.join(this.mirror, u.hostname, decodeURIComponent(u.pathname)));
      })
      .map(
        (url) =>
          `${url} is not in the twin's mirror (${this.mirror}/<host>/<path>): the hosts have no internet and cannot install it; mirror the file and set zester:aws.natsServer to it`,
      );
  }

  async status(): Promise<unknown> {
    const state = loadState(this.twin.dir);
    const outputs = state.outputs ?? {};
    const aws = (outputs.aws ?? {}) as Json;
    const records = this.world.hostRecords({});
    const servers = await Promise.all(
      ((aws.servers ?? []) as { name: string; dnsName: string }[]).map(async (s) => {
        const address = records[s.dnsName]?.[0] ?? null;
        const host = [...this.world.instances.values()].find((i) => i.address === address)?.id ?? null;
        const monitorUrl = `http://${s.dnsName}:${String(MONITOR_PORT)}`;
        const healthy = host !== null && (await healthzOnHost(this.twin, host));
        return { name: s.name, host, address, healthy, monitorUrl };
      }),
    );
    return {
      target: "aws",
      twin: REHEARSAL,
      tier: outputs.tier ?? null,
      peels: outputs.peels ?? null,
      transition: outputs.transition ?? null,
      servers,
      connect: connectOf(aws.peelBootstrap),
    };
  }

  /** Every scheduled function, invoked once as its schedule would (the reconcile job). */
  async runJob(io: TargetIo): Promise<number> {
    const functions = [...new Set(this.world.scheduled.values())].flatMap((arn) => {
      const fn = this.world.functions.get(arn);
      return fn === undefined ? [] : [fn];
    });
    if (functions.length === 0) {
      io.err("error: no scheduled function on the twin: run `up` first\n");
      return 1;
    }
    let status = 0;
    for (const fn of functions) {
      io.out(`Invoking ${fn.name} on the AWS twin …\n`);
      const r = await this.invoke(fn, undefined);
      io.out(r.stdout);
      if (r.status !== 0) {
        io.err(`error: ${fn.name} failed (exit ${String(r.status)}):\n${r.stderr}`);
        status = 1;
      } else io.out(`${fn.name}: done in ${(r.ms / 1000).toFixed(1)} s\n`);
    }
    io.out(`\n${REHEARSAL}.\n`);
    return status;
  }

  /** One invocation: the function's code on a client in its first subnet, with Lambda's environment. */
  private async invoke(
    fn: FunctionRecord,
    event: unknown,
  ): Promise<{ status: number; stdout: string; stderr: string; ms: number }> {
    const subnet = this.world.subnets.get(fn.subnetIds[0] ?? "");
    if (subnet === undefined) throw new Error(`${fn.name}: its subnet ${String(fn.subnetIds[0])} does not exist`);
    this.twin.own("lambda");
    const dir = path.join(this.twin.dir, "lambda", fn.name);
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(fn.files)) writeFileSync(path.join(dir, name), content);
    const caFile = path.join(this.twin.dir, "lambda", "twin-ca.pem");
    writeFileSync(caFile, this.ca?.cert ?? "");
    const key = this.world.credentialsFor(fn.role);
    const credential = this.world.credentials.get(key);
    const client = await this.twin.openExec(subnet.cidr);
    // Its ENI is a member of its security groups; the endpoints learn the role's credentials.
    this.world.functionClients.set(client.address, fn.groups);
    await this.sync(this.world);
    const started = Date.now();
    try {
      const env = {
        ...fn.environment,
        AWS_REGION: this.world.region,
        AWS_DEFAULT_REGION: this.world.region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_ACCESS_KEY_ID: key,
        AWS_SECRET_ACCESS_KEY: credential?.secret ?? "",
        AWS_SESSION_TOKEN: credential?.token ?? "",
        NODE_EXTRA_CA_CERTS: caFile,
        NODE_PATH: sdkModules(),
      };
      const argv = client.command([
        process.execPath,
        lambdaRuntime(),
        dir,
        fn.handler,
        ...(event === undefined ? [] : [JSON.stringify(event)]),
      ]);
      const r = await runCommand(argv, { env: { ...process.env, ...env }, timeoutMs: fn.timeoutSeconds * 1000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
    } finally {
      this.world.functionClients.delete(client.address);
      await this.sync(this.world);
      await client.release();
    }
  }

  execSubnet(site: string | undefined): Promise<string> {
    const subnets = [...this.world.subnets.values()];
    const sites = new Map<string, string>();
    for (const s of subnets.sort((a, b) => (a.tags.Name ?? "").localeCompare(b.tags.Name ?? ""))) {
      const name = s.tags["zester:site"] ?? (/private/.test(s.tags.Name ?? "") ? "core" : undefined);
      if (name !== undefined && !sites.has(name)) sites.set(name, s.cidr);
    }
    const cidr = sites.get(site ?? "core");
    if (cidr === undefined)
      return Promise.reject(
        new Error(
          sites.size === 0
            ? "no subnet yet: run `up` first"
            : `no site "${String(site)}": the sites are ${[...sites.keys()].join(", ")}`,
        ),
      );
    return Promise.resolve(cidr);
  }

  close(): Promise<void> {
    this.endpoints?.close();
    return Promise.resolve();
  }
}

/**
 * Whether the server answers `/healthz` with 200, asked on its own host (its security group admits
 * monitoring from the operator's networks only, which the twin has no host in).
 */
async function healthzOnHost(twin: Twin, host: string): Promise<boolean> {
  const probe = `import urllib.request
try:
    print(urllib.request.urlopen("http://127.0.0.1:${String(MONITOR_PORT)}/healthz", timeout=3).status)
except Exception as error:
    print(error)`;
  try {
    const machine = twin.machine(host);
    if (!machine.running) return false;
    return (await machine.sh(`python3 - <<'EOF'\n${probe}\nEOF`, { timeoutMs: 10_000 })).stdout.trim() === "200";
  } catch {
    return false;
  }
}

/** Per site, where a peel connects as its bootstrap says (`/etc/zester/peel.yaml`'s `nats`). */
function connectOf(bootstrap: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [site, userData] of Object.entries((bootstrap ?? {}) as Record<string, unknown>)) {
    if (typeof userData !== "string") continue;
    const config = parseYaml(userData) as { write_files?: { path: string; content: string }[] };
    const peel = config.write_files?.find((f) => f.path === "/etc/zester/peel.yaml");
    if (peel === undefined) continue;
    const nats = (parseYaml(peel.content) as { nats?: Json }).nats ?? {};
    const tls = (nats.tls ?? {}) as Json;
    out[site] = {
      servers: nats.servers ?? [],
      credsFile: nats.credentials ?? null,
      tls: { caFile: tls.ca_file ?? null },
      jetstreamDomain: nats.jetstream_domain ?? null,
    };
  }
  return out;
}

export const createTarget: TargetFactory = (twin, services) => new AwsTwinTarget(twin, services.plan);
