/**
 * `npm run bench`: figures, never assertions. The calculator's wall time next to `node -e 0`
 * measured in the same run, interleaved so machine noise hits both alike; reported as a ratio.
 * Sections are chosen with BENCH_SECTIONS (comma-separated); see SECTIONS below.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { plan } from "../sizing";
import { fetchFromDebian } from "../local/nats-binary";
import { freePorts } from "../local/ports";
import { down, up } from "../local/runner";
import { serializeNatsConf } from "../topology/render/nats-conf-format";
import { durabilitySection, faultsSection, fleetSearchSection, fleetSection } from "./bench-load";
import { identitiesSection } from "./bench-identities";
import { transitionsSection } from "./bench-transitions";

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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The floor: as many bare nats-server processes (minimal configs) as the tier has, until a meta leader. */
async function floorMs(binary: string, cores: number, leafs: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-floor-"));
  const ports = await freePorts(cores * 4 + leafs);
  const core = (i: number, k: number): number => ports[i * 4 + k] ?? 0;
  const children: ChildProcess[] = [];
  const start = performance.now();
  try {
    for (let i = 0; i < cores + leafs; i++) {
      const leaf = i >= cores;
      const conf = leaf
        ? {
            listen: `127.0.0.1:${ports[cores * 4 + (i - cores)] ?? 0}`,
            leafnodes: { remotes: [{ url: `nats://127.0.0.1:${core(i % cores, 3)}` }] },
          }
        : {
            server_name: `c${i}`,
            listen: `127.0.0.1:${core(i, 0)}`,
            http: `127.0.0.1:${core(i, 1)}`,
            jetstream: { store_dir: path.join(dir, `c${i}`) },
            ...(leafs > 0 ? { leafnodes: { listen: `127.0.0.1:${core(i, 3)}` } } : {}),
            cluster: {
              name: "floor",
              listen: `127.0.0.1:${core(i, 2)}`,
              routes: Array.from({ length: cores }, (_, j) => j)
                .filter((j) => j !== i)
                .map((j) => `nats://127.0.0.1:${core(j, 2)}`),
            },
          };
      if (!leaf) mkdirSync(path.join(dir, `c${i}`));
      const file = path.join(dir, `${i}.conf`);
      writeFileSync(file, serializeNatsConf(conf));
      children.push(spawn(binary, ["-c", file], { stdio: "ignore" }));
    }
    for (;;) {
      const leader = await fetch(`http://127.0.0.1:${core(0, 1)}/jsz`)
        .then((r) => r.json() as Promise<{ meta_cluster?: { leader?: string } }>)
        .then(
          (j) => j.meta_cluster?.leader ?? "",
          () => "",
        );
      if (leader !== "") return performance.now() - start;
      if (performance.now() - start > 60_000) throw new Error("floor: no meta leader in 60 s");
      await sleep(20);
    }
  } finally {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => c.once("exit", r))));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function localTarget(): Promise<void> {
  const natsServer = fetchFromDebian("sid");
  const runs = Number(process.env.BENCH_LOCAL_RUNS ?? 3);
  console.log(
    `\nlocal target, nats-server ${natsServer.version}: time from up to ready (median of ${runs}), next to the floor`,
  );
  for (const peels of [2_000, 60_000]) {
    const p = plan({ peels });
    const cores = p.serversPerCluster;
    const leafs = p.totalServers - cores;
    const ups: number[] = [];
    const healthy: number[] = [];
    const kv: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < runs; i++) {
      const stateDir = mkdtempSync(path.join(os.tmpdir(), "zester-bench-"));
      const start = performance.now();
      const running = await up({ peels, stateDir, natsServer });
      ups.push(performance.now() - start);
      healthy.push(running.timings.healthyMs);
      kv.push(running.timings.kvMs);
      await down(stateDir, { purge: true });
      floors.push(await floorMs(natsServer.path, cores, leafs));
    }
    const [u, f] = [median(ups), median(floors)];
    console.log(
      `  ${p.tier.padEnd(10)} ${String(p.totalServers).padStart(2)} servers   up→ready ${u.toFixed(0).padStart(6)} ms ` +
        `(healthy ${median(healthy).toFixed(0)} ms, ${(median(healthy) / f).toFixed(2)}× floor; KV ${median(kv).toFixed(0)} ms)   ` +
        `floor ${f.toFixed(0).padStart(5)} ms   ${(u / f).toFixed(2)}× floor`,
    );
  }
  console.log("  (up→ready: rendered configs, every server healthy, KV buckets created at the planned replicas;");
  console.log("   floor: the same number of bare nats-server processes with minimal configs until a meta leader)");
}

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

const SECTIONS: Record<string, () => Promise<void> | void> = {
  startup: main,
  local: localTarget,
  durability: durabilitySection,
  fleet: fleetSection,
  faults: faultsSection,
  "fleet-search": fleetSearchSection,
  transitions: transitionsSection,
  identities: identitiesSection,
};
/**
 * What runs without BENCH_SECTIONS (about 12 min on 2 cores). The full fault suite (~8 min) and
 * the fleet search (~10 min or more) run only when named, e.g. BENCH_SECTIONS=faults,fleet-search.
 */
const DEFAULT_SECTIONS = ["startup", "local", "durability", "fleet", "transitions", "identities"];

async function run(): Promise<void> {
  const chosen = process.env.BENCH_SECTIONS?.split(",").map((x) => x.trim()) ?? DEFAULT_SECTIONS;
  const unknown = chosen.filter((x) => !(x in SECTIONS));
  if (unknown.length > 0) {
    console.error(`BENCH_SECTIONS: unknown ${unknown.join(", ")}; accepted: ${Object.keys(SECTIONS).join(", ")}`);
    process.exit(2);
  }
  for (const name of chosen) await SECTIONS[name]?.();
}

run().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
