/** When a stream whose followers stand behind its leader gets its leader asked to step down. */
import type { StreamInfo } from "@nats-io/jetstream";
import { followersOf, lookBehind, type Behind } from "../../jetstream/stale-followers";

function info(leader: string, replicas: { name: string; current: boolean; lag: number }[]): StreamInfo {
  return {
    config: { name: "KV_facts", num_replicas: replicas.length + 1 },
    cluster: { leader, replicas: replicas.map((r) => ({ ...r, offline: false, active: 400_000_000 })) },
  } as unknown as StreamInfo;
}

const behind = (lag: number): StreamInfo =>
  info("core-0", [
    { name: "core-1", current: true, lag: 0 },
    { name: "core-2", current: false, lag },
  ]);

test("asks only after the followers' lag stood still for the quiet time, then waits twice as long", () => {
  let was: Behind | undefined;
  const look = (lag: number, now: number): boolean => {
    const next = lookBehind(was, behind(lag), now, 1_000);
    was = next.behind;
    return next.ask;
  };
  expect(look(0, 0)).toBe(false);
  expect(look(0, 999)).toBe(false);
  expect(look(0, 1_001)).toBe(true);
  expect(look(0, 2_500)).toBe(false);
  expect(look(0, 3_002)).toBe(true);
  expect(was?.quietMs).toBe(4_000);
});

test("a falling lag is a catch-up under way: the quiet time starts again and nothing is asked", () => {
  let was: Behind | undefined;
  for (const [lag, now] of [
    [500, 0],
    [400, 900],
    [300, 1_800],
    [200, 2_700],
  ] as const) {
    const next = lookBehind(was, behind(lag), now, 1_000);
    expect(next.ask).toBe(false);
    was = next.behind;
  }
  expect(was?.since).toBe(2_700);
  expect(lookBehind(was, behind(200), 3_701, 1_000).ask).toBe(true);
});

test("a stream with no leader has no one to ask", () => {
  const leaderless = info("", [{ name: "core-1", current: false, lag: 0 }]);
  expect(lookBehind(undefined, leaderless, 0, 1_000)).toEqual({ behind: undefined, ask: false });
  const was = { since: 0, lag: 0, quietMs: 1_000 };
  expect(lookBehind(was, leaderless, 60_000, 1_000)).toEqual({ behind: was, ask: false });
});

test("says what each follower is doing", () => {
  expect(followersOf(behind(7))).toBe("core-1 current (lag 0, seen 0.4 s ago), core-2 behind (lag 7, seen 0.4 s ago)");
  expect(followersOf(info("core-0", []))).toBe("no followers");
});

test("an offline follower's growing lag does not hide one that catches up", () => {
  const look = (offlineLag: number, catchingUp: number) =>
    info("core-0", [
      { name: "core-1", current: false, lag: catchingUp },
      { name: "core-2", current: false, lag: offlineLag },
    ]);
  const offline = (i: StreamInfo): StreamInfo => {
    const replicas = i.cluster?.replicas ?? [];
    if (replicas[1] !== undefined) replicas[1].offline = true;
    return i;
  };
  const was = lookBehind(undefined, offline(look(100, 500)), 0, 1_000).behind;
  expect(lookBehind(was, offline(look(900, 400)), 1_500, 1_000)).toEqual({
    behind: { since: 1_500, lag: 400, quietMs: 1_000 },
    ask: false,
  });
});
