/**
 * `npm run bench`: figures, never assertions. The calculator's wall time next to `node -e 0`
 * measured in the same run, interleaved so machine noise hits both alike; reported as a ratio.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { plan } from "../sizing";

const ROOT = path.resolve(__dirname, "..", "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const LAUNCHER = path.join(ROOT, "scripts", "bin", "run.cjs");

const COMMANDS: Record<string, string[]> = {
  "node -e 0": ["-e", "0"],
  "sizing --peels 25000 --json": [LAUNCHER, "sizing", "--peels", "25000", "--json"],
  "sizing --peels 25000 (tables)": [LAUNCHER, "sizing", "--peels", "25000"],
};

function wallMs(args: string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 0 ? ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2 : (s[mid] ?? 0);
};

function main(): void {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(COMMANDS).map((k) => [k, []]));
  for (const args of Object.values(COMMANDS)) wallMs(args); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, args] of Object.entries(COMMANDS)) samples[name]?.push(wallMs(args));
  }
  const floor = median(samples["node -e 0"] ?? []);
  console.log(`calculator start-up, ${RUNS} interleaved runs each (median wall time)`);
  for (const [name, xs] of Object.entries(samples)) {
    const m = median(xs);
    console.log(`  ${name.padEnd(32)} ${m.toFixed(1).padStart(7)} ms   ${(m / floor).toFixed(2)}× node -e 0`);
  }

  const peels = [0, 2_000, 25_000, 60_000, 250_000, 1_000_000];
  const iterations = 2_000;
  const start = performance.now();
  for (let i = 0; i < iterations; i++) plan({ peels: peels[i % peels.length] ?? 0 });
  const perPlan = (performance.now() - start) / iterations;
  console.log(
    `plan() in process: ${(perPlan * 1000).toFixed(1)} µs per plan (${iterations} plans over ${peels.length} peel counts)`,
  );
}

main();
