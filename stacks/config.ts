/**
 * Stack config, read once: every `zester:*` key, validated with zod, errors naming the key as
 * `pulumi config set --path` spells it. Unknown `zester:*` keys are errors, never ignored.
 */
import { z } from "zod";
import {
  LeafSiteSpecSchema,
  OverridesSchema,
  RegionSpecSchema,
  factIntervalSeconds,
  peelCount,
  problemsOf,
  DEFAULT_FACT_INTERVAL_SECONDS,
  type Problem,
  type SizingSpecInput,
} from "../sizing/spec";
import { CloudTargetSchema, type CloudTarget } from "../change/deployment";
import { AwsSettingsSchema, type AwsTarget } from "../components/aws/settings";
import { KubernetesSettingsSchema, type KubernetesSettings } from "../components/kubernetes/settings";

export const NAMESPACE = "zester";

export const TARGETS = CloudTargetSchema.options;
export type Target = CloudTarget;

/** One entry per key: its schema and the description the README's reference table shows. */
export const STACK_KEYS = {
  peels: {
    schema: peelCount,
    required: true,
    type: "integer",
    description: "How many peels the fleet has. Picks the tier.",
  },
  target: {
    schema: z.enum(TARGETS, { errorMap: () => ({ message: `must be one of: ${TARGETS.join(", ")}` }) }),
    required: true,
    type: "string",
    description: "Where the tier is built: `aws` or `kubernetes`.",
  },
  factIntervalSeconds: {
    schema: factIntervalSeconds.optional(),
    required: false,
    type: "integer",
    description: `Seconds between two fact syncs of one peel, for the bandwidth model (default ${DEFAULT_FACT_INTERVAL_SECONDS}).`,
  },
  regions: {
    schema: z.array(RegionSpecSchema).optional(),
    required: false,
    type: "array of { name, peels?, replicate? }",
    description:
      'Supercluster regions (100,000+ peels only). Default: implied from the peel count. `replicate: [{ bucket: "facts", to: "<region>" }]` keeps a read-only copy of a region\'s KV bucket in another region (docs/topology.md).',
  },
  leafSites: {
    schema: z.array(LeafSiteSpecSchema).optional(),
    required: false,
    type: "array of { name, region?, peels?, servers? }",
    description:
      "Leaf sites for edge and DMZ peels (10,000+ peels). Default: one implied site `edge` from 50,000 peels.",
  },
  overrides: {
    schema: OverridesSchema.optional(),
    required: false,
    type: "object",
    description:
      "Typed overrides of planned values (`server`, `natsServer`, `client`, `os`, `kv`); one below what the plan needs must be named in `confirmBelowPlan`.",
  },
  aws: {
    schema: AwsSettingsSchema.optional(),
    required: false,
    type: "object",
    description:
      "The AWS target's settings (`region`, `arch`, `network`, `peelCidrs`, …; see docs/aws.md). Read only when `target` is `aws`.",
  },
  kubernetes: {
    schema: KubernetesSettingsSchema.optional(),
    required: false,
    type: "object",
    description:
      "The Kubernetes target's settings (`namespace`, `storageClass`, `nvmeStorageClass`, images, …; see docs/kubernetes.md). Read only when `target` is `kubernetes`.",
  },
} as const;

export type StackKey = keyof typeof STACK_KEYS;

export interface StackConfig {
  target: Target;
  sizing: SizingSpecInput;
  /** Present exactly when `target` is `aws`. */
  aws?: AwsTarget;
  /** Present exactly when `target` is `kubernetes` (defaults applied). */
  kubernetes?: KubernetesSettings;
}

/** Pulumi's own AWS provider setting, the default for `zester:aws.region`. */
export const AWS_REGION_KEY = "aws:region";

/**
 * The stack's `aws:*` config (profile, assumeRoles, allowedAccountIds, defaultTags …) for the
 * providers the AWS component creates: an explicit provider reads none of it by itself, and would
 * deploy with whatever credentials are around. The region is set per region; every other key is
 * the AWS provider's to validate.
 */
export function awsProviderDefaults(all: Record<string, string>): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(all))
    if (key.startsWith("aws:") && key !== AWS_REGION_KEY) defaults[key.slice("aws:".length)] = decode(raw);
  return defaults;
}

export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${configKey(p.path)}: ${p.message}`).join("\n"));
    this.name = "ConfigError";
  }
}

/** `["overrides","kv","facts","replicas"]` → `zester:overrides.kv.facts.replicas`. */
export function configKey(path: Problem["path"]): string {
  const [head, ...rest] = path;
  return `${NAMESPACE}:${String(head ?? "")}${rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}`;
}

/** Pulumi hands config values over as strings; structured ones arrive as JSON. */
function decode(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const StackConfigSchema = z
  .object(
    Object.fromEntries(Object.entries(STACK_KEYS).map(([key, entry]) => [key, entry.schema])) as {
      [K in StackKey]: (typeof STACK_KEYS)[K]["schema"];
    },
  )
  .strict();

/** Reads the `zester:*` keys of a Pulumi config map (`pulumi.runtime.allConfig()`). */
export function readStackConfig(all: Record<string, string>): StackConfig {
  const prefix = `${NAMESPACE}:`;
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(all)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    // `peels` and `target` stay strings for zod to reject when they are not what is asked;
    // a JSON number like "25000" decodes to 25000.
    values[name] = decode(raw);
  }
  const result = StackConfigSchema.safeParse(values);
  if (!result.success) {
    const known = Object.keys(STACK_KEYS)
      .map((k) => `${prefix}${k}`)
      .join(", ");
    throw new ConfigError(
      problemsOf(result.error).map((p) =>
        p.path.length === 1 && !(String(p.path[0]) in STACK_KEYS)
          ? { ...p, message: `${p.message}; the keys are: ${known}` }
          : p,
      ),
    );
  }
  const { target, aws, kubernetes, ...sizing } = result.data;
  for (const [key, value] of [
    ["aws", aws],
    ["kubernetes", kubernetes],
  ] as const)
    if (value !== undefined && target !== key)
      throw new ConfigError([
        { path: [key], message: `is read only when ${prefix}target is ${key} (it is ${target}): remove it` },
      ]);
  if (target === "kubernetes")
    return { target, sizing: dropUndefined(sizing), kubernetes: kubernetes ?? KubernetesSettingsSchema.parse({}) };
  const region = aws?.region ?? all[AWS_REGION_KEY];
  if (region === undefined)
    throw new ConfigError([
      {
        path: ["aws", "region"],
        message: `is required (or ${AWS_REGION_KEY}): the AWS region to build in, e.g. us-east-1`,
      },
    ]);
  const settings = AwsSettingsSchema.safeParse({ ...(aws ?? {}), region });
  if (!settings.success)
    throw new ConfigError(problemsOf(settings.error).map((p) => ({ ...p, path: ["aws", ...p.path] })));
  return { target, sizing: dropUndefined(sizing), aws: { ...settings.data, region } };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
