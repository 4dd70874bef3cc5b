/**
 * A stream's raft group made again: its replicas lowered to one (nats-server removes the group and
 * its state; the one member it keeps holds every message) and raised back (a new group of the
 * members the meta group assigns, caught up from that one). For a group that counts voters the
 * stream no longer has (a removed server nats-server 2.10 left in it), which would lose its quorum
 * as soon as one real member stops. The stream keeps taking writes on its leader throughout.
 */
import { jetstreamManager, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { whole } from "./stream-whole";

const API_TIMEOUT_MS = 10_000;

async function waitFor(
  jsm: JetStreamManager,
  stream: string,
  what: string,
  timeoutMs: number,
  ok: (info: StreamInfo) => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.streams.info(stream).catch((error: unknown) => String(error));
    if (typeof info !== "string" && ok(info)) return;
    const last =
      typeof info === "string"
        ? info
        : `leader ${info.cluster?.leader ?? "none"}, replicas ${(info.cluster?.replicas ?? []).map((r) => `${r.name}${r.current ? "" : " behind"}`).join(", ") || "none"}`;
    if (Date.now() > deadline) throw new Error(`${stream}: not ${what} after ${String(timeoutMs / 1000)} s (${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A placement the meta leader refuses for a moment: the storage the dropped replicas held is free
 * again once the servers next report it ("insufficient storage"), and a member just restarted is
 * offline to it until then ("peer offline").
 */
const PASSING_REFUSAL = /insufficient|offline|no suitable peers/i;

/**
 * Makes `stream`'s raft group again at `replicas` (see above); resolves once it is whole. Run
 * again after it failed half way (the stream left at one replica), it raises the stream.
 */
export async function regroup(nc: NatsConnection, stream: string, replicas: number, timeoutMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS, checkAPI: false });
  const info = await jsm.streams.info(stream);
  if (replicas <= 1) return;
  if (info.config.num_replicas > 1) {
    await jsm.streams.update(stream, { ...info.config, num_replicas: 1 });
    await waitFor(jsm, stream, "down to one replica", timeoutMs, (i) => whole(i, 1));
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await jsm.streams.info(stream);
    try {
      await jsm.streams.update(stream, { ...now.config, num_replicas: replicas });
      break;
    } catch (error) {
      if (!PASSING_REFUSAL.test(String(error)) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  await waitFor(jsm, stream, `back to ${String(replicas)} current replicas`, timeoutMs, (i) => whole(i, replicas));
}
