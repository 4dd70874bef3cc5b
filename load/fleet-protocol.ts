/** Messages between the fleet's coordinator and its worker processes (checked on both sides). */
import { z } from "zod";
import { LedgerDataSchema } from "./ledger";

const TrafficSchema = z.object({
  heartbeatIntervalMs: z.number().positive(),
  heartbeatBytes: z.number().int().min(0),
  factIntervalMs: z.number().positive(),
  factBytes: z.number().int().min(0),
  enrollmentBytes: z.number().int().min(0),
  jobIntervalMs: z.number().positive(),
  jobTargetShare: z.number().min(0).max(1),
  jobBytes: z.number().int().min(0),
  jobRunMaxMs: z.number().min(0),
  jobReturnBytes: z.number().int().min(0),
  writeTimeoutMs: z.number().positive(),
});

export const ToWorkerSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("start"),
    stateDir: z.string(),
    /** Global index of this worker's first peel (peels are numbered from 1 across the fleet). */
    first: z.number().int().min(1),
    count: z.number().int().min(1),
    traffic: TrafficSchema,
    /** Connections a worker opens at once during the ramp. */
    connectConcurrency: z.number().int().min(1),
  }),
  /** Steady traffic from `startAt` (ms since the epoch) for `durationMs`. */
  z.object({ type: z.literal("go"), startAt: z.number(), durationMs: z.number().positive() }),
  z.object({ type: z.literal("close") }),
]);
export type ToWorker = z.infer<typeof ToWorkerSchema>;

export const FromWorkerSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("ready"),
    /** Milliseconds the worker took to issue its peels' identities (before the first connection). */
    issueMs: z.number().min(0),
    connected: z.number().int().min(0),
    connectFailures: z.record(z.number().int()),
  }),
  z.object({
    type: z.literal("done"),
    ledger: LedgerDataSchema,
    /** Messages published during the steady phase (heartbeats and KV writes). */
    published: z.number().int().min(0),
    /** KV writes acknowledged during the steady phase. */
    steadyAcked: z.number().int().min(0),
    /** Peels connected when the steady phase ended. */
    connected: z.number().int().min(0),
    jobsReceived: z.number().int().min(0),
    /** CPU time of the worker process during the steady phase, ms. */
    cpuMs: z.number().min(0),
  }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type FromWorker = z.infer<typeof FromWorkerSchema>;
