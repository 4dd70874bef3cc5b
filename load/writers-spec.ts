/**
 * What the writers process (writers-process.ts) reads and reports, checked with zod on both sides:
 * it runs where the servers are reachable (a twin's client), its caller elsewhere.
 */
import { z } from "zod";
import type { ClientSettings } from "../sizing/types";

const seconds = z.number().min(0);
/** The plan's client settings for a peel (sizing/types.ts ClientSettings), read back. */
const ClientSettingsSchema: z.ZodType<ClientSettings> = z.object({
  maxReconnects: z.number().int(),
  reconnectWaitSeconds: seconds,
  reconnectJitterSeconds: seconds,
  reconnectBufSizeBytes: z.number().int(),
  pingIntervalSeconds: seconds,
  maxPingsOut: z.number().int(),
  drainTimeoutSeconds: seconds,
  ackTimeoutSeconds: seconds,
  publishAttempts: z.number().int().min(1),
});

export const WritersSpecSchema = z.object({
  servers: z.array(z.string()).min(1),
  domain: z.string().optional(),
  /** The CA (PEM) the servers' certificates are verified by. */
  ca: z.string().min(1),
  peels: z.array(z.object({ id: z.string(), creds: z.string().min(1) })).min(1),
  client: ClientSettingsSchema,
  paceMs: z.number().int().min(0),
  bytes: z.number().int().min(1),
  /** Who looks the writes up again: an identity that may read stream info (e.g. the reconcile job's). */
  reader: z.object({ creds: z.string().min(1), role: z.enum(["reconcile", "master"]) }),
});
export type WritersSpec = z.infer<typeof WritersSpecSchema>;

export const WritersReportSchema = z.object({
  acknowledged: z.number(),
  failed: z.number(),
  longestGapMs: z.number(),
  checked: z.number(),
  found: z.number(),
  lost: z.number(),
});
export type WritersReport = z.infer<typeof WritersReportSchema>;
