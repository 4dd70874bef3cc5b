/**
 * The fault scenarios: what each does to a running tier while its peels write. Each names the
 * tier it needs (the runner starts it, on loopback, in a directory of its own) and returns when
 * the fault was injected and when it was repaired; the runner measures the rest.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { performance } from "node:perf_hooks";
import { PEEL_KV } from "../jetstream/zester-assumptions";
import type { LocalState } from "../local/state";
import type { ConfBlock } from "../topology/render/nats-conf-format";
import { ROUTE_SEEDS } from "../topology/render/nats-server-conf";
import type { Topology } from "../topology/types";
import { peelAddress, peelAddresses, peelId } from "./addresses";
import { LinkCut } from "./link-cut";
import type { PeelAddress } from "./peel";
import { killServer, reconfigure, signalServer, startServer, streamLeader, streamPeers, waitExited } from "./servers";

/** The stream the writers write into (job returns: a unique key per write, nothing superseded). */
export const WRITTEN_STREAM = `KV_${PEEL_KV.jobReturns.bucket}`;

export interface Timing {
  /** A crashed server is back after this (systemd's RestartSec in the full suite). */
  restartAfterMs: number;
  /** How long a server stays frozen (SIGSTOP). */
  freezeMs: number;
  /** How long a region stays cut off, and storage stays full. */
  holdMs: number;
}

export interface ScenarioContext {
  stateDir: string;
  topology: Topology;
  state: () => LocalState;
  timing: Timing;
  /** An operator connection that reaches `domain`'s JetStream (its region's core). */
  operator: (domain: string | undefined) => NatsConnection;
  /** Where each writer is connected now, by writer id (for picking the leaf its peels use). */
  writerServers: () => (string | undefined)[];
  log: (line: string) => void;
}

export interface WriterPlan {
  /** `affected`: the gap the scenario is about; `cross-region`: reported apart. */
  group: "affected" | "cross-region";
  peels: { id: string; address: PeelAddress }[];
}

export interface FaultTimes {
  /** performance.now() when the fault hit. */
  faultAt: number;
  /** performance.now() when it was repaired (server back, thawed, link healed, space freed). */
  repairedAt: number;
  detail: string;
}

export interface Scenario {
  name: string;
  /** The peel count whose tier the scenario runs on. */
  tierPeels: number;
  /** One sentence for --help and the docs. */
  what: string;
  /** Runs before the writers start; returns what undoes it. */
  prepare?: (ctx: ScenarioContext) => Promise<() => Promise<void>>;
  writers?: (ctx: ScenarioContext, peels: number) => WriterPlan[];
  run: (ctx: ScenarioContext) => Promise<FaultTimes>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();
const domainOf = (t: Topology, region: string): string | undefined =>
  t.servers.find((s) => s.role === "core" && s.region === region)?.domain;

/** Retries a look at the cluster that timed out or found no leader yet, for up to 30 s. */
async function patiently<T>(look: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await look().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: no answer in 30 s`);
    await sleep(250);
  }
}

async function leaderOf(ctx: ScenarioContext): Promise<string> {
  const domain = domainOf(ctx.topology, ctx.topology.clusters[0]?.region ?? "");
  return patiently(() => streamLeader(ctx.operator(domain), WRITTEN_STREAM, domain), `the leader of ${WRITTEN_STREAM}`);
}

/** `peels` writers spread over the given homes, as the local target spreads its peels. */
export function spread(addresses: PeelAddress[], peels: number, first = 1): WriterPlan["peels"] {
  return Array.from({ length: peels }, (_, i) => {
    const address = addresses[i % addresses.length];
    if (address === undefined) throw new Error("the topology has no home for peels");
    return { id: peelId(first + i), address };
  });
}

const killLeader: Scenario = {
  name: "kill-kv-leader",
  tierPeels: 2_000,
  what: "SIGKILL of the leader of the bucket being written on the 3-node tier; systemd's restart brings it back",
  run: async (ctx) => {
    const leader = await leaderOf(ctx);
    const faultAt = now();
    await killServer(ctx.stateDir, leader);
    await sleep(ctx.timing.restartAfterMs);
    startServer(ctx.stateDir, leader);
    return {
      faultAt,
      repairedAt: now(),
      detail: `killed ${leader} (leader of ${WRITTEN_STREAM}); restarted after ${ctx.timing.restartAfterMs / 1000} s`,
    };
  },
};

const lameDuckLeader: Scenario = {
  name: "lame-duck-kv-leader",
  tierPeels: 2_000,
  what: "a planned stop of the bucket's leader through lame duck (SIGUSR2) on the 3-node tier, then its restart",
  run: async (ctx) => {
    const leader = await leaderOf(ctx);
    const plan = ctx.topology.plan.natsServer;
    const faultAt = now();
    signalServer(ctx.stateDir, leader, "SIGUSR2");
    const budget = (plan.lameDuckDurationSeconds + plan.lameDuckGracePeriodSeconds + 10) * 1000;
    if (!(await waitExited(ctx.stateDir, leader, budget)))
      throw new Error(`${leader} still runs ${budget} ms after lame duck`);
    const exitedMs = now() - faultAt;
    startServer(ctx.stateDir, leader);
    return {
      faultAt,
      repairedAt: now(),
      detail: `lame duck of ${leader} (leader of ${WRITTEN_STREAM}); it exited after ${(exitedMs / 1000).toFixed(1)} s and was restarted`,
    };
  },
};

const crashTwoOfFive: Scenario = {
  name: "crash-2-of-5",
  tierPeels: 20_000,
  what:
    "SIGKILL of 2 of the 5 servers, the bucket's leader and one of its followers (2 of its 3 replicas: the worst pair); " +
    "systemd's restart brings them back",
  run: async (ctx) => {
    const domain = domainOf(ctx.topology, ctx.topology.clusters[0]?.region ?? "");
    const peers = await patiently(
      () => streamPeers(ctx.operator(domain), WRITTEN_STREAM, domain).then((p) => (p.length >= 2 ? p : undefined)),
      `the replicas of ${WRITTEN_STREAM}`,
    );
    const victims = peers.slice(0, 2);
    if (victims.length < 2) throw new Error(`${WRITTEN_STREAM} has ${peers.length} replicas; 2 are needed`);
    const faultAt = now();
    await Promise.all(victims.map((name) => killServer(ctx.stateDir, name)));
    await sleep(ctx.timing.restartAfterMs);
    for (const name of victims) startServer(ctx.stateDir, name);
    return {
      faultAt,
      repairedAt: now(),
      detail: `killed ${victims.join(" and ")} (leader and a follower of ${WRITTEN_STREAM}); restarted after ${ctx.timing.restartAfterMs / 1000} s`,
    };
  },
};

const freezeLeader: Scenario = {
  name: "freeze-kv-leader",
  tierPeels: 2_000,
  what: "the bucket's leader frozen (SIGSTOP) on the 3-node tier, then resumed (SIGCONT): a stalled VM or a long GC pause",
  run: async (ctx) => {
    const leader = await leaderOf(ctx);
    const faultAt = now();
    signalServer(ctx.stateDir, leader, "SIGSTOP");
    await sleep(ctx.timing.freezeMs);
    signalServer(ctx.stateDir, leader, "SIGCONT");
    return {
      faultAt,
      repairedAt: now(),
      detail: `froze ${leader} (leader of ${WRITTEN_STREAM}) for ${ctx.timing.freezeMs / 1000} s`,
    };
  },
};

const leafRestart: Scenario = {
  name: "leaf-restart",
  tierPeels: 60_000,
  what: "SIGKILL of the leaf server most writing peels are connected to (leaf tier), back after systemd's restart",
  run: async (ctx) => {
    const leafs = new Set(ctx.topology.servers.filter((s) => s.role === "leaf").map((s) => s.name));
    const counts = new Map<string, number>();
    for (const name of ctx.writerServers())
      if (name !== undefined && leafs.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
    const [victim, peels] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
    if (victim === undefined) throw new Error("no writer is connected to a leaf server");
    const faultAt = now();
    await killServer(ctx.stateDir, victim);
    await sleep(ctx.timing.restartAfterMs);
    startServer(ctx.stateDir, victim);
    return {
      faultAt,
      repairedAt: now(),
      detail: `killed ${victim} (${String(peels)} writing peels on it); restarted after ${ctx.timing.restartAfterMs / 1000} s`,
    };
  },
};

/**
 * Regions are linked by leaf connections from every other region's core to the hub region's
 * (docs/topology.md). The cut puts a relay (LinkCut) on each of those links: the linked region's
 * leaf remotes point at relays in front of the hub's leafnode ports, and the hub stops
 * advertising its other leafnode URLs (`no_advertise`), which a remote would otherwise learn and
 * use to get around the relays. Cutting the relays is the region's WAN link going down.
 */
function regionCut(): Scenario {
  const relays: LinkCut[] = [];
  return {
    name: "region-cut",
    tierPeels: 150_000,
    what:
      "a supercluster region's link to the hub region cut (its leaf connections dropped and refused) and healed; " +
      "peels of both regions keep writing into their own region, a master in the hub into the cut-off region",
    prepare: async (ctx) => {
      const t = ctx.topology;
      const link = t.regionLinks[0];
      if (link === undefined) throw new Error("a region cut needs a topology with region links (a supercluster)");
      const hub = t.clusters.find((c) => c.region === link.hub);
      const seeds = (hub?.servers ?? []).slice(0, ROUTE_SEEDS).map((name) => t.servers.find((s) => s.name === name));
      const byHubPort = new Map<number, LinkCut>();
      for (const seed of seeds) {
        const port = seed?.ports.leafnode;
        if (port === undefined) throw new Error("a hub seed has no leafnode port");
        const relay = await LinkCut.open(port);
        relays.push(relay);
        byHubPort.set(port, relay);
      }
      await reconfigure(ctx.stateDir, "a region-cut scenario", (conf, server) => {
        const leafnodes = conf.leafnodes as ConfBlock | undefined;
        if (leafnodes === undefined) return;
        if (server.region === link.hub) leafnodes.no_advertise = true;
        // The same remote (its link certificate, its account), through the relays: TLS passes
        // through them, and the hub's certificate is valid for 127.0.0.1.
        const remotes = leafnodes.remotes as ConfBlock[] | undefined;
        if (server.region === link.region && server.role === "core" && remotes?.[0] !== undefined)
          leafnodes.remotes = [
            {
              ...remotes[0],
              urls: [...byHubPort.values()].map((relay) => `nats-leaf://127.0.0.1:${String(relay.port)}`),
            },
          ];
      });
      return async () => {
        await Promise.all(relays.map((r) => r.close()));
      };
    },
    writers: (ctx, peels) => {
      const t = ctx.topology;
      const link = t.regionLinks[0];
      const homes = peelAddresses(t);
      const inRegion = (region: string | undefined): PeelAddress[] => homes.filter((a) => a.region === region);
      const cutOff = inRegion(link?.region);
      const hub = inRegion(link?.hub);
      const half = Math.max(1, Math.floor(peels / 2));
      // The master's side: a client of the hub region's core (where masters run; a leaf server
      // carries the peels' account only) that writes into the cut-off region's domain.
      const crossAddress: PeelAddress = {
        ...peelAddress(t, { region: link?.hub ?? "" }),
        ...(domainOf(t, link?.region ?? "") === undefined ? {} : { domain: domainOf(t, link?.region ?? "") }),
      };
      return [
        { group: "affected", peels: [...spread(cutOff, half), ...spread(hub, Math.max(1, peels - half), half + 1)] },
        { group: "cross-region", peels: spread([crossAddress], Math.max(1, Math.ceil(peels / 10)), peels + 1) },
      ];
    },
    run: async (ctx) => {
      const faultAt = now();
      for (const relay of relays) relay.cut();
      await sleep(ctx.timing.holdMs);
      for (const relay of relays) relay.heal();
      const link = ctx.topology.regionLinks[0];
      return {
        faultAt,
        repairedAt: now(),
        detail: `cut ${link?.region ?? "?"}'s link to ${link?.hub ?? "?"} for ${ctx.timing.holdMs / 1000} s`,
      };
    },
  };
}

/** What the storage-full scenario lowers each server's JetStream file store to, so it fills in seconds. */
export const STORAGE_FULL_STORE_BYTES = 64 * 1024 * 1024;
const FILL_STREAM = "FAULT_FILL";
/** Under `zester.>`, which the identity the load tools use (the master's) may publish; nothing of Zester's. */
const FILL_SUBJECT = "zester.fault-fill";
const FILL_CHUNK_BYTES = 256 * 1024;

const storageFull: Scenario = {
  name: "storage-full",
  tierPeels: 2_000,
  what:
    `JetStream storage full on the 3-node tier (file store lowered to ${STORAGE_FULL_STORE_BYTES / 1024 ** 2} MiB, ` +
    "then a stream grows until the servers refuse writes); space freed by deleting that stream",
  prepare: async (ctx) => {
    await reconfigure(ctx.stateDir, "a storage-full scenario", (conf) => {
      const js = conf.jetstream as ConfBlock | undefined;
      if (js !== undefined) js.max_file_store = STORAGE_FULL_STORE_BYTES;
    });
    return () => Promise.resolve();
  },
  run: async (ctx) => {
    const domain = domainOf(ctx.topology, ctx.topology.clusters[0]?.region ?? "");
    const nc = ctx.operator(domain);
    const jsm = await jetstreamManager(nc, { checkAPI: false, ...(domain === undefined ? {} : { domain }) });
    const replicas = Math.min(3, ctx.topology.clusters[0]?.servers.length ?? 1);
    await jsm.streams.add({
      name: FILL_STREAM,
      subjects: [FILL_SUBJECT],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: replicas,
    });
    const js = jsm.jetstream();
    const chunk = new Uint8Array(FILL_CHUNK_BYTES);
    let filled = 0;
    let refusal: string | undefined;
    // Only the store's own refusal ends the fill: a timeout on a loaded machine is retried.
    for (let failures = 0; refusal === undefined;) {
      try {
        await js.publish(FILL_SUBJECT, chunk, { timeout: 5_000 });
        filled += chunk.length;
        failures = 0;
      } catch (error) {
        if (error instanceof JetStreamApiError && /insufficient|resource/i.test(error.message)) refusal = error.message;
        else if (++failures >= 25) throw error;
        else await sleep(200);
      }
      if (filled > 4 * STORAGE_FULL_STORE_BYTES)
        throw new Error("the store never filled: is max_file_store in effect?");
    }
    const faultAt = now();
    await sleep(ctx.timing.holdMs);
    const attempts = await deleteStream(jsm, FILL_STREAM);
    return {
      faultAt,
      repairedAt: now(),
      detail:
        `filled ${(filled / 1024 ** 2).toFixed(0)} MiB into ${FILL_STREAM} until "${refusal}"; deleted it after ` +
        `${String(ctx.timing.holdMs / 1000)} s${attempts > 1 ? ` (${String(attempts)} attempts)` : ""}`,
    };
  },
};

/**
 * Deletes a stream, retrying while the request times out: with the store full, 2.9.10 answered
 * the first delete with a timeout. Returns the attempts it took.
 */
async function deleteStream(jsm: JetStreamManager, stream: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await jsm.streams.delete(stream);
      return attempt;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return attempt;
      if (Date.now() > deadline) throw error;
      await sleep(1_000);
    }
  }
}

/** Every scenario, in the order the suite runs them. */
export function scenarios(): Scenario[] {
  return [killLeader, lameDuckLeader, crashTwoOfFive, freezeLeader, leafRestart, regionCut(), storageFull];
}

/** Writers spread over every home of the topology: the default. */
export function defaultWriters(ctx: ScenarioContext, peels: number): WriterPlan[] {
  return [{ group: "affected", peels: spread(peelAddresses(ctx.topology), peels) }];
}
