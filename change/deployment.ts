/**
 * What is deployed, as plain data every target describes the same way: per server what runs it,
 * where its JetStream data lives, and two keys that say how a change reaches it (a reload, or a
 * restart). A stack exports it (`deployment`), the next run reads it back and compares
 * (change.ts) before anything is created. Read back with zod: it crosses runs and versions.
 */
import { z } from "zod";
import { TierIdSchema } from "../sizing/spec";
import { DataDiskKindSchema } from "../topology/render/data-disk";
import { RoleSchema } from "../topology/types";

/** Where a server's JetStream data lives: a cloud server's disk, a Kubernetes claim, a local directory. */
export const DataKindSchema = z.enum([...DataDiskKindSchema.options, "claim", "directory"]);

/** The targets a deployment record can name: the cloud targets a stack builds on, and the local one. */
export const TargetNameSchema = z.enum(["aws", "kubernetes", "local"]);
export type TargetName = z.infer<typeof TargetNameSchema>;
/** A stack's `zester:target`: the cloud targets. */
export const CloudTargetSchema = TargetNameSchema.exclude(["local"]);
export type CloudTarget = z.infer<typeof CloudTargetSchema>;

/**
 * The host a deployment rebuilt for a stack from before the record gives its servers (followed by
 * what runs them): a version that configured servers through their user data, which the agent's
 * user data replaces (a stop and a start).
 */
export const LEGACY_HOST = "configured-by-user-data";

/** A deployment rebuilt for a stack from before the record: every server configured by user data. */
export function asLegacy(rebuilt: Deployment): Deployment {
  return { ...rebuilt, servers: rebuilt.servers.map((s) => ({ ...s, host: `${LEGACY_HOST} ${s.host}` })) };
}

export const DeployedServerSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  region: z.string(),
  /** Core servers: their cluster (a JetStream meta group when it has more than one server). */
  cluster: z.string().optional(),
  site: z.string().optional(),
  /** What runs the server (an instance type, a pod's resources); a change stops and starts it. */
  host: z.string(),
  /** Everything a change of needs nats-server restarted: binary, unit, config keys that do not reload. */
  restart: z.string(),
  /** The config a reload (SIGHUP) applies. */
  reload: z.string(),
  /** Where its JetStream data lives (core servers). A different `volume` is different data. */
  data: z
    .object({
      kind: DataKindSchema,
      /** Names the data: the volume, claim or directory, as the target knows it. */
      volume: z.string(),
      /** Type, size: may change in place (an EBS volume grows online). */
      detail: z.string(),
      /**
       * Its size in GiB, where the target sizes it (an EBS volume, a claim). It only grows: EC2's
       * ModifyVolume and a claim's storage request refuse a smaller size. Records from before it
       * was kept have none.
       */
      sizeGiB: z.number().positive().optional(),
      /**
       * What the store is bound to, each by a label that names the settings behind it (an EBS
       * volume's availability zone; an instance-store server's zone and subnet; a claim's cluster
       * and namespace). No provider
       * moves a store: a different value replaces it, and its data with it. Records from before
       * it was kept have none, and are compared as before.
       */
      placement: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});
export type DeployedServer = z.infer<typeof DeployedServerSchema>;

/**
 * How clients are authenticated: `operator` (the accounts are JWTs, named by their keys;
 * topology/auth.ts), or, absent, as before per-peel identities (accounts configured by name,
 * `ZESTER`).
 * JetStream keeps a stream under its account's name, so a deployment cannot go from the one to
 * the other keeping its buckets (change.ts refuses it).
 */
export const ACCOUNTS = "operator";

export const DeploymentSchema = z.object({
  version: z.literal(1),
  target: TargetNameSchema,
  tier: TierIdSchema,
  peels: z.number().int().min(0),
  natsVersion: z.string(),
  accounts: z.literal(ACCOUNTS).optional(),
  servers: z.array(DeployedServerSchema),
});
export type Deployment = z.infer<typeof DeploymentSchema>;
