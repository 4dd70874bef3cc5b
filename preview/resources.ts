/**
 * The resource-level difference between two plans, as `pulumi up` would see it: resources are
 * the same when their URNs match, or when the newer one names the older one's URN among its
 * aliases (a rename); a changed input that the provider cannot update in place replaces the
 * resource (replacement.ts). Properties named in `ignoreChanges` are left out, as Pulumi does.
 */
import { isDeepStrictEqual } from "node:util";
import type { PlannedResource } from "./plan-json";
import { NOT_PROVIDER_RESOURCES, replacingChanges, splitPath, type ChangeContext } from "../plan-json/replacement";

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

function compare(
  was: PlannedResource,
  now: PlannedResource,
  flags: Omit<ChangeContext, "before" | "after">,
): ResourceChange | undefined {
  const ignored = now.options.ignoreChanges;
  const [before, after] = [withoutPaths(was.inputs, ignored), withoutPaths(now.inputs, ignored)];
  const properties = changedPaths(before, after, "", 3);
  if (properties.length === 0 && was.type === now.type) return undefined;
  const replacedBy = was.type === now.type ? replacingChanges(now.type, { before, after, ...flags }) : ["type"];
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

/** The Kubernetes providers' settings that make Secrets and ConfigMaps updatable in place. */
function providerFlags(resources: PlannedResource[]): Omit<ChangeContext, "before" | "after"> {
  const providers = resources.filter((r) => r.type === "pulumi:providers:kubernetes");
  const set = (key: string) => providers.length > 0 && providers.every((p) => String(p.inputs[key]) === "true");
  return { mutableSecrets: set("enableSecretMutable"), mutableConfigMaps: set("enableConfigMapMutable") };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A copy without the given property paths. */
export function withoutPaths(inputs: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const copy = structuredClone(inputs);
  for (const path of paths) {
    const keys = splitPath(path);
    const last = keys.pop();
    let here: unknown = copy;
    for (const key of keys)
      here = isRecord(here) || Array.isArray(here) ? (here as Record<string, unknown>)[key] : undefined;
    // Reflect.deleteProperty: the key is a path segment, an object's key or an array's index.
    if (last !== undefined && (isRecord(here) || Array.isArray(here))) Reflect.deleteProperty(here, last);
  }
  return copy;
}

/** Paths whose values differ, descending into objects up to `depth` levels. */
export function changedPaths(before: unknown, after: unknown, prefix: string, depth: number): string[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (depth === 0 || !isRecord(before) || !isRecord(after)) return [prefix === "" ? "(all)" : prefix];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((key) =>
    changedPaths(before[key], after[key], prefix === "" ? key : `${prefix}.${key}`, depth - 1),
  );
}
