/**
 * Letting writes in again after a transition step failed, or the process carrying it out ended,
 * while writes were stopped: the step wrote down what it held (`transition.hold` in the state, see
 * state.ts) before it stopped them, and this undoes or finishes it, whichever leaves the fleet
 * taking writes on the side that holds the current data:
 *
 * - `frozen`: the source still holds everything; its streams' subjects are put back, and the
 *   copy step is run again on resume (it catches its copies up, it does not start over);
 * - `restart`: the server is started with the wanted config, else with the one it had;
 * - `join` (a single server restarting into a cluster): if the cluster's streams end where the
 *   copy ended, no client wrote there, so the single server's store is put back and it takes its
 *   clients again; otherwise the cluster has taken writes and the server is started as a member;
 * - `take-over` (a single server filled by a copy taking over from a cluster): if it answers on
 *   its own address, the cluster's servers are stopped so their clients come over; if it does not,
 *   the cluster's streams are thawed.
 *
 * Run by the step's own error handling, by the command line when the process carrying the
 * transition out died, and by `up` before it resumes.
 */
import { thaw } from "../jetstream/stream-copy";
import type { Topology, TopologyServer } from "../topology/types";
import type { Transition } from "../change/transition";
import type { Hold } from "./state";
import { writeState } from "./state";
import { inMetaGroup, waitMetaGroup } from "./transition-health";
import {
  forget,
  reinstateStore,
  running,
  setHold,
  startServer,
  stopServer,
  storeDir,
  type LocalRun,
} from "./transition-servers";
import { lastSeqs, serverIn, stopBudgetMs, withConnection } from "./transition-steps";
import { existsSync } from "node:fs";

export interface SafetyContext {
  run: LocalRun;
  from: Topology;
  to: Topology;
  transition: Transition;
  healthTimeoutMs: number;
}

/** Drops steps of `kind` (and every step after the first of them) from the done list: they run again. */
function redo(ctx: SafetyContext, kinds: string[]): void {
  const t = ctx.run.state.transition;
  if (t === undefined) return;
  const first = ctx.transition.steps.findIndex((s) => kinds.includes(s.kind) && t.done.includes(s.id));
  if (first < 0) return;
  const again = new Set(ctx.transition.steps.slice(first).map((s) => s.id));
  t.done = t.done.filter((id) => !again.has(id));
  writeState(ctx.run.stateDir, ctx.run.state);
}

function markDone(ctx: SafetyContext, kind: string): void {
  const t = ctx.run.state.transition;
  const step = ctx.transition.steps.find((s) => s.kind === kind);
  if (t === undefined || step === undefined || t.done.includes(step.id)) return;
  t.done = [...t.done, step.id];
  writeState(ctx.run.stateDir, ctx.run.state);
}

async function thawOn(ctx: SafetyContext, names: string[]): Promise<void> {
  const servers = names.map((n) => ctx.from.servers.find((s) => s.name === n) ?? serverIn(ctx.to, n));
  await withConnection(ctx.run, servers, "app", (nc) => thaw(nc, ctx.from.plan.kv));
}

/** Starts `name` with `topology`'s config if it is not running, and waits for it in a meta group of `size`. */
async function bringUp(ctx: SafetyContext, topology: Topology, name: string, size: number): Promise<TopologyServer> {
  const server = serverIn(topology, name);
  if (!running(ctx.run, name)) startServer(ctx.run, topology, name);
  await waitMetaGroup([server], size, ctx.healthTimeoutMs);
  return server;
}

/** Whether the streams on `members` still end where a copy left them (no client wrote there). */
async function untouched(ctx: SafetyContext, members: string[], seqs: Record<string, number>): Promise<boolean> {
  const servers = members.map((n) => serverIn(ctx.to, n));
  const now = await withConnection(ctx.run, servers, "app", (nc) => lastSeqs(nc, Object.keys(seqs)));
  return Object.entries(seqs).every(([stream, seq]) => now[stream] === seq);
}

async function undo(ctx: SafetyContext, hold: Hold): Promise<string> {
  switch (hold.kind) {
    case "frozen":
      await thawOn(ctx, hold.servers);
      redo(ctx, ["copy-data"]);
      return `writes let in again on ${hold.servers.join(", ")} (their streams' subjects put back); the copy catches up again on resume`;
    case "restart": {
      const size = ctx.to.clusters.find((c) => c.servers.includes(hold.server))?.servers.length ?? 1;
      try {
        await bringUp(ctx, ctx.to, hold.server, size);
        return `${hold.server} started with its new config`;
      } catch (error) {
        await stopServer(ctx.run, hold.server, "terminate", stopBudgetMs(ctx.from));
        await bringUp(ctx, ctx.from, hold.server, size);
        return `${hold.server} did not come up with its new config (${String(error)}); started again with the one it had`;
      }
    }
    case "join": {
      const size = hold.members.length + 1;
      const member = serverIn(ctx.to, hold.server);
      if (running(ctx.run, hold.server) && (await inMetaGroup(member, size)))
        return `${hold.server} is a member of the cluster: writes go there`;
      if (!(await untouched(ctx, hold.members, hold.lastSeqs))) {
        await bringUp(ctx, ctx.to, hold.server, size);
        return `the cluster took writes already: ${hold.server} started as its member`;
      }
      await stopServer(ctx.run, hold.server, "terminate", stopBudgetMs(ctx.to));
      if (existsSync(hold.retired)) reinstateStore(ctx.run, hold.server, hold.retired);
      await bringUp(ctx, ctx.from, hold.server, 1);
      await thawOn(ctx, [hold.server]);
      redo(ctx, ["copy-data"]);
      return `${hold.server} runs alone again on its own store (${storeDir(ctx.run, hold.server)}), writes let in; the cluster took none`;
    }
    case "take-over": {
      const single = serverIn(ctx.to, hold.server);
      if (running(ctx.run, hold.server) && (await inMetaGroup(single, 1))) {
        await Promise.all(hold.servers.map((n) => stopServer(ctx.run, n, "hand-over", stopBudgetMs(ctx.from))));
        for (const n of hold.servers) forget(ctx.run, n);
        markDone(ctx, "copy-data");
        markDone(ctx, "remove-servers");
        return `${hold.server} holds the copy on its own address; ${hold.servers.join(", ")} stopped, their clients come over`;
      }
      await stopServer(ctx.run, hold.server, "terminate", stopBudgetMs(ctx.to));
      await thawOn(ctx, hold.servers);
      redo(ctx, ["copy-data"]);
      return `${hold.server} did not take over; writes let in again on ${hold.servers.join(", ")}`;
    }
  }
}

/**
 * Lets writes in again if a step held them; returns what was done (undefined: nothing was held).
 * The hold stays in the state if this fails too, so the next attempt (`up`) tries again.
 */
export async function makeSafe(ctx: SafetyContext): Promise<string | undefined> {
  const hold = ctx.run.state.transition?.hold;
  if (hold === undefined) return undefined;
  const done = await undo(ctx, hold);
  setHold(ctx.run, undefined);
  return done;
}
