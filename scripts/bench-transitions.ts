/**
 * `npm run bench`'s transitions section: each tier transition of the local target, run under
 * writes (load/transition-load.ts) with the `facts` bucket filled first, next to booting the tier
 * it moves to from nothing. Figures, never assertions: the transition's time, the longest write
 * gap a peel saw (the peels use the plan's client settings), the copy's throughput, the boot's time.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { factsHeld, fillFacts } from "../load/fill";
import { transitionUnderLoad, type TransitionUnderLoad } from "../load/transition-load";
import type { AckedWrite } from "../load/ledger";
import { fetchFromDebian, type DebianSuite, type NatsServerBinary } from "../local/nats-binary";
import { DEBIAN_SUITES } from "../local/debian-archive";
import { down, topologyOf, up } from "../local/runner";
import { readState } from "../local/state";
import type { BenchLog } from "./bench-load";

/** From the leaf tier down to the smallest and up to the supercluster: every kind of move, one filled tier. */
const START = 60_000;
const CHAIN = [12_000, 2_000, 500, 50, 500, 2_000, 12_000, 60_000, 150_000];

export interface TransitionFigures {
  from: string;
  to: string;
  fromPeels: number;
  toPeels: number;
  seconds: number;
  bootSeconds: number;
  longestWriteGapMs: number;
  acknowledged: number;
  lost: number;
  /** The copy's throughput (MiB/s), where the move copies data (single ↔ cluster). */
  copyMBps: number | null;
  /** How long writes were refused for the copy's last difference. */
  frozenMs: number | null;
  /** The longest write gap within each step. */
  stepGapsMs: Record<string, number>;
  natsServer: string;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1).padStart(6);
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

/** From nothing to ready (healthy, buckets at their replicas), in a directory of its own. */
async function bootMs(natsServer: NatsServerBinary, peels: number): Promise<number> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "zester-bench-boot-"));
  const started = performance.now();
  try {
    await up({ peels, stateDir, natsServer, detach: true });
    return performance.now() - started;
  } finally {
    await down(stateDir, { purge: true });
  }
}

/** The copy figures a copy-data step's result line gives (`… (12.3 MiB/s), writes stopped … 45 ms`). */
function copyFigures(r: TransitionUnderLoad): { mbps: number | null; frozenMs: number | null } {
  const copy = r.steps.find((s) => s.kind === "copy-data")?.result;
  if (copy === undefined) return { mbps: null, frozenMs: null };
  const mbps = /\(([\d.]+) MiB\/s\)/.exec(copy)?.[1];
  const frozen = /writes stopped for the last difference (\d+) ms/.exec(copy)?.[1];
  return { mbps: mbps === undefined ? null : Number(mbps), frozenMs: frozen === undefined ? null : Number(frozen) };
}

function suiteOf(value: string | undefined): DebianSuite {
  const suite = value ?? "sid";
  if (!(DEBIAN_SUITES as readonly string[]).includes(suite))
    throw new Error(`BENCH_TRANSITIONS_SUITE: "${suite}" is not one of ${DEBIAN_SUITES.join(", ")}`);
  return suite as DebianSuite;
}

export async function transitionsSection(log: BenchLog): Promise<TransitionFigures[]> {
  const suite = suiteOf(process.env.BENCH_TRANSITIONS_SUITE);
  const writers = env("BENCH_TRANSITIONS_WRITERS", 4);
  const entries = env("BENCH_TRANSITIONS_FACTS", 100_000);
  const bytes = env("BENCH_TRANSITIONS_FACT_BYTES", 2_000);
  const natsServer = fetchFromDebian(suite);
  const rows: TransitionFigures[] = [];
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "zester-bench-transition-"));
  try {
    const running = await up({ peels: START, stateDir, natsServer, detach: true });
    const filled = await fillFacts(running.state, running.topology, entries, bytes);
    log(
      `\ntier transitions on the local target, nats-server ${natsServer.version} (Debian ${suite}), ${String(writers)} peels writing ` +
        `with the plan's client settings; facts filled with ${String(entries)} entries of ${String(bytes)} B ` +
        `(${(filled.bytes / 1e6).toFixed(0)} MB, ${(filled.shareOfPlanned * 100).toFixed(2)}% of its planned size on the ${running.topology.tier} tier, ` +
        `in ${(filled.ms / 1000).toFixed(1)} s); each next to booting the tier it moves to from nothing`,
    );
    log("  from → to                               transition   write gap   boot new tier   copy      acked (lost)");
    let ledger: AckedWrite[] = [];
    for (const peels of CHAIN) {
      const r = await transitionUnderLoad({ stateDir, peels, writers, earlier: ledger, healthTimeoutMs: 120_000 });
      ledger = r.ledger;
      const state = readState(stateDir);
      if (state === undefined) throw new Error(`no state in ${stateDir}`);
      const held = await factsHeld(state, topologyOf(state), entries, bytes);
      if (held.messages !== entries || held.missing.length > 0)
        throw new Error(
          `facts holds ${String(held.messages)} of ${String(entries)} entries after the move; missing e.g. ${held.missing.slice(0, 3).join(", ")}`,
        );
      const boot = await bootMs(natsServer, peels);
      const copy = copyFigures(r);
      const row: TransitionFigures = {
        from: r.from.tier,
        to: r.to.tier,
        fromPeels: r.from.peels,
        toPeels: r.to.peels,
        seconds: Math.round(r.transitionMs / 100) / 10,
        bootSeconds: Math.round(boot / 100) / 10,
        longestWriteGapMs: Math.round(r.gapMs),
        acknowledged: r.acked,
        lost: r.lost + r.lostThroughLeaf,
        copyMBps: copy.mbps,
        frozenMs: copy.frozenMs,
        stepGapsMs: Object.fromEntries(Object.entries(r.stepGapsMs).map(([k, v]) => [k, Math.round(v)])),
        natsServer: natsServer.version,
      };
      rows.push(row);
      const label = `${row.from} (${String(row.fromPeels)}) → ${row.to} (${String(row.toPeels)})`;
      log(
        `  ${label.padEnd(40)} ${seconds(r.transitionMs)} s   ${seconds(r.gapMs)} s   ${seconds(boot)} s       ` +
          `${copy.mbps === null ? "    -    " : `${copy.mbps.toFixed(1).padStart(5)} MiB/s`}   ${String(row.acknowledged)} (${String(row.lost)})`,
      );
    }
  } finally {
    await down(stateDir, { purge: true });
  }
  log("  (transition: first step until the new tier is healthy with its buckets reconciled; write gap: the");
  log("   longest a writing peel went without an acknowledged write; copy: the data a copy moved over its time;");
  log("   boot: `up` of that tier in an empty directory)");
  return rows;
}
