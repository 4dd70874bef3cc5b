/**
 * `npm run bench`'s startup and plan sections: whole processes, as an operator and CI run them,
 * each next to its floor measured in the same run (interleaved, so machine noise hits both alike)
 * and reported as a ratio. Figures, never assertions.
 *
 *   startup  the calculator (`npm run -s sizing -- --peels 5000 --json`) next to a bare `npm run`
 *            of `node -e 0`; goal ≤ 1.1 ×. Also the launcher without npm, and plan() in process.
 *   plan     the offline plan of the largest tier (1,000,000 peels, 11 regions on Kubernetes)
 *            next to the dev stack's (`npm run -s plan -- --stack dev --json`); goal ≤ 1.5 ×.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { plan } from "../sizing";

const ROOT = path.resolve(__dirname, "..", "..");
const LAUNCHER = path.join(ROOT, "scripts", "bin", "run.cjs");

interface Command {
  command: string;
  args: string[];
  cwd: string;
}

function wallMs({ command, args, cwd }: Command): number {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - start;
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(" ")} exited ${String(r.status)}: ${r.stderr.toString()}`);
  return ms;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 0 ? ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2 : (s[mid] ?? 0);
};

/** Each command once to warm the page cache, then `runs` interleaved rounds; the median of each. */
function interleaved<K extends string>(commands: Record<K, Command>, runs: number): Record<K, number> {
  const names = Object.keys(commands) as K[];
  const samples = new Map<K, number[]>(names.map((n) => [n, []]));
  for (const n of names) wallMs(commands[n]);
  for (let i = 0; i < runs; i++) for (const n of names) samples.get(n)?.push(wallMs(commands[n]));
  return Object.fromEntries(names.map((n) => [n, median(samples.get(n) ?? [])])) as Record<K, number>;
}

/** A directory whose package.json runs `node -e 0` as a script, with this project's npm config. */
function floorPackage(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-bench-npm-"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ private: true, scripts: { floor: "node -e 0" } }));
  copyFileSync(path.join(ROOT, ".npmrc"), path.join(dir, ".npmrc"));
  return dir;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

export interface StartupFigures {
  runs: number;
  /** Median wall time of each command, in ms. */
  medianMs: Record<string, number>;
  /** `npm run -s sizing -- --peels 5000 --json` over a bare `npm run` of `node -e 0`. */
  calculatorRatio: number;
  /** The launcher alone (no npm) over `node -e 0`. */
  launcherRatio: number;
  /** One `plan()` in process, in µs (over several peel counts). */
  planMicroseconds: number;
}

export function startupSection(print: (line: string) => void, runs: number): StartupFigures {
  const floorDir = floorPackage();
  try {
    const npm = (args: string[], cwd = ROOT): Command => ({ command: "npm", args: ["run", "-s", ...args], cwd });
    const node = (args: string[]): Command => ({ command: process.execPath, args, cwd: ROOT });
    const ms = interleaved(
      {
        "npm run node -e 0": npm(["floor"], floorDir),
        "npm run sizing --peels 5000 --json": npm(["sizing", "--", "--peels", "5000", "--json"]),
        "node -e 0": node(["-e", "0"]),
        "run.cjs sizing --peels 5000 --json": node([LAUNCHER, "sizing", "--peels", "5000", "--json"]),
        "run.cjs sizing --peels 25000 (tables)": node([LAUNCHER, "sizing", "--peels", "25000"]),
      },
      runs,
    );
    const peels = [0, 2_000, 25_000, 60_000, 250_000, 1_000_000];
    const iterations = 2_000;
    const start = performance.now();
    for (let i = 0; i < iterations; i++) plan({ peels: peels[i % peels.length] ?? 0 });
    const figures: StartupFigures = {
      runs,
      medianMs: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v, 1)])),
      calculatorRatio: round(ms["npm run sizing --peels 5000 --json"] / ms["npm run node -e 0"], 3),
      launcherRatio: round(ms["run.cjs sizing --peels 5000 --json"] / ms["node -e 0"], 3),
      planMicroseconds: round(((performance.now() - start) / iterations) * 1000, 1),
    };
    print(`calculator start-up, ${String(runs)} interleaved runs each (median wall time)`);
    for (const [name, m] of Object.entries(figures.medianMs))
      print(`  ${name.padEnd(40)} ${m.toFixed(1).padStart(7)} ms`);
    print(`  npm run sizing / npm run node -e 0:  ${figures.calculatorRatio.toFixed(2)}× (goal ≤ 1.1×)`);
    print(`  run.cjs sizing / node -e 0:          ${figures.launcherRatio.toFixed(2)}×`);
    print(`plan() in process: ${figures.planMicroseconds.toFixed(1)} µs per plan (${String(iterations)} plans)`);
    return figures;
  } finally {
    rmSync(floorDir, { recursive: true, force: true });
  }
}

/** The largest tier: 1,000,000 peels, a supercluster of 11 regions, each its own Kubernetes cluster. */
export const LARGEST_REGIONS = 11;
const LARGEST_KUBERNETES = {
  nvmeStorageClass: "local-nvme",
  hubLeafHost: "leaf.hub.example.com",
  leafnodeSourceRanges: ["10.43.0.0/16"],
  regions: Object.fromEntries(
    Array.from({ length: LARGEST_REGIONS - 1 }, (_, i) => [
      `region-${String(i + 1)}`,
      { context: `cluster-${String(i + 1)}` },
    ]),
  ),
};

export interface PlanFigures {
  runs: number;
  /** Median wall time of `npm run -s plan -- … --json`, in ms. */
  devMs: number;
  largestMs: number;
  /** The largest tier's plan over the dev stack's. */
  ratio: number;
  largest: { peels: number; regions: number; target: "kubernetes"; resources: number; megabytes: number };
}

export function planSection(print: (line: string) => void, runs: number): PlanFigures {
  const sets = ["--set", "peels=1000000", "--set", `kubernetes=${JSON.stringify(LARGEST_KUBERNETES)}`];
  const planOf = (extra: string[]): Command => ({
    command: "npm",
    args: ["run", "-s", "plan", "--", "--stack", "dev", ...extra, "--json"],
    cwd: ROOT,
  });
  const probe = spawnSync(process.execPath, [LAUNCHER, "plan", "--stack", "dev", ...sets, "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (probe.status !== 0) throw new Error(`the largest tier's plan failed: ${probe.stderr}`);
  const resources = (JSON.parse(probe.stdout) as { resources: unknown[] }).resources.length;
  const ms = interleaved({ dev: planOf([]), largest: planOf(sets) }, runs);
  const figures: PlanFigures = {
    runs,
    devMs: round(ms.dev, 0),
    largestMs: round(ms.largest, 0),
    ratio: round(ms.largest / ms.dev, 2),
    largest: {
      peels: 1_000_000,
      regions: LARGEST_REGIONS,
      target: "kubernetes",
      resources,
      megabytes: round(probe.stdout.length / 1e6, 1),
    },
  };
  print(`offline plan, ${String(runs)} interleaved runs each (median wall time, npm run -s plan -- … --json)`);
  print(`  dev stack (single-small, Kubernetes)             ${String(figures.devMs).padStart(6)} ms`);
  print(
    `  largest tier (1,000,000 peels, ${String(LARGEST_REGIONS)} regions, ${String(resources)} resources, ${String(figures.largest.megabytes)} MB) ${String(figures.largestMs).padStart(6)} ms`,
  );
  print(`  largest / dev: ${figures.ratio.toFixed(2)}× (goal ≤ 1.5×)`);
  return figures;
}
