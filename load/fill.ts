/**
 * Fills a running tier's `facts` bucket the way a fleet's fact syncs would, fast: one entry per
 * simulated peel, published in batches with their acks awaited together. Tier transitions are
 * proven on buckets filled this way (tests and the bench), and checked whole after each move.
 */
import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { performance } from "node:perf_hooks";
import type { Topology } from "../topology/types";
import type { LocalState } from "../local/state";
import { coreUrls } from "./addresses";
import { connectNode } from "./connect";
import { operatorIdentity } from "./identity";

const BATCH = 1_000;
const FACTS = "facts";

export interface Filled {
  entries: number;
  /** Payload bytes written. */
  bytes: number;
  ms: number;
  /** The share of the `facts` bucket's planned size (its max_bytes) this fills, in the tier filled. */
  shareOfPlanned: number;
}

/** The key of the `i`-th filled entry. */
export const fillKey = (i: number): string => `fill-${String(i).padStart(7, "0")}`;

async function withCore<T>(state: LocalState, t: Topology, use: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectNode({
    ...operatorIdentity(state),
    servers: coreUrls(t, t.clusters[0]?.region ?? ""),
    name: "zester-infra fill",
    maxReconnectAttempts: -1,
  });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

/** Writes `entries` distinct `facts` entries of `bytes` each (random, so nothing compresses them away). */
export async function fillFacts(state: LocalState, t: Topology, entries: number, bytes: number): Promise<Filled> {
  const started = performance.now();
  await withCore(state, t, async (nc) => {
    const js = jetstream(nc, { timeout: 30_000 });
    // Connected to the region's core itself: its streams take the bucket's own subjects.
    const prefix = `$KV.${FACTS}`;
    for (let i = 0; i < entries; i += BATCH) {
      const batch: Promise<unknown>[] = [];
      for (let k = i; k < Math.min(entries, i + BATCH); k++)
        batch.push(js.publish(`${prefix}.${fillKey(k)}`, randomBytes(bytes)));
      await Promise.all(batch);
    }
  });
  const planned = t.plan.kv.find((b) => b.name === FACTS)?.maxBytes ?? 0;
  return {
    entries,
    bytes: entries * bytes,
    ms: performance.now() - started,
    shareOfPlanned: planned === 0 ? 0 : (entries * bytes) / planned,
  };
}

/**
 * What the `facts` bucket holds now: its entries, and whether a sample of the filled ones (every
 * `every`-th) still reads back with its size.
 */
export async function factsHeld(
  state: LocalState,
  t: Topology,
  entries: number,
  bytes: number,
  every = 997,
): Promise<{ messages: number; sampled: number; missing: string[] }> {
  return withCore(state, t, async (nc) => {
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    const info = await jsm.streams.info(`KV_${FACTS}`);
    const missing: string[] = [];
    let sampled = 0;
    for (let i = 0; i < entries; i += every) {
      sampled++;
      const key = fillKey(i);
      const msg = await jsm.streams
        .getMessage(`KV_${FACTS}`, { last_by_subj: `$KV.${FACTS}.${key}` })
        .catch(() => null);
      if (msg?.data.length !== bytes) missing.push(key);
    }
    return { messages: info.state.messages, sampled, missing };
  });
}
