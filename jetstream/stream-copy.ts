/**
 * Copying a cluster's KV buckets and job-events into another cluster, for the one move NATS has
 * no in-place path for: a single server becoming a cluster (or the reverse). First writes stop:
 * each source stream's subjects are moved aside (`freeze`), so a client's write is refused (no
 * stream answers it) rather than acknowledged and left behind; `thaw` puts them back. Then each
 * stream is copied: a file-backed one as a JetStream snapshot restored into the target (every
 * message with its sequence number, time and headers, so what a client was told about a write
 * still holds), the memory-backed one (which has no snapshots on 2.9) message by message. Each copy
 * is checked against the source's state. Runs the same from the local target and from the job a
 * cloud target runs next to its servers.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { createInbox, type NatsConnection } from "@nats-io/nats-core";
import type { BucketPlan } from "../sizing/types";
import { plannedLimits } from "./reconcile";
import { JOB_EVENTS_SUBJECTS } from "./zester-assumptions";
import { inboxPrefix } from "../topology/auth";

/** Where a frozen stream's subjects are moved: nothing publishes there. */
export const FROZEN_PREFIX = "zester-frozen";

const API_TIMEOUT_MS = 10_000;
const CHUNK_BYTES = 128 * 1024;

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

/** Stops writes to every planned stream of the connection's cluster; returns the streams frozen. */
export async function freeze(nc: NatsConnection, buckets: BucketPlan[]): Promise<string[]> {
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
  const frozen: string[] = [];
  for (const b of buckets) {
    const info = await infoOrUndefined(jsm, b.stream);
    if (info === undefined) continue;
    if (info.config.subjects.join() !== frozenSubjects(b.stream).join())
      await jsm.streams.update(b.stream, { ...info.config, subjects: frozenSubjects(b.stream) });
    frozen.push(b.stream);
  }
  return frozen;
}

/** Lets writes in again (a copy that failed leaves the source as it was). */
export async function thaw(nc: NatsConnection, buckets: BucketPlan[]): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
  for (const b of buckets) {
    const info = await infoOrUndefined(jsm, b.stream);
    if (info !== undefined && info.config.subjects.join() !== liveSubjects(b).join())
      await jsm.streams.update(b.stream, { ...info.config, subjects: liveSubjects(b) });
  }
}

export interface CopiedStream {
  stream: string;
  how: "snapshot" | "messages" | "already-copied" | "absent";
  messages: number;
  lastSeq: number;
  /** Bytes moved: the snapshot's size, or the messages' payloads. */
  bytes: number;
  replicas: number;
  ms: number;
}

export interface CopyTarget {
  bucket: BucketPlan;
  /** Replicas the copy is made at (no more than the target cluster has servers up). */
  replicas: number;
}

/**
 * Copies every target stream from `source` into `target` (writes must be frozen on the source
 * first). A stream already copied whole is left alone and one copied in part is copied again,
 * so a copy that failed half way can simply be run again.
 */
export async function copyStreams(
  source: NatsConnection,
  target: NatsConnection,
  targets: CopyTarget[],
): Promise<CopiedStream[]> {
  const from = await jetstreamManager(source, { timeout: API_TIMEOUT_MS });
  const into = await jetstreamManager(target, { timeout: API_TIMEOUT_MS });
  const out: CopiedStream[] = [];
  for (const t of targets) out.push(await copyOne(source, target, from, into, t));
  return out;
}

async function copyOne(
  source: NatsConnection,
  target: NatsConnection,
  from: JetStreamManager,
  into: JetStreamManager,
  { bucket, replicas }: CopyTarget,
): Promise<CopiedStream> {
  const started = performance.now();
  const info = await infoOrUndefined(from, bucket.stream);
  const result = (how: CopiedStream["how"], bytes: number): CopiedStream => ({
    stream: bucket.stream,
    how,
    messages: info?.state.messages ?? 0,
    lastSeq: info?.state.last_seq ?? 0,
    bytes,
    replicas,
    ms: performance.now() - started,
  });
  if (info === undefined) return result("absent", 0);
  const existing = await infoOrUndefined(into, bucket.stream);
  if (existing !== undefined) {
    if (whole(existing, info, bucket)) return result("already-copied", 0);
    // A partial copy: the source still holds everything (frozen), so the copy is made again.
    await into.streams.delete(bucket.stream);
  }
  const config: StreamConfig = {
    ...info.config,
    subjects: liveSubjects(bucket),
    num_replicas: replicas,
    ...plannedLimits(bucket),
  };
  const memory = info.config.storage === StorageType.Memory;
  const { bytes, published } = memory
    ? await copyMessages(from, target, config, info)
    : { bytes: await restore(target, config, info, await snapshot(source, bucket.stream)), published: undefined };
  const copied = await into.streams.info(bucket.stream);
  if (!whole(copied, info, bucket, published))
    throw new Error(
      `${bucket.stream}: the copy holds ${String(copied.state.messages)} messages up to sequence ${String(copied.state.last_seq)}, the source ${String(info.state.messages)} up to ${String(info.state.last_seq)}`,
    );
  return result(info.config.storage === StorageType.Memory ? "messages" : "snapshot", bytes);
}

/**
 * A snapshot's copy holds the source's messages under the same sequence numbers. The memory-backed
 * copy renumbers them and holds every message that was still there when it was read (`published`:
 * its TTL may remove some while it is copied). Where clients already write to the target (a
 * cluster becoming a single server: clients reconnect to it before the copy), a copy may also
 * hold writes newer than the source's last: acknowledged by the copy, and kept.
 */
function whole(copy: StreamInfo, source: StreamInfo, bucket: BucketPlan, published?: number): boolean {
  if (bucket.storage === "memory" && published !== undefined) return copy.state.messages >= published;
  const newer = copy.state.last_seq - source.state.last_seq;
  return newer >= 0 && copy.state.messages - newer >= source.state.messages;
}

/** A stream's snapshot, as the server streams it: chunks acknowledged one by one (its flow control). */
async function snapshot(nc: NatsConnection, stream: string): Promise<{ chunks: Uint8Array[]; state: unknown }> {
  // Copies run as the master's identity, whose only inbox is its own.
  const inbox = createInbox(inboxPrefix("master"));
  const chunks: Uint8Array[] = [];
  let finish: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => {
      if (error === undefined) resolve();
      else reject(error);
    };
  });
  const sub = nc.subscribe(inbox, {
    callback: (error, msg) => {
      if (error !== null) {
        finish(error);
        return;
      }
      if (msg.data.length === 0) {
        // The end: an empty message, with a status header when the snapshot failed.
        const code = msg.headers?.code ?? 0;
        finish(
          code === 0 || code === 204
            ? undefined
            : new Error(`${stream}: snapshot failed: ${String(code)} ${msg.headers?.description ?? ""}`),
        );
        return;
      }
      chunks.push(msg.data);
      if (msg.reply !== undefined && msg.reply !== "") msg.respond();
    },
  });
  try {
    const reply = await nc.request(
      `$JS.API.STREAM.SNAPSHOT.${stream}`,
      JSON.stringify({ deliver_subject: inbox, no_consumers: true, chunk_size: CHUNK_BYTES }),
      { timeout: API_TIMEOUT_MS },
    );
    const answer = reply.json<{ state?: unknown; error?: { description?: string } }>();
    if (answer.error !== undefined) throw new Error(`${stream}: snapshot refused: ${answer.error.description ?? ""}`);
    await done;
    return { chunks, state: answer.state };
  } finally {
    sub.unsubscribe();
  }
}

/** Restores a snapshot under `config` (the server takes the config it is given, not the snapshot's). */
async function restore(
  nc: NatsConnection,
  config: StreamConfig,
  info: StreamInfo,
  snap: { chunks: Uint8Array[]; state: unknown },
): Promise<number> {
  const reply = await nc.request(
    `$JS.API.STREAM.RESTORE.${config.name}`,
    JSON.stringify({ config, state: snap.state ?? info.state }),
    { timeout: API_TIMEOUT_MS },
  );
  const answer = reply.json<{ deliver_subject?: string; error?: { description?: string } }>();
  if (answer.error !== undefined || answer.deliver_subject === undefined)
    throw new Error(`${config.name}: restore refused: ${answer.error?.description ?? "no subject to send it to"}`);
  let bytes = 0;
  for (const chunk of snap.chunks) {
    const ack = await nc.request(answer.deliver_subject, chunk, { timeout: API_TIMEOUT_MS });
    if (ack.data.length > 0) throw new Error(`${config.name}: restore failed: ${ack.string()}`);
    bytes += chunk.length;
  }
  // The empty message ends it; the server answers once the stream is restored (and placed).
  const end = await nc.request(answer.deliver_subject, new Uint8Array(0), { timeout: 6 * API_TIMEOUT_MS });
  const result = end.json<{ error?: { description?: string } }>();
  if (result.error !== undefined) throw new Error(`${config.name}: restore failed: ${result.error.description ?? ""}`);
  return bytes;
}

/** The memory-backed stream: created in the target and given every message again, in order. */
async function copyMessages(
  from: JetStreamManager,
  target: NatsConnection,
  config: StreamConfig,
  info: StreamInfo,
): Promise<{ bytes: number; published: number }> {
  const into = await jetstreamManager(target, { timeout: API_TIMEOUT_MS });
  await into.streams.add(config);
  const js = jetstream(target, { timeout: API_TIMEOUT_MS });
  let bytes = 0;
  let published = 0;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await from.streams.getMessage(info.config.name, { seq }).catch((error: unknown) => {
      // A sequence a newer revision or its TTL removed: nothing to copy.
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
      throw error;
    });
    if (msg === null) continue;
    await js.publish(msg.subject, msg.data, { headers: msg.header });
    bytes += msg.data.length;
    published++;
  }
  return { bytes, published };
}
