/**
 * The cost of `sync_interval: always`: KV put throughput and latency on a tier started with or
 * without it. The local target renders the durability choice per tier (`syncIntervalFor`); a
 * tier measured the other way is reconfigured after it started.
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { NatsServerBinary } from "../local/nats-binary";
import { down, up } from "../local/runner";
import type { ConfBlock } from "../topology/render/nats-conf-format";
import { syncIntervalFor } from "../topology/render/nats-server-conf";
import { atLeast, KEY_SINCE } from "../topology/render/version";
import { coreUrls } from "./addresses";
import { connectNode } from "./connect";
import { operatorIdentity } from "./identity";
import { quantile } from "./ledger";
import { kvPutSubject, payload } from "./peel";
import { loadState, reconfigure } from "./servers";

export type SyncMode = "always" | "default";

export interface PutFigures {
  puts: number;
  putsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const VarzJetStreamSchema = z.object({
  jetstream: z
    .object({
      config: z.object({ sync_interval: z.number().optional(), sync_always: z.boolean().optional() }).passthrough(),
    })
    .passthrough(),
});

/** Whether a running server syncs before every ack, from its /varz. */
export async function syncsAlways(monitorUrl: string): Promise<boolean> {
  const response = await fetch(`${monitorUrl}/varz`, { signal: AbortSignal.timeout(2_000) });
  const varz = VarzJetStreamSchema.parse(await response.json());
  return varz.jetstream.config.sync_always === true;
}

/** Whether a nats-server version can sync before every ack at all (2.10+). */
export const canSyncAlways = (version: string): boolean => atLeast(version, KEY_SINCE["jetstream.sync_interval"] ?? "");

export interface DurabilityTier {
  stateDir: string;
  nc: NatsConnection;
  domain: string | undefined;
  stop: () => Promise<void>;
}

/** Starts the tier for `peels` with `sync`, reconfiguring it when the tier's own choice differs. */
export async function startDurabilityTier(
  natsServer: NatsServerBinary,
  peels: number,
  sync: SyncMode,
  workDir = os.tmpdir(),
): Promise<DurabilityTier> {
  if (sync === "always" && !canSyncAlways(natsServer.version))
    throw new Error(`nats-server ${natsServer.version} has no sync_interval (2.10+)`);
  const stateDir = mkdtempSync(path.join(workDir, `zester-durability-${String(peels)}-${sync}-`));
  try {
    const running = await up({ peels, stateDir, natsServer, detach: true });
    const rendered = syncIntervalFor(running.topology) === "always" && canSyncAlways(natsServer.version);
    if (rendered !== (sync === "always"))
      await reconfigure(stateDir, `sync_interval ${sync}`, (conf) => {
        const js = conf.jetstream as ConfBlock | undefined;
        if (js === undefined) return;
        if (sync === "always") js.sync_interval = "always";
        else delete js.sync_interval;
      });
    const state = loadState(stateDir);
    for (const s of state.servers)
      if ((await syncsAlways(s.monitorUrl)) !== (sync === "always"))
        throw new Error(`${s.name} does not run with sync ${sync}`);
    const region = running.topology.clusters[0]?.region ?? "";
    const nc = await connectNode({
      ...operatorIdentity(state),
      servers: coreUrls(running.topology, region),
      name: "zester-infra durability",
    });
    const domain = running.topology.servers.find((s) => s.role === "core")?.domain;
    return {
      stateDir,
      nc,
      domain,
      stop: async () => {
        await nc.close();
        await down(stateDir, { purge: true });
      },
    };
  } catch (error) {
    await down(stateDir, { purge: true });
    throw error;
  }
}

/**
 * KV puts of `bytes` into `bucket` for `seconds`, `inFlight` at a time, over 1,000 keys (a
 * fleet's fact syncs): throughput and publish-to-ack latency.
 */
export async function measureKvPuts(
  tier: Pick<DurabilityTier, "nc" | "domain">,
  options: { bucket: string; seconds: number; inFlight: number; bytes: number },
): Promise<PutFigures> {
  const js = jetstream(tier.nc, { timeout: 10_000 });
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + options.seconds * 1000;
  let n = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const i = n++;
      const t = performance.now();
      await js.publish(
        kvPutSubject(tier.domain, options.bucket, `bench-${String(i % 1_000)}`),
        payload(`bench:${String(i)}`, options.bytes),
      );
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, loop));
  const elapsed = (performance.now() - started) / 1000;
  return {
    puts: latencies.length,
    putsPerSecond: latencies.length / elapsed,
    p50Ms: quantile(latencies, 0.5) ?? 0,
    p99Ms: quantile(latencies, 0.99) ?? 0,
  };
}
