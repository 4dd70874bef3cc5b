/** The servers' own view of the load: CPU, memory, connections and messages from `/varz`. */
import { z } from "zod";
import type { ServerState } from "../local/state";

const VarzSchema = z
  .object({
    server_name: z.string(),
    cpu: z.number(),
    mem: z.number(),
    connections: z.number(),
    in_msgs: z.number(),
    out_msgs: z.number(),
  })
  .passthrough();
type Varz = z.infer<typeof VarzSchema>;

export interface ServerLoad {
  name: string;
  /** CPU of the nats-server process in percent of one core, as /varz reports it (mean and peak of the samples). */
  cpuPercentMean: number;
  cpuPercentMax: number;
  /** Resident memory, MiB (peak of the samples). */
  memMiBMax: number;
  /** Client connections at the last sample. */
  connections: number;
  /** Messages the server received per second over the sampled period (clients, routes, leafs). */
  inMsgsPerSecond: number;
  samples: number;
}

async function varz(monitorUrl: string): Promise<Varz | undefined> {
  try {
    const response = await fetch(`${monitorUrl}/varz`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
    const parsed = VarzSchema.safeParse(await response.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Samples every server's /varz every `intervalMs` until `stop()`, which returns the summary. */
export function sampleServers(
  servers: Pick<ServerState, "name" | "monitorUrl">[],
  intervalMs = 1_000,
): { stop: () => Promise<ServerLoad[]> } {
  const samples = new Map<string, { at: number; v: Varz }[]>(servers.map((s) => [s.name, []]));
  const control = { stopped: false };
  const take = async (): Promise<void> => {
    const at = Date.now();
    const results = await Promise.all(servers.map((s) => varz(s.monitorUrl)));
    servers.forEach((s, i) => {
      const v = results[i];
      if (v !== undefined) samples.get(s.name)?.push({ at, v });
    });
  };
  const loop = (async () => {
    while (!control.stopped) {
      await take();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    await take();
  })();
  return {
    stop: async () => {
      control.stopped = true;
      await loop;
      return servers.map((s) => {
        const xs = samples.get(s.name) ?? [];
        const first = xs[0];
        const last = xs.at(-1);
        const cpus = xs.map((x) => x.v.cpu);
        const seconds = first !== undefined && last !== undefined ? (last.at - first.at) / 1000 : 0;
        return {
          name: s.name,
          cpuPercentMean: cpus.length === 0 ? 0 : round(cpus.reduce((a, b) => a + b, 0) / cpus.length),
          cpuPercentMax: round(Math.max(0, ...cpus)),
          memMiBMax: round(Math.max(0, ...xs.map((x) => x.v.mem)) / 1024 ** 2),
          connections: last?.v.connections ?? 0,
          inMsgsPerSecond:
            first !== undefined && last !== undefined && seconds > 0
              ? round((last.v.in_msgs - first.v.in_msgs) / seconds)
              : 0,
          samples: xs.length,
        };
      });
    },
  };
}

const round = (n: number): number => Math.round(n * 10) / 10;
