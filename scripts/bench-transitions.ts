/**
 * `npm run bench`'s transitions section: each tier transition of the local target, run under
 * writes (load/transition-load.ts), next to booting the tier it moves to from nothing. Figures,
 * never assertions: the transition's time, the longest write gap a peel saw, the boot's time.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { transitionUnderLoad } from "../load/transition-load";
import type { AckedWrite } from "../load/ledger";
import { fetchFromDebian, type DebianSuite, type NatsServerBinary } from "../local/nats-binary";
import { down, up } from "../local/runner";

const CHAINS: { start: number; to: number[] }[] = [
  { start: 50, to: [500, 2_000, 12_000, 60_000, 150_000] },
  { start: 60_000, to: [12_000, 2_000, 500, 50] },
];

const seconds = (ms: number): string => (ms / 1000).toFixed(1).padStart(6);

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

export async function transitionsSection(): Promise<void> {
  const suite = (process.env.BENCH_TRANSITIONS_SUITE ?? "sid") as DebianSuite;
  const writers = Number(process.env.BENCH_TRANSITIONS_WRITERS ?? 4);
  const natsServer = fetchFromDebian(suite);
  console.log(
    `\ntier transitions on the local target, nats-server ${natsServer.version} (Debian ${suite}), ${String(writers)} peels writing; ` +
      "each next to booting the tier it moves to from nothing",
  );
  console.log("  from → to                             transition   write gap   boot new tier   acked (lost)");
  for (const chain of CHAINS) {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "zester-bench-transition-"));
    try {
      await up({ peels: chain.start, stateDir, natsServer, detach: true });
      let ledger: AckedWrite[] = [];
      for (const peels of chain.to) {
        const r = await transitionUnderLoad({ stateDir, peels, writers, earlier: ledger, healthTimeoutMs: 120_000 });
        ledger = r.ledger;
        const boot = await bootMs(natsServer, peels);
        const label = `${r.from.tier} (${String(r.from.peels)}) → ${r.to.tier} (${String(r.to.peels)})`;
        console.log(
          `  ${label.padEnd(38)} ${seconds(r.transitionMs)} s   ${seconds(r.gapMs)} s   ${seconds(boot)} s       ` +
            `${String(r.acked)} (${String(r.lost + r.lostThroughLeaf)})`,
        );
      }
    } finally {
      await down(stateDir, { purge: true });
    }
  }
  console.log("  (transition: first step until the new tier is healthy with its buckets reconciled; write gap: the");
  console.log(
    "   longest a writing peel went without an acknowledged write; boot: `up` of that tier in an empty directory)",
  );
}
