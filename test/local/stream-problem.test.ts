/**
 * When a stream is whole for a step of a tier transition (local/transition-health.ts): a leader
 * and every replica current; a replica on a member that has left already (a run killed once it
 * had stopped it) is neither waited for nor counted, so the step run again can go on.
 */
import type { StreamInfo } from "@nats-io/jetstream";
import { streamProblem } from "../../local/transition-health";

const info = (replicas: { name: string; current: boolean; offline?: boolean }[], leader = "core-1"): StreamInfo =>
  ({
    config: { name: "KV_facts", num_replicas: 3 },
    cluster: { name: "zester", leader, replicas: replicas.map((r) => ({ active: 0, ...r })) },
  }) as unknown as StreamInfo;

const offline = { name: "core-0", current: false, offline: true };

test("a replica offline: not whole, unless it is on the member that has left", () => {
  const stream = info([offline, { name: "core-2", current: true }]);
  expect(streamProblem(stream)).toBe("KV_facts has 2 of 3 replicas current");
  expect(streamProblem(stream, undefined, "core-0")).toBeUndefined();
  // Another member's replica offline is still waited for.
  expect(streamProblem(stream, undefined, "core-2")).toBe(
    "KV_facts has 1 of 2 replicas current (and one on core-2, stopped)",
  );
});

test("with the member that has left named, the replicas that stay must still be current", () => {
  const lagging = info([offline, { name: "core-2", current: false }]);
  expect(streamProblem(lagging, undefined, "core-0")).toBe(
    "KV_facts has 1 of 2 replicas current (and one on core-0, stopped)",
  );
  expect(streamProblem(info([offline, { name: "core-2", current: true }], ""), undefined, "core-0")).toBe(
    "KV_facts has no leader",
  );
});
