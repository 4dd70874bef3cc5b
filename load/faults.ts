/**
 * The fault suite: for each scenario, the tier it needs is started on loopback in a directory of
 * its own, peels write while the fault happens, and the suite reports the write gap, the time
 * until the tier is whole again, and the acknowledged writes that were lost (read back by
 * sequence number afterwards). Every server it starts is stopped and every directory removed.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { connectNode } from "./connect";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { NatsServerBinary } from "../local/nats-binary";
import { down, up } from "../local/runner";
import type { Topology } from "../topology/types";
import { coreUrls } from "./addresses";
import {
  defaultWriters,
  scenarios,
  WRITTEN_STREAM,
  type Scenario,
  type ScenarioContext,
  type Timing,
} from "./fault-scenarios";
import { masterIdentity, operatorIdentity, peelIdentity } from "./identity";
import { mergeLedgers } from "./ledger";
import { countLost } from "./readback";
import { loadState, restartDelayMs, thawAll, tierWhole } from "./servers";
import { WriterGroup, type WriterOptions } from "./writers";

export interface ScenarioResult {
  name: string;
  tier: string;
  /** The longest time one writing peel went without an acknowledged write, from the fault on. */
  gapMs: number;
  /** The longest time no writing peel got a write acknowledged at all. */
  outageMs: number;
  /** From the fault until the tier is whole again (every server healthy, replicas current, every peel writing). */
  recoveryMs: number | null;
  /** From the repair (restart, thaw, heal, space freed) until whole again. */
  repairToWholeMs: number | null;
  recovered: boolean;
  acked: number;
  lost: number;
  /** Writes that were never acknowledged (timeouts, refusals): not losses. */
  unacked: number;
  /** Region cut only: the longest gap of the writes that cross into the cut-off region. */
  crossRegionGapMs?: number;
  detail: string;
  /** Why unacknowledged writes failed, by error. */
  failures: Record<string, number>;
}

export interface FaultsReport {
  natsServer: string;
  peels: number;
  short: boolean;
  scenarios: ScenarioResult[];
}

export interface FaultsOptions {
  natsServer: NatsServerBinary;
  /** Writing peels per scenario. */
  peels: number;
  /** Shorter holds (restart after 1 s, 3 s freeze and cut): what `npm test` runs. */
  short: boolean;
  /** Scenario names to run; default all. */
  only?: string[];
  /** Where the scenarios' state directories go. @default the OS temp directory */
  workDir?: string;
  log?: (line: string) => void;
}

export const WRITER_OPTIONS: WriterOptions = {
  // 20 writes a second per peel: a gap shows to within ~50 ms.
  paceMs: 50,
  bytes: 1_000,
  // Each write is retried as the plan's client settings say (ackTimeoutSeconds, publishAttempts).
};

/** How long the suite waits for a tier to be whole again after the repair. */
const RECOVERY_TIMEOUT_MS = 120_000;

export const SCENARIO_NAMES = scenarios().map((s) => s.name);

function timingFor(short: boolean, restartAfterMs: number): Timing {
  return short
    ? { restartAfterMs: 1_000, freezeMs: 3_000, holdMs: 3_000 }
    : { restartAfterMs, freezeMs: 10_000, holdMs: 10_000 };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One connection per region's core, by JetStream domain, for looking at and reading streams. */
async function operatorConnections(
  t: Topology,
  stateDir: string,
): Promise<{ byDomain: (domain: string | undefined) => NatsConnection; close: () => Promise<void> }> {
  const state = loadState(stateDir);
  const connections = new Map<string | undefined, NatsConnection>();
  for (const cluster of t.clusters) {
    const domain = t.servers.find((s) => s.cluster === cluster.name)?.domain;
    connections.set(
      domain,
      await connectNode({
        ...operatorIdentity(state),
        servers: coreUrls(t, cluster.region),
        name: "zester-infra faults",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      }),
    );
  }
  const first = [...connections.values()][0];
  return {
    byDomain: (domain) => {
      const nc = connections.get(domain) ?? first;
      if (nc === undefined) throw new Error("no core cluster to connect to");
      return nc;
    },
    close: async () => {
      await Promise.all([...connections.values()].map((nc) => nc.close().catch(() => undefined)));
    },
  };
}

/**
 * When the tier is whole again after a repair at `repairedAt`: every writer has had a write
 * acknowledged since, every server is healthy and the written bucket has current replicas in
 * every domain written to. Undefined if that does not happen within RECOVERY_TIMEOUT_MS.
 */
async function untilWhole(
  ctx: ScenarioContext,
  groups: WriterGroup[],
  repairedAt: number,
): Promise<number | undefined> {
  const domains = new Set(groups.flatMap((g) => g.peels.map((p) => p.address.domain)));
  const streams = [...domains].map((domain) => ({ domain, stream: WRITTEN_STREAM }));
  const deadline = performance.now() + RECOVERY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (groups.every((g) => g.allAckedAfter(repairedAt)) && (await tierWhole(ctx.stateDir, ctx.operator, streams)))
      return performance.now();
    await sleep(100);
  }
  return undefined;
}

/** State directories of the scenarios running now, for `stopRunningScenarios`. */
const active = new Set<string>();

/** Stops the servers of every scenario still running and removes its directory (on Ctrl-C). */
export async function stopRunningScenarios(): Promise<void> {
  for (const stateDir of active) {
    thawAll(stateDir);
    await down(stateDir, { purge: true });
  }
}

export async function runScenario(scenario: Scenario, options: FaultsOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => undefined);
  const stateDir = mkdtempSync(path.join(options.workDir ?? os.tmpdir(), `zester-fault-${scenario.name}-`));
  active.add(stateDir);
  const groups: WriterGroup[] = [];
  const undo: (() => Promise<void>)[] = [];
  try {
    log(`${scenario.name}: starting the ${String(scenario.tierPeels)}-peel tier`);
    const running = await up({ peels: scenario.tierPeels, stateDir, natsServer: options.natsServer, detach: true });
    const topology = running.topology;
    // Operators connect after `prepare`: a reconfiguration stops the servers through lame duck,
    // which a server with clients draws out by its grace period.
    const operators: { connected?: Awaited<ReturnType<typeof operatorConnections>> } = {};
    const ctx: ScenarioContext = {
      stateDir,
      topology,
      state: () => loadState(stateDir),
      timing: timingFor(options.short, restartDelayMs(running.state)),
      operator: (domain) => {
        if (operators.connected === undefined) throw new Error("no operator connection before the writers start");
        return operators.connected.byDomain(domain);
      },
      writerServers: () => groups.flatMap((g) => g.peels.map((p) => p.serverName)),
      log,
    };
    if (scenario.prepare !== undefined) undo.push(await scenario.prepare(ctx));
    operators.connected = await operatorConnections(topology, stateDir);
    undo.push(operators.connected.close);
    const state = ctx.state();
    for (const plan of (scenario.writers ?? defaultWriters)(ctx, options.peels))
      groups.push(
        new WriterGroup(
          plan.group,
          plan.peels,
          // Writes into another region's buckets are the masters' (peels' account stays in its region).
          plan.group === "cross-region" ? () => masterIdentity(state) : (id) => peelIdentity(state, id),
          topology.plan.client.peel,
          WRITER_OPTIONS,
        ),
      );
    await Promise.all(groups.map((g) => g.start()));
    // In the full suite peels have been connected for longer than their reconnect wait, as a
    // long-running peel has: nats.js retries its current server first and waits out
    // reconnectTimeWait if it connected less than that ago.
    await sleep(options.short ? 500 : (topology.plan.client.peel.reconnectWaitSeconds + 1) * 1000);

    log(`${scenario.name}: injecting the fault`);
    const times = await scenario.run(ctx);
    log(`${scenario.name}: ${times.detail}; waiting until the tier is whole`);
    const wholeAt = await untilWhole(ctx, groups, times.repairedAt);
    // Writes acknowledged after the recovery are read back too.
    await sleep(options.short ? 500 : 2_000);
    await Promise.all(groups.map((g) => g.stop()));
    const ledger = mergeLedgers(groups.map((g) => g.ledger.data()));
    log(`${scenario.name}: reading back ${String(ledger.acked.length)} acknowledged writes`);
    const loss = await countLost(ledger.acked, ctx.operator);
    const end = wholeAt ?? performance.now();
    const worst = (group: string, measure: (g: WriterGroup) => number): number =>
      Math.round(Math.max(0, ...groups.filter((g) => g.name === group).map(measure)));
    return {
      name: scenario.name,
      tier: topology.tier,
      gapMs: worst("affected", (g) => g.gapMs(times.faultAt, end)),
      outageMs: worst("affected", (g) => g.outageMs(times.faultAt, end)),
      recoveryMs: wholeAt === undefined ? null : Math.round(wholeAt - times.faultAt),
      repairToWholeMs: wholeAt === undefined ? null : Math.round(wholeAt - times.repairedAt),
      recovered: wholeAt !== undefined,
      acked: ledger.acked.length,
      lost: loss.lost,
      unacked: ledger.unacked,
      ...(groups.some((g) => g.name === "cross-region")
        ? { crossRegionGapMs: worst("cross-region", (g) => g.gapMs(times.faultAt, end)) }
        : {}),
      detail: times.detail,
      failures: ledger.failures,
    };
  } finally {
    await Promise.all(groups.map((g) => g.stop().catch(() => undefined)));
    for (const u of undo.reverse()) await u().catch(() => undefined);
    thawAll(stateDir);
    await down(stateDir, { purge: true });
    rmSync(stateDir, { recursive: true, force: true });
    active.delete(stateDir);
  }
}

export async function runFaults(options: FaultsOptions): Promise<FaultsReport> {
  const chosen = scenarios().filter((s) => options.only === undefined || options.only.includes(s.name));
  const results: ScenarioResult[] = [];
  for (const scenario of chosen) results.push(await runScenario(scenario, options));
  return { natsServer: options.natsServer.version, peels: options.peels, short: options.short, scenarios: results };
}
