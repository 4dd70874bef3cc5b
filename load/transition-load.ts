/**
 * A tier transition under writes: peels keep putting KV entries (unique keys, so every
 * acknowledged one must still be there) while the local target moves a running tier to another
 * peel count; afterwards every acknowledged write (this transition's, the ones before it began,
 * and any earlier ones handed in) is read back from the wanted tier's core and, where it has one,
 * looked for through a leaf server as a peel (each stream's state covers it). Reports the write
 * gap (the longest a peel went without an acknowledged write) and what was lost.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { performance } from "node:perf_hooks";
import { runLocalTransition, type StepRun, type TransitionOptions } from "../local/transition";
import { topologyOf } from "../local/runner";
import type { TierPoint } from "../change/transition";
import { clientUrl, type Topology } from "../topology/types";
import { coreUrls, peelAddresses } from "./addresses";
import { connectNode } from "./connect";
import { spread } from "./fault-scenarios";
import { operatorIdentity, peelIdentity } from "./identity";
import type { AckedWrite } from "./ledger";
import { countLost, countReachable, type LossReport } from "./readback";
import { loadState } from "./servers";
import { WriterGroup, type WriterOptions } from "./writers";

/** Writes every 25 ms with the plan's own client settings (ack timeout, retries, reconnect). */
export const TRANSITION_WRITER_OPTIONS: WriterOptions = { paceMs: 25, bytes: 256 };

export interface TransitionUnderLoadOptions {
  stateDir: string;
  peels: number;
  /** Writing peels, spread over the current tier's homes (its core, its leaf sites). */
  writers: number;
  /** Writes acknowledged before (earlier transitions): read back again afterwards. */
  earlier?: readonly AckedWrite[];
  writerOptions?: WriterOptions;
  /** How long the writers write before the transition starts. @default 500 ms */
  leadInMs?: number;
  healthTimeoutMs?: number;
  /** Passed on to the transition (progress lines, a test's injected fault). */
  transition?: Pick<TransitionOptions, "onStep" | "onProgress" | "fault">;
}

export interface TransitionUnderLoad {
  from: TierPoint;
  to: TierPoint;
  /** From the first step until the wanted tier was healthy. */
  transitionMs: number;
  steps: StepRun[];
  /** The longest time one writing peel went without an acknowledged write, from the start until all write again. */
  gapMs: number;
  /** The longest time no writing peel got a write acknowledged. */
  outageMs: number;
  /** The longest write gap of any one peel within each step (a gap that spans steps counts in each). */
  stepGapsMs: Record<string, number>;
  /** Writes acknowledged by this transition's writers, and how many of them before it began. */
  acked: number;
  ackedBefore: number;
  /** Writes looked up (this transition's and the earlier ones), found as written, and missing. */
  checked: number;
  found: number;
  lost: number;
  /** The first lost writes, for the report. */
  lostExamples: AckedWrite[];
  /** Looked for again through a leaf server of the wanted tier, as a peel (0 when it has none). */
  checkedThroughLeaf: number;
  lostThroughLeaf: number;
  /** Writes never acknowledged (refused while writes were paused, timed out): not losses. */
  unacked: number;
  failures: Record<string, number>;
  /** Every write acknowledged so far (earlier ones included), for the next transition's check. */
  ledger: AckedWrite[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function transitionUnderLoad(options: TransitionUnderLoadOptions): Promise<TransitionUnderLoad> {
  const state = loadState(options.stateDir);
  const from = topologyOf(state);
  // Writers named after the earlier ones' (their keys are unique, so nothing earlier is superseded).
  const writers = new WriterGroup(
    "transition",
    spread(peelAddresses(from), options.writers, nextWriter(options.earlier ?? [])),
    (id) => peelIdentity(state, id),
    from.plan.client.peel,
    options.writerOptions ?? TRANSITION_WRITER_OPTIONS,
  );
  await writers.start();
  let run: Awaited<ReturnType<typeof runLocalTransition>>;
  let startedAt: number;
  let ackedBefore: number;
  let recoveredAt: number;
  const stepTimes = new Map<string, [number, number]>();
  try {
    await sleep(options.leadInMs ?? 500);
    ackedBefore = writers.ledger.acked.length;
    startedAt = performance.now();
    run = await runLocalTransition({
      ...options.transition,
      onStep: (step, done) => {
        const at = performance.now();
        if (done === undefined) stepTimes.set(step.id, [at, at]);
        else stepTimes.set(step.id, [stepTimes.get(step.id)?.[0] ?? at, at]);
        options.transition?.onStep?.(step, done);
      },
      stateDir: options.stateDir,
      peels: options.peels,
      ...(options.healthTimeoutMs === undefined ? {} : { healthTimeoutMs: options.healthTimeoutMs }),
    });
    recoveredAt = await everyWriterBack(writers, performance.now());
  } finally {
    await writers.stop();
  }
  const to = topologyOf(loadState(options.stateDir));
  const ledger = [...(options.earlier ?? []), ...writers.ledger.acked];
  const [core, leaf] = await readBack(options.stateDir, to, ledger);
  return {
    from: run.transition.from,
    to: run.transition.to,
    transitionMs: run.totalMs,
    steps: run.steps,
    gapMs: writers.gapMs(startedAt, recoveredAt),
    outageMs: writers.outageMs(startedAt, recoveredAt),
    stepGapsMs: Object.fromEntries([...stepTimes].map(([id, [from, to]]) => [id, writers.gapMs(from, to)])),
    acked: writers.ledger.acked.length,
    ackedBefore,
    checked: core.checked,
    found: core.found,
    lost: core.lost,
    lostExamples: [...core.examples, ...(leaf?.examples ?? [])],
    checkedThroughLeaf: leaf?.checked ?? 0,
    lostThroughLeaf: leaf?.lost ?? 0,
    unacked: writers.ledger.unacked,
    failures: writers.ledger.failures,
    ledger,
  };
}

/** The first simulated peel number no earlier write used. */
function nextWriter(earlier: readonly AckedWrite[]): number {
  let highest = 0;
  for (const w of earlier) highest = Math.max(highest, Number(/^sim-(\d+):/.exec(w.writeId)?.[1] ?? 0));
  return highest + 1;
}

/** Waits until every writer has had a write acknowledged after `after`; returns when. */
async function everyWriterBack(writers: WriterGroup, after: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (!writers.allAckedAfter(after)) {
    if (Date.now() > deadline)
      throw new Error("not every writer got a write acknowledged within 60 s of the transition");
    await sleep(20);
  }
  return performance.now();
}

/** Reads every write back from the first region's core; checks through one of its leaf servers, if any, that a peel there reaches it. */
async function readBack(
  stateDir: string,
  to: Topology,
  ledger: AckedWrite[],
): Promise<[LossReport, LossReport | undefined]> {
  const state = loadState(stateDir);
  const region = to.clusters[0]?.region ?? "";
  const leafServer = to.servers.find((s) => s.role === "leaf" && s.region === region);
  const connect = (servers: string[], name: string): Promise<NatsConnection> =>
    connectNode({ ...operatorIdentity(state), servers, name, maxReconnectAttempts: -1 });
  const core = await connect(coreUrls(to, region), "zester-infra transition read-back");
  try {
    const fromCore = await countLost(ledger, () => core);
    if (leafServer === undefined) return [fromCore, undefined];
    // Through the leaf as a peel: its site's link lets a peel's requests through, nothing more.
    const leaf = await connectNode({
      ...peelIdentity(state, "transition-check"),
      servers: [clientUrl(leafServer)],
      name: "zester-infra transition check through a leaf",
      maxReconnectAttempts: -1,
    });
    try {
      // Behind a leaf server, the core's JetStream is reached through its domain.
      const domain = to.servers.find((s) => s.region === region && s.role === "core")?.domain;
      const viaDomain = ledger.map((w) => ({ ...w, domain: w.domain ?? domain }));
      return [fromCore, await countReachable(viaDomain, () => leaf)];
    } finally {
      await leaf.close();
    }
  } finally {
    await core.close();
  }
}
