/**
 * Load balancers on the twin's network: a listener address and port, targets, and health checks
 * as data, as an AWS NLB's target group or a Kubernetes Service with its endpoints describes
 * them. The forwarding is the kernel's: nftables DNAT in the sandbox's network namespace, which
 * every packet between two hosts crosses (as kube-proxy's nftables mode does it, and as an NLB
 * forwards a flow to one healthy target), each new connection to a routable target at random;
 * the client's address is kept (NLB's client IP preservation; a target then answers the client
 * itself, so its security group must let the client in, and a target reaching itself through
 * the load balancer fails, as AWS documents) or replaced by the listener's (`translated`).
 * Connections made keep their target when its health changes (conntrack keeps the mapping).
 *
 * Health follows AWS's target group rules (the Elastic Load Balancing guide, "Health checks for
 * Network Load Balancer target groups"): a new target is `initial` and takes traffic only after
 * `healthyThreshold` passing checks in a row; a healthy one turns unhealthy after
 * `unhealthyThreshold` failing ones; each probe is a TCP connect or an HTTP GET whose code must
 * match, within `timeoutMs`, every `intervalMs`, from the listener's address (through the
 * targets' own packet filter). When no target is healthy, an NLB fails open (every target takes
 * traffic: `whenNoneHealthy: "all-targets"`); a Service without ready endpoints refuses
 * connections (`"reject"`). Without a health check every target is routable (a Service's
 * endpoints follow the pods' readiness, which the Kubernetes twin's kubelet decides).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { z } from "zod";
import type { Check, Probe } from "./health-checker";
import { enterSandbox, mustRun, toolEnvironment } from "./namespaces";
import type { Sandbox } from "./sandbox";
import type { UnpackedTool } from "./tools";
import { builtScript } from "./built-script";

const IPV4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "an IPv4 address such as 10.0.1.200");
const PORT = z.number().int().min(1).max(65_535);

export const HealthCheckSchema = z.object({
  protocol: z.enum(["tcp", "http"]),
  /** The HTTP path. @default "/" */
  path: z.string().startsWith("/").optional(),
  /** The port probed. @default the target's own (AWS: "traffic-port") */
  port: PORT.optional(),
  intervalMs: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  healthyThreshold: z.number().int().min(1),
  unhealthyThreshold: z.number().int().min(1),
  /** HTTP codes counted healthy, inclusive. @default [200, 399] (NLB's default matcher) */
  codes: z.tuple([z.number().int(), z.number().int()]).optional(),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

export const ForwarderSpecSchema = z.object({
  /** Lower-case letters, digits and dashes. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes"),
  listen: z.object({ address: IPV4, port: PORT }),
  targets: z.array(z.object({ address: IPV4, port: PORT })),
  /** @default none: every target is routable */
  healthCheck: HealthCheckSchema.optional(),
  clientAddress: z.enum(["preserved", "translated"]),
  whenNoneHealthy: z.enum(["all-targets", "reject"]),
});
export type ForwarderSpec = z.infer<typeof ForwarderSpecSchema>;

export type HealthState = "initial" | "healthy" | "unhealthy";

export interface TargetHealth {
  address: string;
  port: number;
  state: HealthState;
  /** The last probe's answer (`connected`, `200`, `ECONNREFUSED`, `Target.Timeout`, …). */
  reason: string;
  /** Whether new connections go to it now. */
  routable: boolean;
}

export interface ForwarderState {
  name: string;
  listen: { address: string; port: number };
  targets: TargetHealth[];
}

interface Tally {
  state: HealthState;
  passes: number;
  fails: number;
  reason: string;
}

/** A target's health after one more probe (AWS's thresholds, counted in a row). */
export function nextHealth(tally: Tally, ok: boolean, reason: string, check: HealthCheck): Tally {
  const passes = ok ? tally.passes + 1 : 0;
  const fails = ok ? 0 : tally.fails + 1;
  let state = tally.state;
  if (ok && state !== "healthy" && passes >= check.healthyThreshold) state = "healthy";
  if (!ok && state === "healthy" && fails >= check.unhealthyThreshold) state = "unhealthy";
  if (!ok && state === "initial" && fails >= check.unhealthyThreshold) state = "unhealthy";
  return { state, passes, fails, reason };
}

/** Which targets take new connections: the healthy ones; when none is, all of them or none. */
export function routable(spec: ForwarderSpec, states: readonly HealthState[]): boolean[] {
  if (spec.healthCheck === undefined) return spec.targets.map(() => true);
  const healthy = states.map((s) => s === "healthy");
  if (healthy.some(Boolean)) return healthy;
  return spec.targets.map(() => spec.whenNoneHealthy === "all-targets");
}

/** The nftables table of every forwarder: DNAT to the routable targets, SNAT where translated. */
export function renderForwarding(forwarders: readonly { spec: ForwarderSpec; routable: boolean[] }[]): string {
  const prerouting: string[] = [];
  const postrouting: string[] = [];
  for (const { spec, routable: to } of forwarders) {
    const targets = spec.targets.filter((_, i) => to[i] === true);
    const match = `ip daddr ${spec.listen.address} tcp dport ${String(spec.listen.port)}`;
    const at = (t: { address: string; port: number }) => `${t.address} . ${String(t.port)}`;
    if (targets.length === 1 && targets[0] !== undefined)
      prerouting.push(`${match} dnat ip to ${targets[0].address}:${String(targets[0].port)}`);
    else if (targets.length > 1)
      prerouting.push(
        `${match} dnat ip to numgen random mod ${String(targets.length)} map { ${targets.map((t, i) => `${String(i)} : ${at(t)}`).join(", ")} }`,
      );
    if (spec.clientAddress === "translated")
      postrouting.push(`ct status dnat ct original ip daddr ${spec.listen.address} snat ip to ${spec.listen.address}`);
  }
  return [
    "table ip twin_lb {}",
    "delete table ip twin_lb",
    "table ip twin_lb {",
    "  chain prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    ...prerouting.map((r) => `    ${r}`),
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    ...[...new Set(postrouting)].map((r) => `    ${r}`),
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Where the compiled health checker is (it runs as a process of its own, from dist/). */
const checkerScript = (): string => builtScript(__filename, "twin/host/health-checker", "the health checker");

interface Forwarder {
  spec: ForwarderSpec;
  tallies: Tally[];
}

export class Forwarders {
  private readonly forwarders = new Map<string, Forwarder>();
  private checker: ChildProcess | undefined;
  private readonly addresses = new Set<string>();
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly sandbox: Sandbox,
    private readonly nft: UnpackedTool,
  ) {}

  /** Adds or replaces a forwarder; a target kept keeps its health. */
  async set(input: ForwarderSpec): Promise<void> {
    const parsed = ForwarderSpecSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `load balancer ${input.name}: ${issue?.path.join(".") ?? "(spec)"}: ${issue?.message ?? "invalid"}`,
      );
    }
    const spec = parsed.data;
    const taken = [...this.forwarders.values()].find(
      (f) =>
        f.spec.name !== spec.name &&
        f.spec.listen.address === spec.listen.address &&
        f.spec.listen.port === spec.listen.port,
    );
    if (taken !== undefined)
      throw new Error(`${spec.listen.address}:${String(spec.listen.port)} is ${taken.spec.name}'s listener already`);
    const before = this.forwarders.get(spec.name);
    const tallies = spec.targets.map((t) => {
      const i = before?.spec.targets.findIndex((o) => o.address === t.address && o.port === t.port) ?? -1;
      const kept =
        i >= 0 && before?.spec.healthCheck !== undefined && spec.healthCheck !== undefined
          ? before.tallies[i]
          : undefined;
      return kept ?? { state: "initial" as const, passes: 0, fails: 0, reason: "Elb.RegistrationInProgress" };
    });
    this.forwarders.set(spec.name, { spec, tallies });
    await this.listenOn(spec.listen.address);
    await this.apply();
    this.sendChecks();
  }

  async remove(name: string): Promise<void> {
    if (!this.forwarders.delete(name)) return;
    await this.apply();
    this.sendChecks();
  }

  state(name: string): ForwarderState {
    const forwarder = this.forwarders.get(name);
    if (forwarder === undefined)
      throw new Error(
        `no load balancer ${name} in the twin; it has ${[...this.forwarders.keys()].join(", ") || "none"}`,
      );
    const { spec, tallies } = forwarder;
    const to = routable(
      spec,
      tallies.map((t) => t.state),
    );
    return {
      name,
      listen: spec.listen,
      targets: spec.targets.map((t, i) => ({
        ...t,
        state: spec.healthCheck === undefined ? "healthy" : (tallies[i]?.state ?? "initial"),
        reason: spec.healthCheck === undefined ? "no health check" : (tallies[i]?.reason ?? ""),
        routable: to[i] ?? false,
      })),
    };
  }

  list(): ForwarderState[] {
    return [...this.forwarders.keys()].sort().map((name) => this.state(name));
  }

  /** The listener's address on the sandbox's loopback: hosts reach it, and probes come from it. */
  private async listenOn(address: string): Promise<void> {
    if (this.addresses.has(address)) return;
    await this.sandbox.inSandbox(`ip addr add ${address}/32 dev lo 2>/dev/null || true`);
    this.addresses.add(address);
  }

  /** Writes the forwarding rules, one change at a time. */
  private apply(): Promise<void> {
    const next = this.applying.then(async () => {
      const rules = renderForwarding(
        [...this.forwarders.values()].map(({ spec, tallies }) => ({
          spec,
          routable: routable(
            spec,
            tallies.map((t) => t.state),
          ),
        })),
      );
      await mustRun(
        [
          ...enterSandbox(this.sandbox.pid),
          "--",
          "env",
          `LD_LIBRARY_PATH=${this.nft.libraryPath}`,
          this.nft.bin,
          "-f",
          "-",
        ],
        { input: rules },
      );
    });
    this.applying = next.catch(() => undefined);
    return next;
  }

  /** Hands every check to the checker process (started on first use). */
  private sendChecks(): void {
    const checks: Check[] = [];
    for (const { spec } of this.forwarders.values()) {
      const hc = spec.healthCheck;
      if (hc === undefined) continue;
      spec.targets.forEach((t, i) => {
        checks.push({
          id: `${spec.name}/${String(i)}/${t.address}:${String(t.port)}`,
          address: t.address,
          port: hc.port ?? t.port,
          protocol: hc.protocol,
          path: hc.path ?? "/",
          codes: hc.codes ?? [200, 399],
          intervalMs: hc.intervalMs,
          timeoutMs: hc.timeoutMs,
          source: spec.listen.address,
        });
      });
    }
    if (checks.length === 0 && this.checker === undefined) return;
    this.startChecker().stdin?.write(`${JSON.stringify({ checks })}\n`);
  }

  private startChecker(): ChildProcess {
    if (this.checker !== undefined) return this.checker;
    const args = [...enterSandbox(this.sandbox.pid).slice(1), "--", process.execPath, checkerScript()];
    const checker = spawn("nsenter", args, { stdio: ["pipe", "pipe", "inherit"], env: toolEnvironment() });
    checker.stdin.on("error", () => undefined);
    let buffer = "";
    checker.stdout.on("data", (data: Buffer) => {
      buffer += data.toString();
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        this.onProbe(JSON.parse(buffer.slice(0, newline)) as Probe);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
      }
    });
    this.checker = checker;
    return checker;
  }

  private onProbe(result: Probe): void {
    const [name = "", index = "", target = ""] = result.id.split("/");
    const forwarder = this.forwarders.get(name);
    const i = Number(index);
    const spec = forwarder?.spec;
    const t = spec?.targets[i];
    const check = spec?.healthCheck;
    const tally = forwarder?.tallies[i];
    if (forwarder === undefined || t === undefined || check === undefined || tally === undefined) return;
    if (`${t.address}:${String(t.port)}` !== target) return;
    const next = nextHealth(tally, result.ok, result.detail, check);
    forwarder.tallies[i] = next;
    if (next.state !== tally.state) void this.apply().catch(() => undefined);
  }

  /** Stops the checker (the rules go with the sandbox). */
  close(): void {
    this.checker?.stdin?.end();
    this.checker?.kill("SIGKILL");
    this.checker = undefined;
  }
}
