/**
 * Stream leaders handed off a server before it stops. Lame duck alone leaves each stream it leads
 * to elect a new leader once it is gone, and until then that stream answers no write: a peel's
 * write waits out its timeout (seen as 2–12 s write gaps in member restarts and at the cut-over to
 * a single server on 2.10.27). Asked to step down first, each leader is replaced while the server
 * still answers, so the writes in flight to it are answered and the next go to the new leader.
 */
import { jetstreamManager, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { stepDown } from "./stale-followers";

const API_TIMEOUT_MS = 5_000;
const POLL_MS = 100;

export interface HandOff {
  /** Streams whose leader moved off the server. */
  moved: string[];
  /** Streams still led by it when the time ran out (lame duck hands them off as it stops). */
  stillLed: string[];
}

async function infoOrUndefined(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  return jsm.streams.info(stream).catch(() => undefined);
}

/** Whether `server` leads `info`'s stream and another replica could take over. */
const ledBy = (info: StreamInfo | undefined, server: string): boolean =>
  info !== undefined && info.config.num_replicas > 1 && info.cluster?.leader === server;

/**
 * Asks every stream in `streams` that `server` leads (and that has another replica) to step down,
 * and waits up to `timeoutMs` for each to have a leader elsewhere. Best effort: a stream whose
 * step-down is refused or slow is reported in `stillLed`, never an error, since stopping the
 * server in lame duck still hands it off, only more slowly.
 */
export async function handOffLeaders(
  nc: NatsConnection,
  streams: readonly string[],
  server: string,
  timeoutMs: number,
): Promise<HandOff> {
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS, checkAPI: false });
  const led: string[] = [];
  for (const stream of streams) if (ledBy(await infoOrUndefined(jsm, stream), server)) led.push(stream);
  await Promise.all(led.map((stream) => stepDown(nc, stream)));
  const deadline = Date.now() + timeoutMs;
  let pending = led;
  for (;;) {
    const still: string[] = [];
    for (const stream of pending) {
      const info = await infoOrUndefined(jsm, stream);
      // No leader yet (an election under way) counts as not handed off.
      if (info === undefined || ledBy(info, server) || (info.cluster?.leader ?? "") === "") still.push(stream);
    }
    pending = still;
    if (pending.length === 0 || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { moved: led.filter((s) => !pending.includes(s)), stillLed: pending };
}
