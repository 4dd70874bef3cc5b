/** The local target's state directory: what runs, where, and the identities it was started with. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { OverridesSchema, RegionSpecSchema, TierIdSchema } from "../sizing/spec";
import { STACK_KEYS } from "../topology/auth";
import { RoleSchema, ZesterKindSchema } from "../topology/types";

export const STATE_FILE = "state.json";

const ServerStateSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  region: z.string(),
  cluster: z.string().optional(),
  site: z.string().optional(),
  pid: z.number().int().optional(),
  clientUrl: z.string(),
  monitorUrl: z.string(),
  confPath: z.string(),
  logPath: z.string(),
  /** When it was last started (ms since the epoch). */
  startedAt: z.number().optional(),
});

const AddressSchema = z.strictObject({
  client: z.number().int(),
  monitor: z.number().int(),
  cluster: z.number().int().optional(),
  leafnode: z.number().int().optional(),
});

const ZesterProcessSchema = z.object({
  name: z.string(),
  kind: ZesterKindSchema,
  pid: z.number().int().optional(),
  configPath: z.string(),
  logPath: z.string(),
});

/**
 * What a transition must undo or finish for writes to be taken again, written before a step stops
 * them (transition-safety.ts carries it out, from the step, the command that ran it, or `up`):
 * - `frozen`: the source's streams were moved aside on `servers` (of the current tier);
 * - `restart`: `server` is between its current config and the wanted one;
 * - `join`: a single server's store set aside (`retired`) while it restarts into the cluster the
 *   data was copied to; the copies' last sequences tell whether that cluster took writes since;
 * - `take-over`: a server filled by a copy restarts on its own client address to take the
 *   clients of `servers`, whose streams are frozen; the same check of last sequences.
 */
const HoldSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("frozen"), servers: z.array(z.string()) }),
  z.strictObject({ kind: z.literal("restart"), server: z.string() }),
  z.strictObject({
    kind: z.literal("join"),
    server: z.string(),
    retired: z.string(),
    members: z.array(z.string()),
    lastSeqs: z.record(z.number().int()),
  }),
  z.strictObject({
    kind: z.literal("take-over"),
    server: z.string(),
    servers: z.array(z.string()),
    lastSeqs: z.record(z.number().int()),
  }),
]);
export type Hold = z.infer<typeof HoldSchema>;

const TransitionStateSchema = z.strictObject({
  peels: z.number().int().min(0),
  done: z.array(z.string()),
  /** The step under way (or the one that failed), and the process carrying it out. */
  step: z.string().optional(),
  pid: z.number().int().optional(),
  /** Servers started on a client port no client knows while a copy fills them, by name. */
  staging: z.record(z.number().int()).default({}),
  hold: HoldSchema.optional(),
  /** The last failure: which step, what happened, and what was done to let writes in again. */
  failed: z.strictObject({ step: z.string(), error: z.string(), safe: z.string(), at: z.string() }).optional(),
});
export type TransitionState = z.infer<typeof TransitionStateSchema>;

/** What the sizing spec declares besides the peel count (see UpOptions.sizing). */
export const LocalSizingSchema = z.strictObject({
  regions: z.array(RegionSpecSchema).optional(),
  overrides: OverridesSchema.optional(),
});
export type LocalSizing = z.infer<typeof LocalSizingSchema>;

export const LocalStateSchema = z.object({
  peels: z.number().int().min(0),
  /** Declared regions (their cross-region replication) and overrides; absent: implied from the peels. */
  sizing: LocalSizingSchema.optional(),
  tier: TierIdSchema,
  serversPerCluster: z.number().int().min(1),
  natsServer: z.object({ path: z.string(), version: z.string(), origin: z.string() }),
  /**
   * The stack's keys (auth.ts; a directory made before per-peel identities has only its roles'
   * until `up` completes them), the CA certificate (PEM), every peel issued credentials (its
   * public key and when), and the revoked ones (public key → up to when its credentials are
   * refused).
   */
  auth: z.object({
    seeds: z.object(Object.fromEntries(STACK_KEYS.map((k) => [k, z.string().optional()]))) as z.ZodType<
      Partial<Record<(typeof STACK_KEYS)[number], string>>
    >,
    ca: z.string(),
    peels: z.record(z.strictObject({ key: z.string(), issuedAt: z.number().int() })).default({}),
    revoked: z.record(z.number().int()).default({}),
  }),
  servers: z.array(ServerStateSchema),
  /** Free ports as taken at first `up`; reused so a restart keeps every URL. */
  ports: z.array(z.number().int()),
  /**
   * Each server's ports by name (client, monitor, cluster, leafnode), so a tier transition keeps
   * every surviving server's addresses and gives new servers and listeners free ports. Absent in
   * state written before transitions: the ports above, in build order, then.
   */
  addresses: z.record(AddressSchema).optional(),
  /** JetStream stores a transition set aside (a replaced server's old store) until it deletes them. */
  retired: z.array(z.string()).default([]),
  /** A tier transition under way: where to (peels) and the steps done, so `up` again resumes it. */
  transition: TransitionStateSchema.optional(),
  /** Zester masters and peels started with --master-bin / --peel-bin. */
  zester: z.array(ZesterProcessSchema).default([]),
});
export type LocalState = z.infer<typeof LocalStateSchema>;
export type ServerState = z.infer<typeof ServerStateSchema>;
export type ZesterProcess = z.infer<typeof ZesterProcessSchema>;

export function readState(dir: string): LocalState | undefined {
  const file = path.join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = LocalStateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(
      `${file} is not a state file this version understands (${parsed.error.issues[0]?.message ?? "invalid"}); remove the directory or use another --state-dir`,
    );
  }
  return parsed.data;
}

export function writeState(dir: string, state: LocalState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}
