/**
 * `npm run bench`: figures, never assertions. Sections are chosen with `--sections a,b` (or
 * BENCH_SECTIONS); see SECTIONS below. `--json` prints the figures of the chosen sections as one
 * object, `{ startup: {...}, plan: {...} }`, and what they print for people on stderr.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { plan } from "../sizing";
import { fetchFromDebian } from "../local/nats-binary";
import { freePorts } from "../local/ports";
import { down, up } from "../local/runner";
import { serializeNatsConf } from "../topology/render/nats-conf-format";
import { durabilitySection, faultsSection, fleetSearchSection, fleetSection, type BenchLog } from "./bench-load";
import { identitiesSection } from "./bench-identities";
import { median, planSection, startupSection } from "./bench-startup";
import { transitionsSection } from "./bench-transitions";
import { parseFlags, runMain, UsageError } from "./cli";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** A plan of the largest tier is seconds: fewer rounds. */
const PLAN_RUNS = Number(process.env.BENCH_PLAN_RUNS ?? 5);

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

async function localTarget(log: BenchLog): Promise<unknown> {
  const figures: Record<string, unknown>[] = [];
  const natsServer = fetchFromDebian("sid");
  const runs = Number(process.env.BENCH_LOCAL_RUNS ?? 3);
  log(
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
    figures.push({ tier: p.tier, servers: p.totalServers, upToReadyMs: Math.round(u), floorMs: Math.round(f) });
    log(
      `  ${p.tier.padEnd(10)} ${String(p.totalServers).padStart(2)} servers   up→ready ${u.toFixed(0).padStart(6)} ms ` +
        `(healthy ${median(healthy).toFixed(0)} ms, ${(median(healthy) / f).toFixed(2)}× floor; KV ${median(kv).toFixed(0)} ms)   ` +
        `floor ${f.toFixed(0).padStart(5)} ms   ${(u / f).toFixed(2)}× floor`,
    );
  }
  log("  (up→ready: rendered configs, every server healthy, KV buckets created at the planned replicas;");
  log("   floor: the same number of bare nats-server processes with minimal configs until a meta leader)");
  return figures;
}

/** Each section; those that return figures are what --json prints (under the section's name). */
const SECTIONS: Record<string, (print: BenchLog) => unknown> = {
  startup: (print) => startupSection(print, RUNS),
  plan: (print) => planSection(print, PLAN_RUNS),
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
const DEFAULT_SECTIONS = ["startup", "plan", "local", "durability", "fleet", "transitions", "identities"];

const USAGE = `Usage: npm run -s bench -- [--sections a,b,...] [--json]

Prints figures, never assertions. Sections: ${Object.keys(SECTIONS).join(", ")}
(default: ${DEFAULT_SECTIONS.join(", ")}; BENCH_SECTIONS=a,b does the same as --sections).

  --sections a,b   the sections to run, in that order
  --json           print { "<section>": {...figures}, ... } on stdout (what is printed for
                   people goes to stderr), e.g. { "transitions": [{ from, to, fromPeels,
                   toPeels, seconds, bootSeconds, longestWriteGapMs, acknowledged, lost,
                   copyMBps, ... }] }
  -h, --help       show this help`;

async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    sections: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const chosen = (values.sections ?? process.env.BENCH_SECTIONS)?.split(",").map((x) => x.trim()) ?? DEFAULT_SECTIONS;
  const unknown = chosen.filter((x) => !(x in SECTIONS));
  if (unknown.length > 0)
    throw new UsageError(`--sections: unknown ${unknown.join(", ")}; accepted: ${Object.keys(SECTIONS).join(", ")}`);
  const json = values.json === true;
  const print: BenchLog = json
    ? (line) => process.stderr.write(`${line}\n`)
    : (line) => process.stdout.write(`${line}\n`);
  // Sections that print with console.log print for people too: on stderr, when stdout is the JSON.
  if (json)
    console.log = (...args: unknown[]) => {
      console.error(...args);
    };
  const figures: Record<string, unknown> = {};
  for (const name of chosen) {
    const result = await SECTIONS[name]?.(print);
    if (result !== undefined) figures[name] = result;
  }
  if (json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  return 0;
}

runMain("bench", () => main(process.argv.slice(2)));
