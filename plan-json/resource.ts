/**
 * One resource of an offline plan (`npm run -s plan -- --json`'s `resources`), read back with zod.
 * Plans of older versions lack the later fields: each has the default Pulumi gives a resource
 * that does not set it, except `dependencies`, which only a plan of this version has (a reader
 * that orders operations must refuse a plan without it).
 */
import { z } from "zod";

export const PlannedResourceSchema = z.object({
  type: z.string(),
  name: z.string(),
  urn: z.string(),
  parent: z.string().optional(),
  aliases: z.array(z.string()).default([]),
  /** false: a component, which only groups its children. */
  custom: z.boolean().default(true),
  /** The URN of the explicit provider resource; absent: the default provider. */
  provider: z.string().optional(),
  /** Only for a resource read by its id (`get`, a stack reference). */
  readId: z.string().optional(),
  /** Every resource it depends on (inputs and `dependsOn`), as URNs. */
  dependencies: z.array(z.string()).optional(),
  options: z
    .object({
      protect: z.boolean().default(false),
      retainOnDelete: z.boolean().default(false),
      ignoreChanges: z.array(z.string()).default([]),
      dependsOn: z.array(z.string()).default([]),
      deleteBeforeReplace: z.boolean().default(false),
      replaceOnChanges: z.array(z.string()).default([]),
    })
    .default({}),
  inputs: z.record(z.string(), z.unknown()),
});
export type PlannedResource = z.infer<typeof PlannedResourceSchema>;
