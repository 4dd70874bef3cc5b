/**
 * A plan as `npm run -s plan -- --json` prints it, read back with zod: the preview reads plans
 * of other versions (a base branch, an earlier file), so only what it uses is required, and
 * everything else is kept as it came.
 */
import { TransitionOutputSchema, type TransitionOutput } from "../change/transition-output";
import { z } from "zod";
import { CloudTargetSchema, DeploymentSchema } from "../change/deployment";
import { ChecklistStatusSchema } from "../components/checklist";
import { TierIdSchema } from "../sizing/spec";
import { PlannedResourceSchema } from "../plan-json/resource";

export { PlannedResourceSchema, type PlannedResource } from "../plan-json/resource";

const ServerSizeSchema = z
  .object({
    cpuSteadyCores: z.number(),
    cpuBurstCores: z.number(),
    memoryMiB: z.number(),
    jetstreamDiskGiB: z.number(),
    diskIops: z.number(),
    storage: z.string(),
  })
  .passthrough();

const ChecklistItemSchema = z.object({ id: z.string(), since: TierIdSchema, item: z.string() });

const TargetChecklistSchema = z.array(
  z.object({ id: z.string(), item: z.string(), status: ChecklistStatusSchema, how: z.string() }),
);

const TargetServerSchema = z.object({ name: z.string(), namespace: z.string().optional() }).passthrough();

/**
 * What the tier-transition planner adds to a plan's outputs: the output contract itself
 * (change/transition-output.ts), strictly; null once a transition has finished.
 */
export const TransitionSchema = TransitionOutputSchema;
export type Transition = TransitionOutput;

export const PlanOutputsSchema = z
  .object({
    target: CloudTargetSchema,
    tier: TierIdSchema,
    peels: z.number(),
    sizing: z
      .object({
        server: ServerSizeSchema,
        leafNode: z.object({ server: ServerSizeSchema }).passthrough().optional(),
        checklist: z.array(ChecklistItemSchema),
        regions: z.array(z.object({ name: z.string() }).passthrough()),
        leafSites: z.array(z.object({ name: z.string(), region: z.string() }).passthrough()),
      })
      .passthrough(),
    aws: z
      .object({ checklist: TargetChecklistSchema, servers: z.array(TargetServerSchema) })
      .passthrough()
      .optional(),
    kubernetes: z
      .object({ checklist: TargetChecklistSchema, servers: z.array(TargetServerSchema) })
      .passthrough()
      .optional(),
    deployment: DeploymentSchema.optional(),
    transition: TransitionSchema.nullable().optional(),
  })
  .passthrough();
export type PlanOutputs = z.infer<typeof PlanOutputsSchema>;

export const PlanJsonSchema = z.object({ outputs: PlanOutputsSchema, resources: z.array(PlannedResourceSchema) });
export type PlanJson = z.infer<typeof PlanJsonSchema>;

/** Parses a plan, or says where it is not one (`what` names where it came from). */
export function parsePlanJson(json: unknown, what: string): PlanJson {
  const parsed = PlanJsonSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(
    `${what} is not a plan this preview reads: ${issue?.message ?? "invalid"} at ${issue?.path.join(".") ?? "(top)"}; give the output of \`plan --json\``,
  );
}
