/**
 * The resource-level difference between two plans, as `pulumi up` would see it: resources are
 * the same when their URNs match, or when the newer one names the older one's URN among its
 * aliases (a rename); a changed input that the provider cannot update in place replaces the
 * resource (plan-json/diff.ts, replacement.ts). Properties named in `ignoreChanges` are left out, as Pulumi does.
 */
import type { PlannedResource } from "./plan-json";
import { NOT_PROVIDER_RESOURCES } from "../plan-json/replacement";
import { inputChange, providerFlags, type ProviderFlags } from "../plan-json/diff";

export type ResourceAction = "create" | "update" | "replace" | "delete";

export interface ResourceChange {
  type: string;
  /** The newer name (the older one for a delete). */
  name: string;
  urn: string;
  action: ResourceAction;
  /** What changes, as property paths (a few levels deep). */
  properties: string[];
  /** The changed properties that force the replacement. */
  replacedBy: string[];
  /** Anything a reader should know about how the provider does it. */
  notes: string[];
  before?: PlannedResource;
  after?: PlannedResource;
}

const isProviderResource = (r: PlannedResource) => !NOT_PROVIDER_RESOURCES.some((re) => re.test(r.type));

export function diffResources(before: PlannedResource[], after: PlannedResource[]): ResourceChange[] {
  const old = new Map(before.filter(isProviderResource).map((r) => [r.urn, r]));
  const flags = providerFlags(after);
  const changes: ResourceChange[] = [];
  for (const next of after.filter(isProviderResource)) {
    const match = [next.urn, ...next.aliases].map((urn) => old.get(urn)).find((r) => r !== undefined);
    if (match === undefined) {
      changes.push({
        type: next.type,
        name: next.name,
        urn: next.urn,
        action: "create",
        properties: [],
        replacedBy: [],
        notes: [],
        after: next,
      });
      continue;
    }
    old.delete(match.urn);
    const change = compare(match, next, flags);
    if (change !== undefined) changes.push(change);
  }
  for (const gone of old.values()) changes.push(deletion(gone));
  return changes;
}

function deletion(gone: PlannedResource): ResourceChange {
  const notes: string[] = [];
  if (gone.options.retainOnDelete) notes.push("retainOnDelete: it stays in the cloud, no longer managed");
  if (gone.options.protect) notes.push("protected: `pulumi up` fails until the protection is lifted");
  return {
    type: gone.type,
    name: gone.name,
    urn: gone.urn,
    action: "delete",
    properties: [],
    replacedBy: [],
    notes,
    before: gone,
  };
}

function compare(was: PlannedResource, now: PlannedResource, flags: ProviderFlags): ResourceChange | undefined {
  const change = inputChange(was, now, flags);
  if (change === undefined) return undefined;
  const { properties, replacedBy } = change;
  const after = now.inputs;
  const action: ResourceAction = replacedBy.length > 0 ? "replace" : "update";
  const notes: string[] = [];
  if (
    action === "replace" &&
    now.type.startsWith("kubernetes:") &&
    typeof (after.metadata as { name?: unknown } | undefined)?.name === "string"
  )
    notes.push("deleted before it is created again (it keeps its name)");
  if (action === "replace" && was.options.protect)
    notes.push("protected: `pulumi up` fails until the protection is lifted");
  if (was.name !== now.name) notes.push(`renamed from ${was.name} (an alias: not a replacement by itself)`);
  return {
    type: now.type,
    name: now.name,
    urn: now.urn,
    action,
    properties,
    replacedBy,
    notes,
    before: was,
    after: now,
  };
}
