/**
 * A twin's stack state: what its last `up` left applied, kept on disk as Pulumi keeps a stack's
 * checkpoint, and written after every operation, so an `up` that stops half way (a failed
 * operation, a killed process) leaves exactly what was done for the next `up` to start from.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

const Json = z.record(z.string(), z.unknown());

export const ResourceStateSchema = z.object({
  urn: z.string(),
  type: z.string(),
  name: z.string(),
  /** The provider's id (a component has none: ""). */
  id: z.string(),
  custom: z.boolean(),
  provider: z.string().optional(),
  /** Read by its id, not managed: never deleted. */
  external: z.boolean().default(false),
  /** The inputs as applied (ignored properties keep their old values). */
  inputs: Json,
  /** What the provider answered: the inputs echoed and what only it knows. */
  outputs: Json,
  dependencies: z.array(z.string()),
  options: z.object({
    protect: z.boolean(),
    retainOnDelete: z.boolean(),
    ignoreChanges: z.array(z.string()),
    deleteBeforeReplace: z.boolean(),
    replaceOnChanges: z.array(z.string()),
  }),
  /** A replaced resource whose delete has not run yet: the next `up` deletes it. */
  pendingDelete: z.boolean().default(false),
  /** Why the twin recorded it without carrying it out (e.g. a snapshot schedule), if so. */
  notRun: z.string().optional(),
});
export type ResourceState = z.infer<typeof ResourceStateSchema>;

export const StackStateSchema = z.object({
  version: z.literal(1),
  /** In dependency order (a resource after those it depends on), as Pulumi keeps a checkpoint. */
  resources: z.array(ResourceStateSchema),
  /** The stack outputs of the last `up` that finished; null before the first. */
  outputs: Json.nullable(),
  /** How many `up`s ran (finished or not). */
  updates: z.number().int().nonnegative(),
});
export type StackState = z.infer<typeof StackStateSchema>;

export const EMPTY_STATE: StackState = { version: 1, resources: [], outputs: null, updates: 0 };

const STATE_FILE = "stack.json";

export const stateFile = (dir: string): string => path.join(dir, STATE_FILE);

/** The state in `dir`, or the empty one when there is none yet. */
export function loadState(dir: string): StackState {
  let text: string;
  try {
    text = readFileSync(stateFile(dir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return structuredClone(EMPTY_STATE);
    throw error;
  }
  const parsed = StackStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${stateFile(dir)} is not a twin's stack state (${issue?.message ?? "invalid"} at ${issue?.path.join(".") ?? "(top)"}); ` +
        "remove the state directory with `down` to start over",
    );
  }
  return parsed.data;
}

/** Writes the state atomically: a reader (or a crash) never sees half a file. */
export function saveState(dir: string, state: StackState): void {
  mkdirSync(dir, { recursive: true });
  const file = stateFile(dir);
  const temporary = `${file}.${String(process.pid)}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, file);
}
