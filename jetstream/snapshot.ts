/**
 * JetStream's snapshot and restore, as the nats CLI (jsm.go) speaks them: a snapshot streams in
 * chunks, each acknowledged before the server's window fills; a restore sends chunks, each one a
 * request whose (empty) answer comes once the server has taken it, then an empty message that the
 * server answers once the stream exists. The snapshot is spooled to a file (a store may not fit in
 * memory, in a Lambda least of all) and sent back in frames small enough that the server's 5 s stall
 * watchdog never fires (s2-frames.ts says why that matters on 2.14+).
 */
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { createInbox, type NatsConnection } from "@nats-io/nats-core";
import { inboxPrefix } from "../topology/auth";
import { S2StreamReader, streamIdentifier, uncompressedFrame } from "./s2-frames";

const API_TIMEOUT_MS = 10_000;
/** What the server sends per snapshot chunk (its default, as the nats CLI asks). */
const SNAPSHOT_CHUNK_BYTES = 128 * 1024;
/** A restore chunk's data: started at, and kept between. */
const RESTORE_CHUNK = { start: 16 * 1024, min: 1024, max: 512 * 1024 } as const;
/**
 * How long the server should take to store one chunk: a tenth of its 5 s stall watchdog. The
 * server answers a chunk once it has read it, i.e. once it has stored the chunk before it, so the
 * answer's delay measures how fast it stores; the next chunk is sized to take this long.
 */
const RESTORE_CHUNK_MS = 500;

/** Where a copy is, for a progress line. */
export interface TransferProgress {
  stream: string;
  phase: "snapshot" | "restore";
  bytes: number;
  /** Bytes expected, when known (a snapshot's compressed size is not). */
  totalBytes?: number;
}

export interface SpooledSnapshot {
  file: string;
  /** The compressed snapshot's size. */
  bytes: number;
  /** The stream's state when the snapshot was taken: its messages up to `last_seq`. */
  state: StreamInfo["state"];
  config: StreamConfig;
  /** Removes the spool file. */
  discard: () => void;
}

/** Asks for a snapshot of `stream` and writes it to a temporary file as it arrives. */
export async function snapshotToFile(
  nc: NatsConnection,
  stream: string,
  onProgress?: (p: TransferProgress) => void,
  spoolDir = os.tmpdir(),
): Promise<SpooledSnapshot> {
  const dir = mkdtempSync(path.join(spoolDir, "zester-snapshot-"));
  const file = path.join(dir, `${stream}.s2`);
  const discard = (): void => {
    rmSync(dir, { recursive: true, force: true });
  };
  const fd = openSync(file, "w", 0o600);
  let bytes = 0;
  let failure: Error | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // Copies run as the master's identity, whose only inbox is its own.
  const inbox = createInbox(inboxPrefix("master"));
  const sub = nc.subscribe(inbox, {
    callback: (error, msg) => {
      if (failure !== undefined) return;
      if (error !== null) {
        failure = error;
        finish();
        return;
      }
      if (msg.data.length === 0) {
        // The end: an empty message, with a status header when the snapshot failed.
        const code = msg.headers?.code ?? 0;
        if (code !== 0 && code !== 204)
          failure = new Error(`${stream}: snapshot failed: ${String(code)} ${msg.headers?.description ?? ""}`);
        finish();
        return;
      }
      try {
        writeSync(fd, msg.data);
      } catch (e) {
        failure = e instanceof Error ? e : new Error(String(e));
        finish();
        return;
      }
      bytes += msg.data.length;
      // The server sends more only as chunks are acknowledged (its flow control).
      if (msg.reply !== undefined && msg.reply !== "") msg.respond();
      onProgress?.({ stream, phase: "snapshot", bytes });
    },
  });
  try {
    const reply = await nc.request(
      `$JS.API.STREAM.SNAPSHOT.${stream}`,
      JSON.stringify({ deliver_subject: inbox, no_consumers: true, chunk_size: SNAPSHOT_CHUNK_BYTES }),
      { timeout: API_TIMEOUT_MS },
    );
    const answer = reply.json<{
      state?: StreamInfo["state"];
      config?: StreamConfig;
      error?: { description?: string };
    }>();
    if (answer.error !== undefined) throw new Error(`${stream}: snapshot refused: ${answer.error.description ?? ""}`);
    if (answer.state === undefined || answer.config === undefined)
      throw new Error(`${stream}: the snapshot's answer names no state or config: ${reply.string()}`);
    await done;
    if (failure !== undefined) throw failure;
    return { file, bytes, state: answer.state, config: answer.config, discard };
  } catch (error) {
    discard();
    throw error;
  } finally {
    sub.unsubscribe();
    closeSync(fd);
  }
}

/**
 * Restores a spooled snapshot as a stream with `config` (the server takes the config it is given,
 * not the snapshot's). Returns the bytes sent (uncompressed) and how many chunks.
 */
export async function restoreFromFile(
  nc: NatsConnection,
  config: StreamConfig,
  snapshot: SpooledSnapshot,
  onProgress?: (p: TransferProgress) => void,
): Promise<{ bytes: number; chunks: number }> {
  const reply = await nc.request(
    `$JS.API.STREAM.RESTORE.${config.name}`,
    JSON.stringify({ config, state: snapshot.state }),
    { timeout: API_TIMEOUT_MS },
  );
  const answer = reply.json<{ deliver_subject?: string; error?: { description?: string } }>();
  if (answer.error !== undefined || answer.deliver_subject === undefined)
    throw new Error(`${config.name}: restore refused: ${answer.error?.description ?? "no subject to send it to"}`);
  const subject = answer.deliver_subject;
  let size: number = RESTORE_CHUNK.start;
  let bytes = 0;
  let chunks = 0;
  let previous = 0;
  const send = async (data: Uint8Array): Promise<void> => {
    const started = performance.now();
    const ack = await nc.request(subject, data, { timeout: API_TIMEOUT_MS });
    if (ack.data.length > 0) throw new Error(`${config.name}: restore failed: ${ack.string()}`);
    const ms = Math.max(1, performance.now() - started);
    // Never more than twice the last chunk: a burst of fast answers is the server's buffers filling.
    if (previous > 0)
      size = Math.min(
        RESTORE_CHUNK.max,
        2 * size,
        Math.max(RESTORE_CHUNK.min, Math.floor((previous / ms) * RESTORE_CHUNK_MS)),
      );
    previous = data.length;
    chunks++;
  };
  try {
    await send(streamIdentifier());
    const reader = new S2StreamReader();
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      for (let at = 0; at < data.length;) {
        const piece = data.subarray(at, at + size);
        await send(uncompressedFrame(piece));
        at += piece.length;
        bytes += piece.length;
        onProgress?.({ stream: config.name, phase: "restore", bytes });
      }
    };
    for await (const piece of createReadStream(snapshot.file, { highWaterMark: SNAPSHOT_CHUNK_BYTES })) {
      for (const data of reader.push(piece as Buffer)) {
        pending.push(data);
        pendingBytes += data.length;
        if (pendingBytes >= size) await flush();
      }
    }
    reader.end();
    await flush();
  } catch (error) {
    // Abandoned half way: the empty message makes the server end the restore now (it fails, the
    // stream is not made) instead of holding it until its watchdog gives up on it.
    await nc.request(subject, new Uint8Array(0), { timeout: API_TIMEOUT_MS }).catch(() => undefined);
    throw error;
  }
  // The empty message ends it; the server answers once the stream is restored (and placed).
  const end = await nc.request(subject, new Uint8Array(0), { timeout: 12 * API_TIMEOUT_MS });
  const result = end.json<{ error?: { description?: string } }>();
  if (result.error !== undefined) throw new Error(`${config.name}: restore failed: ${result.error.description ?? ""}`);
  return { bytes, chunks };
}
