/**
 * A stream whose leader reports a follower behind with no catch-up going on. nats-server 2.10.27's
 * leader can keep a finished catch-up on its books and report the follower behind for good (seen
 * after a member's restart: raft at the same index on all three, the stream empty, "2 of 3
 * replicas current" for minutes), and 2.9.10 left a new empty R3 stream with a leader and no
 * current follower for 30 s on a loaded host; a new leader starts with none of that.
 *
 * Asking the leader to step down also restarts a real catch-up, so it is asked only once the
 * followers' lag has not fallen for a while, and each time after waits twice as long as before.
 */
import type { PeerInfo, StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";

/** nats-server leaves a zero lag out of the JSON, which the client's type does not say. */
const lagOf = (r: PeerInfo): number => (r as { lag?: number }).lag ?? 0;

export type Behind = { since: number; lag: number; quietMs: number };

/** Asks `stream`'s leader to step down; best effort: a stream with no leader has none to ask. */
export async function stepDown(nc: NatsConnection, stream: string): Promise<void> {
  await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, "", { timeout: 5_000 }).catch(() => undefined);
}

/** What a stream's followers are doing, for an error that says why it is not whole. */
export function followersOf(info: StreamInfo): string {
  const replicas = info.cluster?.replicas ?? [];
  if (replicas.length === 0) return "no followers";
  return replicas
    .map((r) => {
      const seen = `${(r.active / 1e9).toFixed(1)} s ago`;
      return `${r.name} ${r.offline ? "offline" : r.current ? "current" : "behind"} (lag ${String(lagOf(r))}, seen ${seen})`;
    })
    .join(", ");
}

/**
 * One look at a stream that is not whole, `was` the looks before: what to remember, and whether to
 * ask its leader to step down now (its followers' lag has not fallen for `quietMs`, doubling after
 * each ask). Undefined `behind`: nothing to remember (no leader to ask).
 */
export function lookBehind(
  was: Behind | undefined,
  info: StreamInfo,
  now: number,
  quietMs: number,
): { behind: Behind | undefined; ask: boolean } {
  if ((info.cluster?.leader ?? "") === "") return { behind: was, ask: false };
  const lag = (info.cluster?.replicas ?? [])
    // An offline follower's lag grows with every write and would hide one that catches up.
    .filter((r) => !r.current && !r.offline)
    .reduce((sum, r) => sum + lagOf(r), 0);
  if (was === undefined || lag < was.lag)
    return { behind: { since: now, lag, quietMs: was?.quietMs ?? quietMs }, ask: false };
  if (now - was.since < was.quietMs) return { behind: was, ask: false };
  return { behind: { since: now, lag, quietMs: was.quietMs * 2 }, ask: true };
}

/**
 * Returns `nudge(info)`, called on every look at a stream that is not whole: it asks the stream's
 * leader to step down as `lookBehind` says. `settled(stream)` forgets a stream once it is whole;
 * `asked(stream)` says how many times its leader was asked, for an error that gives up on it.
 */
export function staleFollowers(
  nc: NatsConnection,
  quietMs: number,
): {
  nudge: (info: StreamInfo) => Promise<void>;
  settled: (stream: string) => void;
  asked: (stream: string) => number;
} {
  const behind = new Map<string, Behind>();
  const asks = new Map<string, number>();
  return {
    settled: (stream) => behind.delete(stream),
    asked: (stream) => asks.get(stream) ?? 0,
    nudge: async (info) => {
      const stream = info.config.name;
      const look = lookBehind(behind.get(stream), info, Date.now(), quietMs);
      if (look.behind === undefined) behind.delete(stream);
      else behind.set(stream, look.behind);
      if (!look.ask) return;
      asks.set(stream, (asks.get(stream) ?? 0) + 1);
      await stepDown(nc, stream);
    },
  };
}
