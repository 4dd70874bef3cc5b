/**
 * `npm run bench`'s load sections: the durability cost, a fleet figure, the full fault suite and
 * (opt-in, long) the search for the fleet size at which p99 passes 1 s. Figures, never assertions.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { canSyncAlways, measureKvPuts, startDurabilityTier, type PutFigures, type SyncMode } from "../load/durability";
import { runFaults } from "../load/faults";
import { runFleet, type FleetReport } from "../load/fleet";
import { describeTraffic, trafficModel } from "../load/traffic";
import { fetchFromDebian, type DebianSuite } from "../local/nats-binary";
import { down, up } from "../local/runner";
import { plan } from "../sizing";
import { TIERS } from "../sizing/guide";

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 0 ? ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2 : (s[mid] ?? 0);
};

/** Where a bench section writes its lines for people (stdout, or stderr under --json). */
export type BenchLog = (line: string) => void;

/**
 * KV put throughput and latency with `sync_interval: always` and without, on a single server and
 * a 3-node cluster, for bookworm's and the current nats-server. The configurations run in
 * interleaved rounds so the machine's noise hits all alike; medians of the rounds.
 */
export async function durabilitySection(log: BenchLog): Promise<unknown> {
  const figures: Record<string, unknown>[] = [];
  const rounds = env("BENCH_DURABILITY_ROUNDS", 3);
  const seconds = env("BENCH_DURABILITY_SECONDS", 4);
  const bytes = 2_000;
  const loads = [1, 32];
  log(
    `\ndurability cost: KV puts of ${String(bytes)} B (a fact sync) into facts, ${loads.join(" and ")} in flight, ` +
      `median of ${String(rounds)} interleaved rounds of ${String(seconds)} s`,
  );
  for (const suite of ["bookworm", "sid"] as DebianSuite[]) {
    const natsServer = fetchFromDebian(suite);
    const modes: SyncMode[] = canSyncAlways(natsServer.version) ? ["default", "always"] : ["default"];
    const configs = [50, 2_000].flatMap((peels) => modes.map((sync) => ({ peels, sync })));
    const tiers = [];
    for (const c of configs) tiers.push(await startDurabilityTier(natsServer, c.peels, c.sync));
    try {
      const samples = new Map<string, PutFigures[]>();
      for (let r = 0; r < rounds; r++)
        for (const [i, c] of configs.entries())
          for (const inFlight of loads) {
            const tier = tiers[i];
            if (tier === undefined) continue;
            const key = `${String(c.peels)}/${c.sync}/${String(inFlight)}`;
            samples.set(key, [
              ...(samples.get(key) ?? []),
              await measureKvPuts(tier, { bucket: "facts", seconds, inFlight, bytes }),
            ]);
          }
      log(
        `  nats-server ${natsServer.version} (Debian ${suite})${modes.length === 1 ? ": no sync_interval before 2.10, default only" : ""}`,
      );
      for (const peels of [50, 2_000]) {
        const tier = plan({ peels }).tier;
        for (const inFlight of loads) {
          const row = (sync: SyncMode) => {
            const xs = samples.get(`${String(peels)}/${sync}/${String(inFlight)}`) ?? [];
            return {
              rate: median(xs.map((x) => x.putsPerSecond)),
              p50: median(xs.map((x) => x.p50Ms)),
              p99: median(xs.map((x) => x.p99Ms)),
            };
          };
          for (const sync of modes) {
            const m = row(sync);
            const base = row("default");
            const ratio =
              sync === "always"
                ? `   ${(base.rate / m.rate).toFixed(1)}× fewer puts/s, p99 ${(m.p99 / base.p99).toFixed(1)}× the default's`
                : "";
            figures.push({
              natsServer: natsServer.version,
              tier,
              sync,
              inFlight,
              putsPerSecond: Math.round(m.rate),
              p50Ms: m.p50,
              p99Ms: m.p99,
            });
            log(
              `    ${tier.padEnd(12)} sync ${sync.padEnd(7)} ${String(inFlight).padStart(2)} in flight ` +
                `${m.rate.toFixed(0).padStart(7)} puts/s   p50 ${m.p50.toFixed(2).padStart(7)} ms   p99 ${m.p99.toFixed(2).padStart(7)} ms${ratio}`,
            );
          }
        }
      }
    } finally {
      for (const t of tiers) await t.stop();
    }
  }
  return figures;
}

/** Starts a detached local tier for `peels` in a temporary directory; `stop()` removes it. */
async function tier(peels: number): Promise<{ stateDir: string; stop: () => Promise<void>; version: string }> {
  const natsServer = fetchFromDebian("sid");
  const stateDir = mkdtempSync(path.join(os.tmpdir(), `zester-bench-fleet-`));
  await up({ peels, stateDir, natsServer, detach: true });
  return {
    stateDir,
    version: natsServer.version,
    stop: async () => {
      await down(stateDir, { purge: true });
    },
  };
}

function fleetLine(r: FleetReport): string {
  const cpu = r.servers
    .map((s) => `${s.name} ${s.cpuPercentMean.toFixed(0)}%/${s.memMiBMax.toFixed(0)} MiB`)
    .join(", ");
  return (
    `${String(r.peels).padStart(6)} peels: ${String(r.connected)} connected, p50 ${String(r.p50Ms)} ms, p99 ${String(r.p99Ms)} ms, ` +
    `${String(r.messagesPerSecond)} msgs/s (model ${String(r.modelMessagesPerSecond)}), ${String(r.kvWritesPerSecond)} KV writes/s, acked ${String(r.acked)}, lost ${String(r.lost)}, ` +
    `unacked ${String(r.unacked)}; servers (CPU mean/mem) ${cpu}; simulator ${String(r.clientCpuPercent)}% CPU; connect ${r.connectSeconds.toFixed(0)} s`
  );
}

/** One fleet on the 3-node tier (BENCH_FLEET_PEELS, default 2,000, for 20 s). */
export async function fleetSection(log: BenchLog): Promise<unknown> {
  const peels = env("BENCH_FLEET_PEELS", 2_000);
  const durationSeconds = env("BENCH_FLEET_SECONDS", 20);
  const t = await tier(2_000);
  try {
    log(
      `\nfleet on the 3-node tier (local up --peels 2000, nats-server ${t.version}), ${String(durationSeconds)} s: ${describeTraffic(trafficModel())}`,
    );
    const r = await runFleet({
      stateDir: t.stateDir,
      peels,
      peelsPerProcess: 1_000,
      durationSeconds,
      traffic: trafficModel(),
    });
    log(`  ${fleetLine(r)}`);
    return r;
  } finally {
    await t.stop();
  }
}

/**
 * How many simulated peels the 3-node tier carries on this machine before the p99 of KV writes
 * passes 1 s: doubling from 2,000, then halving the interval between the last fleet under 1 s
 * and the first over it down to 10%. The tier is planned for 9,999 peels (the top of the
 * 3-node row), so max_connections (2 × 9,999 per server) is not what stops it.
 */
export async function fleetSearchSection(log: BenchLog): Promise<unknown> {
  const durationSeconds = env("BENCH_FLEET_SECONDS", 20);
  const limitMs = 1_000;
  const t = await tier(9_999);
  const row = TIERS.find((x) => x.id === "cluster-3");
  const next = TIERS.find((x) => x.id === "cluster-5");
  try {
    log(
      `\nfleet search on the 3-node tier (local up --peels 9999, nats-server ${t.version}), ${String(durationSeconds)} s per fleet, until p99 > ${String(limitMs)} ms`,
    );
    const runs = new Map<number, FleetReport>();
    const fleet = async (peels: number): Promise<boolean> => {
      const r = await runFleet({
        stateDir: t.stateDir,
        peels,
        peelsPerProcess: 1_000,
        durationSeconds,
        traffic: trafficModel(),
      });
      runs.set(peels, r);
      log(`  ${fleetLine(r)}`);
      return r.connected === peels && r.p99Ms !== null && r.p99Ms <= limitMs && r.unacked === 0;
    };
    let good = 0;
    let bad: number | undefined;
    for (let peels = 2_000; bad === undefined; peels *= 2) {
      if (await fleet(peels)) good = peels;
      else bad = peels;
      if (peels >= 128_000 && bad === undefined) break;
    }
    while (bad !== undefined && bad - good > Math.max(500, good * 0.1)) {
      const mid = Math.round((good + bad) / 2 / 100) * 100;
      if (await fleet(mid)) good = mid;
      else bad = mid;
    }
    log(
      `  carried with p99 ≤ ${String(limitMs)} ms: ${String(good)} peels${bad === undefined ? " (the search stopped before p99 passed 1 s)" : `; ${String(bad)} passed it`}. ` +
        `The guide's table puts the 3-node tier at ${String(row?.minPeels)}–${String((next?.minPeels ?? 0) - 1)} peels, on servers of ${String(row?.server.cpuSteadyCores)}–${String(row?.server.cpuBurstCores)} CPUs and ${String((row?.server.memoryMiB ?? 0) / 1024)} GiB each; ` +
        `here all three servers and the simulator share ${String(os.cpus().length)} cores.`,
    );
    return { carriedPeels: good, passedAt: bad ?? null, fleets: [...runs.values()] };
  } finally {
    await t.stop();
  }
}

/** The full fault suite (every scenario, the unit's RestartSec, a 10 s freeze and cut). */
export async function faultsSection(log: BenchLog): Promise<unknown> {
  const natsServer = fetchFromDebian("sid");
  const peels = env("BENCH_FAULT_PEELS", 20);
  log(`\nfault suite, nats-server ${natsServer.version}, ${String(peels)} writing peels per scenario`);
  const report = await runFaults({ natsServer, peels, short: false });
  for (const s of report.scenarios)
    log(
      `  ${s.name.padEnd(20)} ${s.tier.padEnd(12)} gap ${String(s.gapMs).padStart(6)} ms   outage ${String(s.outageMs).padStart(6)} ms   ` +
        `recovery ${s.recoveryMs === null ? "NOT RECOVERED" : `${String(s.recoveryMs)} ms`.padStart(9)}   acked ${String(s.acked).padStart(6)}   ` +
        `lost ${String(s.lost)}   unacked ${String(s.unacked)}${s.crossRegionGapMs === undefined ? "" : `   cross-region gap ${String(s.crossRegionGapMs)} ms`}`,
    );
  for (const s of report.scenarios) log(`    ${s.name}: ${s.detail}`);
  return report.scenarios;
}
