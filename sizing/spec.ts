/**
 * The sizing spec: what `plan()` needs, validated once at the edge (stack config or CLI flags).
 * Unknown keys are errors, never dropped.
 */
import { z } from "zod";
import { BUCKETS } from "./guide";
import { TIER_IDS } from "./types";
import { MAX_KV_HISTORY, MAX_PEELS, MIN_LAME_DUCK_SECONDS } from "./policy";

import { fmt } from "./format";

/** A tier's id wherever one crosses a process or a run (deployment record, state file, outputs, reports). */
export const TierIdSchema = z.enum(TIER_IDS);

export const PEELS_ACCEPTED = `a whole number from 0 to ${fmt(MAX_PEELS)}`;

/** A whole number in [min, max]; every message says what is accepted. */
export const wholeNumber = (min: number, max: number, what = "a whole number") => {
  const accepted = `${what} from ${fmt(min)} to ${fmt(max)}`;
  const message = `must be ${accepted}`;
  return z
    .number({ invalid_type_error: message, required_error: `is required: ${accepted}` })
    .int({ message })
    .min(min, { message })
    .max(max, { message });
};

const positive = (what: string) =>
  z
    .number({ invalid_type_error: `must be a number above 0 (${what})` })
    .positive({ message: `must be a number above 0 (${what})` })
    .finite({ message: `must be a finite number (${what})` });

export const peelCount = wholeNumber(0, MAX_PEELS);

/** Names end up in server names, DNS names and JetStream domains: a DNS label fits all three. */
export const dnsLabel = z
  .string({ invalid_type_error: "must be a string" })
  .regex(/^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/, {
    message:
      "must be a lowercase DNS label: a-z, 0-9 and '-', 1 to 32 characters, starting with a letter and not ending with '-'",
  });

export const LeafSiteSpecSchema = z.strictObject({
  /** The site's name: leaf servers are named after it. */
  name: dnsLabel,
  /** @default the only region, or the first declared one */
  region: dnsLabel.optional(),
  /** @default an even share of the peels that no site or region claims */
  peels: peelCount.optional(),
  /** @default max(2, one per 10,000 of the site's peels) */
  servers: wholeNumber(1, 100).optional(),
});
export type LeafSiteSpec = z.infer<typeof LeafSiteSpecSchema>;

const bucketNames = BUCKETS.map((b) => b.name);
/** The buckets a region can replicate: KV buckets, so the copy opens as a KV bucket too. */
export const REPLICABLE_BUCKETS = BUCKETS.filter((b) => b.kind === "kv").map((b) => b.name);

/** One of this region's KV buckets, copied into another region (a mirror across JetStream domains). */
export const ReplicateSpecSchema = z.strictObject({
  bucket: z.enum(REPLICABLE_BUCKETS as [string, ...string[]], {
    errorMap: () => ({ message: `must be one of the KV buckets: ${REPLICABLE_BUCKETS.join(", ")}` }),
  }),
  /** The region that keeps the read-only copy; another region of the plan. */
  to: dnsLabel,
});
export type ReplicateSpec = z.infer<typeof ReplicateSpecSchema>;

export const RegionSpecSchema = z.strictObject({
  name: dnsLabel,
  /** @default an even share of the peels that no region claims */
  peels: peelCount.optional(),
  /** This region's buckets that other regions keep a read-only copy of. @default none */
  replicate: z
    .array(ReplicateSpecSchema, { invalid_type_error: 'must be a list, e.g. [{ bucket: "facts", to: "region-1" }]' })
    .optional(),
});
export type RegionSpec = z.infer<typeof RegionSpecSchema>;

const BucketOverrideSchema = z.strictObject({
  replicas: wholeNumber(1, 5).optional(),
  history: wholeNumber(0, MAX_KV_HISTORY).optional(),
  ttlSeconds: wholeNumber(0, 365 * 86_400).optional(),
  /** The stream's `max_bytes`; all of them together must fit the store. */
  maxBytes: wholeNumber(1, 2 ** 53 - 1, "a whole number of bytes").optional(),
});

const ClientOverrideSchema = z.strictObject({
  maxReconnects: z
    .number()
    .int()
    .min(-1, { message: "must be -1 (retry for ever) or a whole number of attempts" })
    .optional(),
  reconnectWaitSeconds: positive("seconds").optional(),
  reconnectJitterSeconds: z.number().min(0, { message: "must be 0 or more seconds" }).optional(),
  reconnectBufSizeBytes: wholeNumber(1, 1024 ** 3).optional(),
  pingIntervalSeconds: positive("seconds").optional(),
  maxPingsOut: wholeNumber(1, 100).optional(),
  drainTimeoutSeconds: positive("seconds").optional(),
  ackTimeoutSeconds: positive("seconds").optional(),
  publishAttempts: wholeNumber(1, 100).optional(),
});

/**
 * Overrides that can go below a need the plan computes; those must be confirmed in
 * `overrides.confirmBelowPlan` (see below-plan.ts).
 */
export const CONFIRMABLE_BELOW_PLAN = ["natsServer.maxConnections", ...bucketNames.map((b) => `kv.${b}.replicas`)];
const CONFIRMABLE_MESSAGE = `must be one of the overrides that can go below what the plan needs: ${CONFIRMABLE_BELOW_PLAN.join(", ")}`;

const ConfirmBelowPlanSchema = z
  .array(
    z.enum(CONFIRMABLE_BELOW_PLAN as [string, ...string[]], { errorMap: () => ({ message: CONFIRMABLE_MESSAGE }) }),
    { invalid_type_error: 'must be a list of override paths, e.g. ["natsServer.maxConnections"]' },
  )
  .superRefine((paths, ctx) => {
    paths.forEach((entry, index) => {
      if (paths.indexOf(entry) !== index)
        ctx.addIssue({ code: "custom", path: [index], message: `"${entry}" is listed twice` });
    });
  });

/** Typed overrides of planned values; each is checked against the tier before it is used. */
export const OverridesSchema = z.strictObject({
  server: z
    .strictObject({
      cpuSteadyCores: positive("cores").optional(),
      cpuBurstCores: positive("cores").optional(),
      memoryMiB: wholeNumber(256, 4 * 1024 * 1024).optional(),
      jetstreamDiskGiB: wholeNumber(1, 1024 * 1024).optional(),
      diskIops: wholeNumber(1, 10_000_000).optional(),
      networkMbps: positive("Mbps").optional(),
      storage: z.enum(["ssd", "nvme"], { errorMap: () => ({ message: 'must be "ssd" or "nvme"' }) }).optional(),
    })
    .optional(),
  natsServer: z
    .strictObject({
      maxConnections: wholeNumber(1, 100_000_000).optional(),
      maxPayloadBytes: wholeNumber(1, 1024 ** 3).optional(),
      writeDeadlineSeconds: positive("seconds").optional(),
      maxMemStoreBytes: wholeNumber(1, 2 ** 50).optional(),
      maxFileStoreBytes: wholeNumber(1, 2 ** 53 - 1).optional(),
      maxAckPending: wholeNumber(1, 100_000_000).optional(),
      duplicateWindowSeconds: positive("seconds").optional(),
      lameDuckDurationSeconds: wholeNumber(MIN_LAME_DUCK_SECONDS, 3_600, "whole seconds").optional(),
      lameDuckGracePeriodSeconds: wholeNumber(0, 3_600, "whole seconds").optional(),
    })
    .optional(),
  client: z.strictObject({ master: ClientOverrideSchema.optional(), peel: ClientOverrideSchema.optional() }).optional(),
  os: z.strictObject({ limitNofile: wholeNumber(1_024, 100_000_000).optional() }).optional(),
  kv: z
    .record(
      z.enum(bucketNames as [string, ...string[]], {
        errorMap: () => ({ message: `must be one of the planned buckets: ${bucketNames.join(", ")}` }),
      }),
      BucketOverrideSchema,
    )
    .optional(),
  /** Overrides meant to go below what the plan needs, by path (e.g. "natsServer.maxConnections"). @default none */
  confirmBelowPlan: ConfirmBelowPlanSchema.optional(),
});
export type Overrides = z.infer<typeof OverridesSchema>;

export const DEFAULT_FACT_INTERVAL_SECONDS = 60;
export const factIntervalSeconds = wholeNumber(1, 86_400, "whole seconds");

export const SizingSpecSchema = z.strictObject({
  peels: peelCount,
  /** Seconds between two fact syncs of one peel, for the bandwidth model. @default 60 */
  factIntervalSeconds: factIntervalSeconds.default(DEFAULT_FACT_INTERVAL_SECONDS),
  /** Supercluster regions. @default implied from the peel count */
  regions: z.array(RegionSpecSchema).default([]),
  /** Leaf sites (edge, DMZ). @default implied at the leaf tier, none below it */
  leafSites: z.array(LeafSiteSpecSchema).default([]),
  /** @default none */
  overrides: OverridesSchema.default({}),
});
export type SizingSpec = z.output<typeof SizingSpecSchema>;
export type SizingSpecInput = z.input<typeof SizingSpecSchema>;

/** One problem with the input: where it is (a path into the spec) and what is accepted. */
export interface Problem {
  path: (string | number)[];
  message: string;
}

/** Thrown for input that cannot be planned; every boundary prints it in its own names. */
export class SpecError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"));
    this.name = "SpecError";
  }
}

/** zod's issues as problems; an unknown key becomes a problem at that key. */
export function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue): Problem[] =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          path: [...issue.path, key],
          message: "is not a setting this project reads (unknown keys are refused, never ignored)",
        }))
      : [{ path: issue.path, message: issue.message }],
  );
}

/**
 * The same spec at another peel count: the one way the count changes (a tier transition's other
 * end, a stack from before the deployment record), so regions, leaf sites and overrides are kept.
 */
export function withPeels(spec: SizingSpec, peels: number): SizingSpec {
  return parseSizingSpec({ ...spec, peels });
}

/** Parses and validates; throws SpecError (never a bare ZodError) on bad input. */
export function parseSizingSpec(input: unknown): SizingSpec {
  const result = SizingSpecSchema.safeParse(input);
  if (!result.success) throw new SpecError(problemsOf(result.error));
  return result.data;
}
