/**
 * Copying a cluster's KV buckets and job-events into another cluster, for the one move NATS has
 * no in-place path for: a single server becoming a cluster (or the reverse). Writes go on while
 * the bulk of it is copied: each file-backed stream is snapshotted and restored into the target
 * (every message with its sequence number, time and headers: snapshot.ts), the memory-backed one
 * (no snapshots on 2.9) starts empty at the source's first sequence; then rounds of catch-up copy
 * what was written meanwhile (catch-up.ts), until every stream is within a few messages of its
 * source. Only then are writes stopped on the source (`freeze`: each stream's subjects are moved
 * aside, so a client's write is refused rather than acknowledged and left behind), the last
 * difference copied and every copy checked against its source. `thaw` puts the subjects back.
 * The target must take no client's write meanwhile: its servers are ones no client knows yet.
 * Runs the same from the local target and from the job a cloud target runs next to its servers.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { performance } from "node:perf_hooks";
import type { BucketPlan } from "../sizing/types";
import { catchUp, type CatchUpResult } from "./catch-up";
import { plannedLimits, withRetries } from "./reconcile";
import { restoreFromFile, snapshotToFile, type TransferProgress } from "./snapshot";
import { JOB_EVENTS_SUBJECTS } from "./zester-assumptions";

/**
 * Retries a stream's start while the cluster answers late: what `withRetries` retries, and a
 * restore refused because an earlier one, answered too late, is still making the stream.
 */
async function startRetries<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withRetries(run);
    } catch (error) {
      if (!/already in use/i.test(String(error)) || attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 2_000 * attempt));
    }
  }
}

/** Where a frozen stream's subjects are moved: nothing publishes there. */
export const FROZEN_PREFIX = "zester-frozen";

const API_TIMEOUT_MS = 10_000;

/** The subjects a planned stream takes writes on. */
export function liveSubjects(bucket: Pick<BucketPlan, "kind" | "name">): string[] {
  return bucket.kind === "kv" ? [`$KV.${bucket.name}.>`] : JOB_EVENTS_SUBJECTS;
}

const frozenSubjects = (stream: string): string[] => [`${FROZEN_PREFIX}.${stream}.>`];

async function infoOrUndefined(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}

/** How long a source stream may be without a leader before its copy gives up. */
const LEADER_WAIT_MS = 60_000;

/** A stream's leader and replicas, for an error a person reads. */
function placement(info: StreamInfo): string {
  const replicas = (info.cluster?.replicas ?? [])
    .map((r) => `${r.name}${r.offline ? " offline" : r.current ? "" : " behind"}`)
    .join(", ");
  return `leader ${info.cluster?.leader ?? "none"}, replicas ${replicas === "" ? "none" : replicas}`;
}

/**
 * The source stream's info once it has a leader: only its leader answers a snapshot request, so
 * one asked while the stream has none (an election after a member left) goes unanswered.
 */
async function led(jsm: JetStreamManager, info: StreamInfo): Promise<StreamInfo> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  let current = info;
  while (current.cluster !== undefined && (current.cluster.leader ?? "") === "") {
    if (Date.now() > deadline)
      throw new Error(
        `${info.config.name}: no leader on the source after ${String(LEADER_WAIT_MS / 1000)} s (${placement(current)}); nothing was copied from it`,
      );
    await new Promise((r) => setTimeout(r, 500));
    current = await jsm.streams.info(info.config.name);
  }
  return current;
}

/** Stream updates at once: fourteen at a time timed out on a loaded 3-node 2.10 cluster. */
const UPDATE_CONCURRENCY = 4;

/**
 * Moves every planned stream's subjects to `subjects(b)`, a few at a time, each retried while
 * the cluster answers late (it reads before it writes); returns the streams changed or found.
 */
async function setSubjects(
  nc: NatsConnection,
  buckets: BucketPlan[],
  subjects: (b: BucketPlan) => string[],
): Promise<string[]> {
  const jsm = await withRetries(() => jetstreamManager(nc, { timeout: API_TIMEOUT_MS }));
  const found: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < buckets.length; i = next++) {
      const b = buckets[i];
      if (b === undefined) continue;
      await withRetries(async () => {
        const info = await infoOrUndefined(jsm, b.stream);
        if (info === undefined) return;
        const wanted = subjects(b);
        if (info.config.subjects.join() !== wanted.join())
          await jsm.streams.update(b.stream, { ...info.config, subjects: wanted });
        found.push(b.stream);
      });
    }
  };
  await Promise.all(Array.from({ length: UPDATE_CONCURRENCY }, worker));
  return found;
}

/** Stops writes to every planned stream of the connection's cluster; returns the streams frozen. */
export function freeze(nc: NatsConnection, buckets: BucketPlan[]): Promise<string[]> {
  return setSubjects(nc, buckets, (b) => frozenSubjects(b.stream));
}

/** Lets writes in again. */
export async function thaw(nc: NatsConnection, buckets: BucketPlan[]): Promise<void> {
  await setSubjects(nc, buckets, liveSubjects);
}

export interface CopiedStream {
  stream: string;
  /** How the copy began: a restored snapshot, an empty stream (memory-backed), a copy an earlier run left. */
  how: "snapshot" | "empty" | "resumed" | "absent";
  messages: number;
  lastSeq: number;
  /** Bytes moved: the snapshot's data as restored, plus the payloads caught up. */
  bytes: number;
  replicas: number;
  /** Catch-up rounds before writes stopped, and the messages the last one (writes stopped) copied. */
  rounds: number;
  finalMessages: number;
  ms: number;
}

export interface CopyTarget {
  bucket: BucketPlan;
  /** Replicas the copy is made at (no more than the target cluster has servers up). */
  replicas: number;
}

/** A line of progress: a snapshot or restore under way, or a catch-up round done. */
export type CopyProgress =
  TransferProgress | { stream: string; phase: "catch-up" | "final"; round: number; messages: number; lag: number };

export interface CopyOptions {
  /**
   * Stops writes on the source (e.g. `freeze`); called once, when every stream is within
   * `finalLag` messages of its source or after `maxRounds` rounds. What was written until then is
   * copied after it, with nothing coming in.
   */
  stopWrites: () => Promise<void>;
  onProgress?: (p: CopyProgress) => void;
  /** @default 8 */
  maxRounds?: number;
  /** @default 1,000 messages over all streams */
  finalLag?: number;
  /** Where snapshots are spooled. @default the OS's temporary directory */
  spoolDir?: string;
}

export interface CopyResult {
  streams: CopiedStream[];
  /** From stopping writes until every copy was whole and checked: how long writes were refused. */
  frozenMs: number;
}

/**
 * Copies every target stream from `source` into `target` while writes go on, then stops them
 * (`stopWrites`) and copies the rest. A copy an earlier run left is caught up, not made again.
 * Throws, writes possibly stopped, when a copy is not whole: the caller lets writes in again.
 */
export async function copyStreams(
  source: NatsConnection,
  target: NatsConnection,
  targets: CopyTarget[],
  options: CopyOptions,
): Promise<CopyResult> {
  // A cluster just formed answers "JetStream not enabled for account" for a moment (2.10.27, in
  // single → cluster-3's copy): withRetries waits that out, as the reconcile does.
  const from = await withRetries(() => jetstreamManager(source, { timeout: API_TIMEOUT_MS }));
  const into = await withRetries(() => jetstreamManager(target, { timeout: API_TIMEOUT_MS }));
  const peers = { source, target };
  const copies: CopiedStream[] = [];
  // A stream whose leader is being elected (a member just left) answers nothing for a moment, and
  // a cluster busy placing a large restore answers the next one late (it still makes the stream):
  // each stream's start is retried; a copy found half made is caught up or made again.
  for (const t of targets) copies.push(await startRetries(() => base(peers, from, into, t, options)));
  const live = targets.filter((_, i) => copies[i]?.how !== "absent");
  const copyOf = (stream: string): CopiedStream => {
    const copy = copies.find((c) => c.stream === stream);
    if (copy === undefined) throw new Error(`no copy of ${stream}`);
    return copy;
  };
  const run = async (t: CopyTarget, round: number, phase: "catch-up" | "final"): Promise<CatchUpResult> => {
    const started = performance.now();
    const r = await catchUp(peers, t.bucket.stream, liveSubjects(t.bucket));
    const copy = copyOf(t.bucket.stream);
    copy.bytes += r.bytes;
    copy.lastSeq = r.lastSeq;
    copy.ms += performance.now() - started;
    options.onProgress?.({ stream: t.bucket.stream, phase, round, messages: r.messages, lag: r.messages + r.gaps });
    return r;
  };
  const maxRounds = options.maxRounds ?? 8;
  const finalLag = options.finalLag ?? 1_000;
  for (let round = 1; round <= maxRounds; round++) {
    let lag = 0;
    for (const t of live) {
      const r = await run(t, round, "catch-up");
      lag += r.messages + r.gaps;
      copyOf(t.bucket.stream).rounds = round;
    }
    // A round that found little to copy: the next, with writes stopped, will be as short.
    if (lag <= finalLag) break;
  }
  await options.stopWrites();
  const frozenAt = performance.now();
  await Promise.all(
    live.map(async (t) => {
      copyOf(t.bucket.stream).finalMessages = (await run(t, maxRounds + 1, "final")).messages;
    }),
  );
  for (const t of live) {
    const [original, copied] = await Promise.all([
      from.streams.info(t.bucket.stream),
      into.streams.info(t.bucket.stream),
    ]);
    const problem = notWhole(copied, original);
    if (problem !== undefined) throw new Error(`${t.bucket.stream}: ${problem}`);
    copyOf(t.bucket.stream).messages = copied.state.messages;
  }
  return { streams: copies, frozenMs: performance.now() - frozenAt };
}

/**
 * Why a copy is not whole, once writes have stopped on the source: it ends at another sequence,
 * or it holds fewer messages (messages caught up carry the time they were copied, so an entry
 * with a TTL may outlive its original by the copy's duration: the copy may hold more).
 */
export function notWhole(copy: StreamInfo, source: StreamInfo): string | undefined {
  if (copy.state.last_seq !== source.state.last_seq)
    return `the copy ends at sequence ${String(copy.state.last_seq)}, the source at ${String(source.state.last_seq)}`;
  if (copy.state.messages < source.state.messages)
    return `the copy holds ${String(copy.state.messages)} messages, the source ${String(source.state.messages)}`;
  return undefined;
}

/** The copy a stream's catch-up starts from. */
async function base(
  peers: { source: NatsConnection; target: NatsConnection },
  from: JetStreamManager,
  into: JetStreamManager,
  { bucket, replicas }: CopyTarget,
  options: CopyOptions,
): Promise<CopiedStream> {
  const started = performance.now();
  const info = await infoOrUndefined(from, bucket.stream);
  const copy = (how: CopiedStream["how"], bytes: number, lastSeq: number): CopiedStream => ({
    stream: bucket.stream,
    how,
    messages: 0,
    lastSeq,
    bytes,
    replicas,
    rounds: 0,
    finalMessages: 0,
    ms: performance.now() - started,
  });
  if (info === undefined) return copy("absent", 0, 0);
  const existing = await infoOrUndefined(into, bucket.stream).catch(() => "unanswered" as const);
  if (existing !== undefined) {
    // A copy with nothing in it, or one that does not answer (a restore abandoned half way can
    // leave a stream that takes no write), is made again rather than continued.
    const resumable =
      existing !== "unanswered" &&
      (existing.state.last_seq > 0 || info.state.last_seq === 0) &&
      (await continues(peers, existing, info).catch(() => false));
    if (resumable) return copy("resumed", 0, existing.state.last_seq);
    await into.streams.delete(bucket.stream).catch((error: unknown) => {
      if (existing !== "unanswered") throw error;
    });
  }
  const config: StreamConfig = {
    ...info.config,
    subjects: liveSubjects(bucket),
    num_replicas: replicas,
    ...plannedLimits(bucket),
  };
  if (info.config.storage === StorageType.Memory) {
    // Counting from the source's first sequence (2.10+ take `first_seq`; on 2.9 the catch-up
    // fills the sequences before it with placeholders).
    const [major = 0, minor = 0] = (peers.target.info?.version ?? "0.0").split(".").map(Number);
    const startAt = major > 2 || (major === 2 && minor >= 10) ? { first_seq: info.state.first_seq } : {};
    const created = await into.streams.add({ ...config, ...startAt });
    return copy("empty", 0, created.state.last_seq);
  }
  await led(from, info);
  const snapshot = await snapshotToFile(peers.source, bucket.stream, options.onProgress, options.spoolDir).catch(
    async (error: unknown) => {
      if (!/timeout/i.test(String(error))) throw error;
      // Said with where the stream stands now; still a timeout, so the start is retried.
      const now = await from.streams.info(bucket.stream).catch(() => undefined);
      throw new Error(
        `${String(error)}: ${bucket.stream}'s snapshot went unanswered (${now === undefined ? "its info too" : placement(now)})`,
      );
    },
  );
  try {
    const restored = await restoreFromFile(peers.target, config, snapshot, options.onProgress);
    return copy("snapshot", restored.bytes, snapshot.state.last_seq);
  } finally {
    snapshot.discard();
  }
}

/**
 * Whether a copy an earlier run left can be caught up: it ends at or before the source, and its
 * last message is the source's at that sequence (or the source has removed that one since).
 */
async function continues(
  peers: { source: NatsConnection; target: NatsConnection },
  copy: StreamInfo,
  original: StreamInfo,
): Promise<boolean> {
  if (copy.state.last_seq > original.state.last_seq) return false;
  if (copy.state.messages === 0 || copy.state.last_seq < original.state.first_seq) return true;
  const read = async (nc: NatsConnection): Promise<string | undefined> => {
    const reply = await nc.request(
      `$JS.API.STREAM.MSG.GET.${copy.config.name}`,
      JSON.stringify({ seq: copy.state.last_seq }),
      { timeout: API_TIMEOUT_MS },
    );
    const answer = reply.json<{ message?: { subject: string; data?: string } }>();
    return answer.message === undefined ? undefined : `${answer.message.subject} ${answer.message.data ?? ""}`;
  };
  const theirs = await read(peers.source);
  return theirs === undefined || theirs === (await read(peers.target));
}
