/**
 * How the local target carries out each kind of transition step on real nats-server processes.
 * Every server a step starts gets the wanted topology's config; a server the wanted topology no
 * longer has keeps the config it runs with until it is stopped.
 */
import { rmSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { runReconcileJob } from "../jetstream/reconcile-job";
import { reconcileJob } from "./kv";
import { copyStreams, freeze, thaw, type CopiedStream } from "../jetstream/stream-copy";
import { targetReplicas } from "../sizing/kv";
import type { StepKind, TransitionStep } from "../change/transition";
import { clientUrl, type Topology, type TopologyServer } from "../topology/types";
import { waitLeafLinks, waitMetaGroup, waitStreams } from "./transition-health";
import {
  connectTo,
  forget,
  reloadServer,
  retireStore,
  running,
  serverDir,
  serverState,
  startServer,
  stopServer,
  type LocalRun,
} from "./transition-servers";

export interface StepContext {
  run: LocalRun;
  from: Topology;
  to: Topology;
  healthTimeoutMs: number;
}

/** What a step did, in a line (copied streams, the server it waited for). */
export type StepResult = string;

const serverIn = (t: Topology, name: string): TopologyServer => {
  const s = t.servers.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no server ${name} in the ${t.tier} topology`);
  return s;
};

/** The core servers of `cluster` that run now, as the wanted topology addresses them (or the current one). */
function runningMembers(ctx: StepContext, cluster: string): TopologyServer[] {
  return ctx.run.state.servers
    .filter((s) => s.role === "core" && s.cluster === cluster && running(ctx.run, s.name))
    .map((s) => ctx.to.servers.find((x) => x.name === s.name) ?? serverIn(ctx.from, s.name));
}

const stopBudgetMs = (t: Topology): number =>
  (t.plan.natsServer.lameDuckDurationSeconds + t.plan.natsServer.lameDuckGracePeriodSeconds + 10) * 1000;

async function withConnection<T>(
  ctx: StepContext,
  servers: TopologyServer[],
  account: "app" | "system",
  use: (nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await connectTo(ctx.run, servers.map(clientUrl), account);
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

const streamsOf = (t: Topology): string[] => t.plan.kv.map((b) => b.stream);

/** How long a full mesh may take to form before a server that lacks a route is restarted again. */
const ROUTE_WAIT_MS = 20_000;
const ROUTE_RETRIES = 2;

/**
 * Waits for a meta group of `members`. A route that does not come back after a restart is a known
 * nats-server race (duplicate-route resolution dropping the reconnect; seen here on 2.9.10, fixed
 * upstream only in 2026): the server just started that lacks it is restarted once more (it is the
 * one voter down already), at most twice. Returns what was restarted again.
 */
async function meshOrRestart(ctx: StepContext, members: TopologyServer[], started: string[]): Promise<string[]> {
  const again: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      await waitMetaGroup(members, members.length, attempt < ROUTE_RETRIES ? ROUTE_WAIT_MS : ctx.healthTimeoutMs);
      return again;
    } catch (error) {
      const lacking = /^.*?: not so after .*\((\S+) routes to /.exec(String(error))?.[1];
      const victim = started.includes(lacking ?? "") ? lacking : started[0];
      if (attempt >= ROUTE_RETRIES || lacking === undefined || victim === undefined) throw error;
      await stopServer(ctx.run, victim, "lame-duck", stopBudgetMs(ctx.from));
      startServer(ctx.run, ctx.to, victim);
      again.push(victim);
    }
  }
}

const restartedAgain = (names: string[]): string =>
  names.length === 0 ? "" : ` (restarted again for a route that did not come back: ${names.join(", ")})`;

/** After a member's restart: back in a meta group of the members that run, every stream whole. */
async function memberCaughtUp(ctx: StepContext, cluster: string, started: string): Promise<string> {
  const members = runningMembers(ctx, cluster);
  const again = await meshOrRestart(ctx, members, [started]);
  if (members.length > 1)
    await withConnection(ctx, members, "app", (nc) => waitStreams(nc, streamsOf(ctx.to), ctx.healthTimeoutMs));
  return restartedAgain(again);
}

async function reload(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  for (const name of step.servers) await reloadServer(ctx.run, ctx.to, name, ctx.healthTimeoutMs);
  return `${step.servers.join(", ")} reloaded`;
}

async function restart(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const name = step.servers[0] ?? "";
  const server = serverIn(ctx.to, name);
  const members = server.role === "core" ? runningMembers(ctx, server.cluster ?? "") : [];
  const alone = server.role === "core" && members.length === 1;
  await stopServer(ctx.run, name, alone ? "terminate" : "lame-duck", stopBudgetMs(ctx.from));
  startServer(ctx.run, ctx.to, name);
  if (server.role === "leaf") await waitLeafLinks([server], ctx.healthTimeoutMs);
  else if (alone) {
    await waitMetaGroup([server], 1, ctx.healthTimeoutMs);
    // A memory-backed bucket (enroll-challenges) does not survive a single server's restart:
    // the reconcile makes it again, as `up` does.
    await runReconcileJob(reconcileJob(ctx.to, clusterOf(ctx.to, server.cluster), ctx.run.state));
  } else return `${name} restarted${await memberCaughtUp(ctx, server.cluster ?? "", name)}`;
  return `${name} restarted`;
}

function clusterOf(t: Topology, name: string | undefined): Topology["clusters"][number] {
  const cluster = t.clusters.find((c) => c.name === name);
  if (cluster === undefined) throw new Error(`no cluster ${String(name)} in the ${t.tier} topology`);
  return cluster;
}

async function addServers(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  for (const name of step.servers) startServer(ctx.run, ctx.to, name);
  const added = step.servers.map((n) => serverIn(ctx.to, n));
  if (added.every((s) => s.role === "leaf")) await waitLeafLinks(added, ctx.healthTimeoutMs);
  else if (step.kind === "add-cluster")
    return `${step.servers.join(", ")} up${restartedAgain(await meshOrRestart(ctx, added, step.servers))}`;
  else {
    const members = runningMembers(ctx, step.cluster ?? "");
    const again = await meshOrRestart(ctx, members, step.servers);
    if (step.kind === "add-region")
      await waitLeafLinks(
        added.filter((s) => ctx.to.regionLinks.some((l) => l.region === s.region)),
        ctx.healthTimeoutMs,
      );
    return `${step.servers.join(", ")} up${restartedAgain(again)}`;
  }
  return `${step.servers.join(", ")} up`;
}

async function createBuckets(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const changes = await runReconcileJob(reconcileJob(ctx.to, clusterOf(ctx.to, step.cluster), ctx.run.state));
  return `${String(changes.filter((c) => c.action === "created").length)} streams created`;
}

async function copyData(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const source = (step.source ?? []).map((n) => serverIn(ctx.from, n));
  const targets = step.servers.filter((n) => !(step.source ?? []).includes(n)).map((n) => serverIn(ctx.to, n));
  const size = clusterOf(ctx.to, step.cluster).servers.length;
  const buckets = ctx.to.plan.kv;
  const copies = await withConnection(ctx, source, "app", async (from) => {
    await freeze(from, buckets);
    try {
      return await withConnection(ctx, targets, "app", (into) =>
        copyStreams(
          from,
          into,
          buckets.map((bucket) => ({ bucket, replicas: Math.min(targetReplicas(bucket, size), targets.length) })),
        ),
      );
    } catch (error) {
      // The old stores take writes again; nothing moved yet.
      await thaw(from, buckets);
      throw error;
    }
  });
  return describeCopies(copies);
}

function describeCopies(copies: CopiedStream[]): StepResult {
  const messages = copies.reduce((n, c) => n + c.messages, 0);
  const bytes = copies.reduce((n, c) => n + c.bytes, 0);
  const ms = copies.reduce((n, c) => n + c.ms, 0);
  return `${String(copies.length)} streams, ${String(messages)} messages, ${String(Math.round(bytes / 1024))} KiB copied in ${String(Math.round(ms))} ms (${copies.map((c) => `${c.stream}:${c.how}`).join(" ")})`;
}

async function cutOver(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const wanted = clusterOf(ctx.to, step.cluster);
  const again: string[] = [];
  for (const name of step.servers) {
    const leaving = (ctx.from.clusters.find((c) => c.name === wanted.name)?.servers.length ?? 1) > 1;
    await stopServer(ctx.run, name, leaving ? "lame-duck" : "terminate", stopBudgetMs(ctx.from));
    retireStore(ctx.run, name);
    startServer(ctx.run, ctx.to, name);
    if (wanted.servers.length === 1) await waitMetaGroup([serverIn(ctx.to, name)], 1, ctx.healthTimeoutMs);
    else
      again.push(
        ...(await meshOrRestart(
          ctx,
          wanted.servers.map((n) => serverIn(ctx.to, n)),
          [name],
        )),
      );
  }
  return `${step.servers.join(", ")} changed over${restartedAgain(again)}`;
}

async function setReplicas(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const changes = await runReconcileJob(reconcileJob(ctx.to, clusterOf(ctx.to, step.cluster), ctx.run.state));
  const members = runningMembers(ctx, step.cluster ?? "");
  await withConnection(ctx, members, "app", (nc) => waitStreams(nc, streamsOf(ctx.to), ctx.healthTimeoutMs));
  const moved = changes.filter((c) => c.from !== undefined);
  return moved.length === 0
    ? "replicas as planned"
    : moved.map((c) => `${c.stream} R${String(c.from)}→R${String(c.replicas)}`).join(", ");
}

/** Limits lowered only where every stream fits: lowering max_bytes below what a stream holds drops its oldest messages. */
async function setLimits(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const members = runningMembers(ctx, step.cluster ?? "");
  await withConnection(ctx, members, "app", async (nc) => {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const over: string[] = [];
    for (const bucket of ctx.to.plan.kv) {
      const info = await jsm.streams.info(bucket.stream).catch(() => undefined);
      if (info !== undefined && info.state.bytes > bucket.maxBytes)
        over.push(
          `${bucket.stream} holds ${String(info.state.bytes)} bytes, its limit on the ${ctx.to.tier} tier is ${String(bucket.maxBytes)}`,
        );
    }
    if (over.length > 0)
      throw new Error(
        `the streams do not fit the ${ctx.to.tier} tier's store; nothing was lowered:\n- ${over.join("\n- ")}`,
      );
  });
  const changes = await runReconcileJob(reconcileJob(ctx.to, clusterOf(ctx.to, step.cluster), ctx.run.state));
  return `${String(changes.filter((c) => c.action !== "unchanged").length)} streams updated`;
}

/** A member leaves: lame duck, then its peer removed (only an offline peer can be), then catch-up. */
async function moveReplicas(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const name = step.servers[0] ?? "";
  await stopServer(ctx.run, name, "lame-duck", stopBudgetMs(ctx.from));
  forget(ctx.run, name);
  const members = runningMembers(ctx, step.cluster ?? "");
  await withConnection(ctx, members, "system", async (nc) => {
    const reply = await nc.request("$JS.API.SERVER.REMOVE", JSON.stringify({ peer: name }), { timeout: 10_000 });
    const answer = reply.json<{ success?: boolean; error?: { description?: string } }>();
    if (answer.success !== true)
      throw new Error(`removing ${name}'s peer was refused: ${answer.error?.description ?? reply.string()}`);
  });
  await waitMetaGroup(members, members.length, ctx.healthTimeoutMs);
  await withConnection(ctx, members, "app", (nc) => waitStreams(nc, streamsOf(ctx.from), ctx.healthTimeoutMs, name));
  return `${name} removed; its replicas are on ${members.map((m) => m.name).join(", ")}`;
}

/**
 * Together: they hold nothing current. Leaf servers through lame duck (its grace period is there
 * so servers stopped together do not take each other's clients); a retired cluster's members at
 * once (SIGTERM): their writes are stopped, so every moment their clients stay is a moment longer
 * without writes, and they have no leaders left to hand off that matter.
 */
async function removeServers(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const retired = step.servers.every((name) => serverIn(ctx.from, name).role === "core");
  await Promise.all(
    step.servers.map((name) => stopServer(ctx.run, name, retired ? "terminate" : "lame-duck", stopBudgetMs(ctx.from))),
  );
  for (const name of step.servers) forget(ctx.run, name);
  return `${step.servers.join(", ")} stopped`;
}

function deleteData(ctx: StepContext, step: TransitionStep): Promise<StepResult> {
  const deleted: string[] = [];
  for (const name of step.servers) {
    const retired = ctx.run.state.retired.filter((dir) => dir.startsWith(`${serverDir(ctx.run, name)}/`));
    for (const dir of retired) {
      rmSync(dir, { recursive: true, force: true });
      deleted.push(dir);
    }
    ctx.run.state.retired = ctx.run.state.retired.filter((dir) => !retired.includes(dir));
    // A member that left: its whole directory, unless it (or a server of that name) runs again.
    if (retired.length === 0 && serverState(ctx.run, name) === undefined) {
      rmSync(serverDir(ctx.run, name), { recursive: true, force: true });
      deleted.push(serverDir(ctx.run, name));
    }
  }
  return Promise.resolve(`${String(deleted.length)} stores deleted`);
}

export const EXECUTORS: Record<StepKind, (ctx: StepContext, step: TransitionStep) => Promise<StepResult>> = {
  reload,
  restart,
  "add-servers": addServers,
  "add-cluster": addServers,
  "add-leaf-site": addServers,
  "add-region": addServers,
  "create-buckets": createBuckets,
  "copy-data": copyData,
  "cut-over": cutOver,
  "set-replicas": setReplicas,
  "set-limits": setLimits,
  "move-replicas": moveReplicas,
  "remove-servers": removeServers,
  "delete-data": deleteData,
};
