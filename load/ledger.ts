/**
 * What happened to every KV write a simulated client made: acknowledged ones with where the
 * cluster says it stored them (so they can be read back), unacknowledged ones counted apart
 * (a timeout is not a loss: the write may or may not have landed), and publish-to-ack latency.
 */
import { z } from "zod";

export const AckedWriteSchema = z.object({
  /** The JetStream domain that acknowledged it (absent without domains). */
  domain: z.string().optional(),
  stream: z.string(),
  seq: z.number().int().positive(),
  /** The subject it is stored under: `$KV.<bucket>.<key>`. */
  subject: z.string(),
  /** Unique per write; the stored payload starts with it. */
  writeId: z.string(),
  /** Wall-clock time of the ack (ms since the epoch), for TTL checks. */
  ackedAt: z.number(),
});
export type AckedWrite = z.infer<typeof AckedWriteSchema>;

export const LedgerDataSchema = z.object({
  acked: z.array(AckedWriteSchema),
  unacked: z.number().int().min(0),
  /** Why writes were not acknowledged, by error text. */
  failures: z.record(z.number().int()),
  /** Publish-to-ack latency of every write, ms; a timed-out write counts as the timeout. */
  latenciesMs: z.array(z.number()),
});
export type LedgerData = z.infer<typeof LedgerDataSchema>;

export class WriteLedger {
  readonly acked: AckedWrite[] = [];
  unacked = 0;
  readonly failures: Record<string, number> = {};
  readonly latenciesMs: number[] = [];
  /** Latencies are kept only while this is true (e.g. not during the connect ramp). */
  measuring = true;

  ack(write: AckedWrite, latencyMs: number): void {
    this.acked.push(write);
    if (this.measuring) this.latenciesMs.push(latencyMs);
  }

  fail(error: unknown, latencyMs: number, timedOut: boolean): void {
    this.unacked++;
    const reason = failureReason(error);
    this.failures[reason] = (this.failures[reason] ?? 0) + 1;
    if (this.measuring && timedOut) this.latenciesMs.push(latencyMs);
  }

  data(): LedgerData {
    return { acked: this.acked, unacked: this.unacked, failures: this.failures, latenciesMs: this.latenciesMs };
  }
}

/** Several ledgers as one (e.g. every worker process's). */
export function mergeLedgers(parts: LedgerData[]): LedgerData {
  const failures: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p.failures)) failures[k] = (failures[k] ?? 0) + n;
  return {
    acked: parts.flatMap((p) => p.acked),
    unacked: parts.reduce((n, p) => n + p.unacked, 0),
    failures,
    latenciesMs: parts.flatMap((p) => p.latenciesMs),
  };
}

/** An error's kind without what varies per write (subjects, sequence numbers). */
export function failureReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/'[^']*'/g, "'…'").slice(0, 120);
}

/** The q-quantile (0..1) of `values`, nearest rank; undefined when there are none. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}
