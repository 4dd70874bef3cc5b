/**
 * Every tier transition the local target makes, on real nats-server, with peels writing through
 * it and the `facts` bucket filled first (FILL: 100,000 entries, what 100,000 peels' fact syncs
 * leave, the largest fleet the guide sizes): down the tiers from 60,000 peels to 50, then up to
 * 150,000, one filled tier carrying the data through every move. After each, every write
 * acknowledged so far (this transition's, the ones before it began, and every earlier
 * transition's) is read back from the new tier's core, and looked for through a leaf server as a
 * peel where it has one; every filled entry is still there (their count, and a sample read back);
 * the shape is checked through the monitoring endpoints; the servers the old tier had and the
 * new one does not are gone. A move no safe transition makes is refused with exit status 2.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { down, isAlive, up } from "../../local/runner";
import { fetchFromDebian, type DebianSuite } from "../../local/nats-binary";
import { readState, type LocalSizing } from "../../local/state";
import type { AckedWrite } from "../../load/ledger";
import { factsHeld, fillFacts } from "../../load/fill";
import { topologyOf } from "../../local/runner";
import { transitionUnderLoad, type TransitionUnderLoad } from "../../load/transition-load";
import { monitor, tempStateDir } from "../helpers/local";
import { runScriptAsync } from "../helpers/run";

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
  config?: { domain?: string };
  account_details?: { stream_detail?: { name: string; config?: { num_replicas: number } }[] | null }[] | null;
}
interface Varz {
  server_name: string;
}

const WRITERS = 4;

/**
 * What `facts` is filled with before the first move: one entry per peel of the largest fleet the
 * guide sizes (100,000), of 200 B (the guide's fact sync is ~2 KB; the count is what a copy's
 * catch-up and a restore's per-message work scale with, and it keeps the fill under a minute).
 */
export const FILL = { entries: 100_000, bytes: 200 } as const;

function line(version: string, r: TransitionUnderLoad): string {
  return (
    `nats-server ${version}: ${r.from.tier} (${String(r.from.peels)}) → ${r.to.tier} (${String(r.to.peels)}) in ` +
    `${(r.transitionMs / 1000).toFixed(1)} s; write gap ${(r.gapMs / 1000).toFixed(2)} s (by step: ${Object.entries(
      r.stepGapsMs,
    )
      .map(([id, ms]) => `${id} ${(ms / 1000).toFixed(2)}`)
      .join(", ")}; no peel at all: ` +
    `${(r.outageMs / 1000).toFixed(2)} s); ${String(r.acked)} acknowledged (${String(r.ackedBefore)} before it began), ` +
    `${String(r.unacked)} refused or timed out; ${String(r.checked)} read back, ${String(r.lost)} lost` +
    (r.checkedThroughLeaf > 0
      ? `; ${String(r.checkedThroughLeaf)} found through a leaf server (as a peel), ${String(r.lostThroughLeaf)} lost`
      : "")
  );
}

/** The running tier as its servers report it, not as the code under test thinks it is. */
async function checkShape(stateDir: string, tier: string): Promise<void> {
  const state = readState(stateDir);
  expect(state?.tier).toBe(tier);
  for (const s of state?.servers ?? []) {
    expect(isAlive(s.pid, s.confPath)).toBe(true);
    expect((await monitor<Varz>(s.monitorUrl, "/varz")).server_name).toBe(s.name);
    if (s.role !== "core") continue;
    const members = state?.servers.filter((x) => x.role === "core" && x.cluster === s.cluster).length ?? 0;
    const jsz = await monitor<Jsz>(s.monitorUrl, "/jsz?accounts=true&streams=true&config=true");
    if (members > 1) {
      expect(jsz.meta_cluster?.cluster_size).toBe(members);
      expect(jsz.meta_cluster?.leader).toMatch(/core-/);
    }
  }
}

/** A transition under writes; the numbers go to the test's output. */
async function move(
  stateDir: string,
  version: string,
  peels: number,
  tier: string,
  earlier: AckedWrite[],
): Promise<TransitionUnderLoad> {
  const before = readState(stateDir)?.servers ?? [];
  // A member restarted at 100,000 entries can take its catch-up past the default 60 s on a loaded CI host.
  const r = await transitionUnderLoad({ stateDir, peels, writers: WRITERS, earlier, healthTimeoutMs: 180_000 });
  console.log(line(version, r));
  expect(r.to).toEqual({ tier, peels });
  expect(r.ackedBefore).toBeGreaterThan(0);
  expect(r.acked).toBeGreaterThan(r.ackedBefore);
  expect(r.checked).toBe(r.ledger.length);
  expect(r.lostExamples).toEqual([]);
  // Every key is written once: each write is found as written, none superseded or expired.
  expect(r.found).toBe(r.checked);
  expect(r.lost).toBe(0);
  expect(r.lostThroughLeaf).toBe(0);
  await checkShape(stateDir, tier);
  const state = readState(stateDir);
  if (state === undefined) throw new Error(`no state in ${stateDir}`);
  const facts = await factsHeld(state, topologyOf(state), FILL.entries, FILL.bytes);
  expect(facts.missing).toEqual([]);
  expect(facts.messages).toBe(FILL.entries);
  const now = new Set((readState(stateDir)?.servers ?? []).map((s) => s.name));
  for (const s of before.filter((x) => !now.has(x.name))) {
    expect(isAlive(s.pid, s.confPath)).toBe(false);
    if (s.role === "core") expect(existsSync(path.join(stateDir, "servers", s.name, "jetstream"))).toBe(false);
  }
  return r;
}

/** The refusal, through the command line (run without blocking the other chains' writers). */
async function refusedDown(stateDir: string): Promise<void> {
  const plan = await runScriptAsync("local", ["transition", "--peels", "60000", "--state-dir", stateDir]);
  expect(plan.status).toBe(2);
  expect(plan.stderr).toMatch(/\[data-loss\] region region-1 \(cluster region-1\) would be removed/);
  const moved = await runScriptAsync("local", ["up", "--peels", "60000", "--state-dir", stateDir]);
  expect(moved.status).toBe(2);
  expect(moved.stderr).toMatch(/its KV buckets and job-events hold its own peels' state/);
  expect(readState(stateDir)?.tier).toBe("supercluster");
  expect(readState(stateDir)?.servers.every((s) => isAlive(s.pid, s.confPath))).toBe(true);
}

/** From 60,000 peels (the leaf tier) down to 50, then up to 150,000: every kind of move once each way. */
export const CHAIN: [number, string][] = [
  [12_000, "cluster-5"],
  [2_000, "cluster-3"],
  [500, "single"],
  [50, "single-small"],
  [500, "single"],
  [2_000, "cluster-3"],
  [12_000, "cluster-5"],
  [60_000, "leaf"],
  [150_000, "supercluster"],
];
export const CHAIN_START = 60_000;

/**
 * The chain from CHAIN_START, each move under writes, the `facts` bucket filled first; then (from
 * the supercluster) the refused move down. `sizing`: overrides kept for the whole chain. Every server it started is stopped and its directory removed.
 */
export async function chain(suite: DebianSuite, sizing?: LocalSizing): Promise<void> {
  const natsServer = fetchFromDebian(suite);
  const stateDir = tempStateDir(`transition-${suite}`);
  try {
    const running = await up({ peels: CHAIN_START, stateDir, natsServer, detach: true, sizing });
    const filled = await fillFacts(running.state, running.topology, FILL.entries, FILL.bytes);
    console.log(
      `nats-server ${natsServer.version}: facts filled with ${String(filled.entries)} entries, ${(filled.bytes / 1e6).toFixed(1)} MB (${(filled.shareOfPlanned * 100).toFixed(3)}% of its planned size on the ${running.topology.tier} tier) in ${(filled.ms / 1000).toFixed(1)} s`,
    );
    let ledger: AckedWrite[] = [];
    for (const [peels, tier] of CHAIN) ledger = (await move(stateDir, natsServer.version, peels, tier, ledger)).ledger;
    if (readState(stateDir)?.tier === "supercluster") await refusedDown(stateDir);
  } finally {
    await down(stateDir, { purge: true });
  }
  expect(existsSync(stateDir)).toBe(false);
}
