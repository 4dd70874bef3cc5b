/**
 * What an `up` will do, decided before anything runs, as Pulumi's step generator decides it: each
 * resource of the plan matched with what is applied (by URN or one of its aliases), judged by the
 * one diff the preview uses too (plan-json/diff.ts), and every applied resource the plan no longer
 * has (or a replaced one still waiting) deleted at the end. Deleting or replacing a protected
 * resource refuses the whole `up`. Pure.
 */
import { inputChange, providerFlags, withIgnoredKept, type ProviderFlags } from "../../plan-json/diff";
import type { PlannedResource } from "../../plan-json/resource";
import type { ResourceState, StackState } from "./state";

export type StepKind = "same" | "create" | "update" | "replace" | "read" | "record";

/** One resource of the plan and what happens to it. */
export interface Step {
  kind: StepKind;
  resource: TargetResource;
  /** What is applied now (absent for a create). */
  old?: ResourceState;
  /** The inputs to apply: the plan's, ignored properties kept from `old`. */
  inputs: Record<string, unknown>;
  /** What changes, and what of it forces the replacement. */
  properties: string[];
  replacedBy: string[];
  /** For a replacement: the old one is deleted first (else the new one is created first). */
  deleteFirst: boolean;
}

/** A planned resource with the dependencies an engine needs (plans of this version have them). */
export type TargetResource = PlannedResource & { dependencies: string[] };

export interface UpPlan {
  steps: Step[];
  /** Applied resources to delete after every step, in the order they may go (dependents first). */
  deletes: ResourceState[];
  /** Why the `up` cannot run at all (a protected resource to delete or replace). */
  refusals: string[];
}

const isProviderResource = (type: string): boolean => type.startsWith("pulumi:providers:");

/** Resources with nothing for a provider to do: components, provider configurations, stack references. */
export function isRecordOnly(resource: { custom: boolean; type: string }): boolean {
  return !resource.custom || isProviderResource(resource.type) || resource.type === "pulumi:pulumi:StackReference";
}

/** Whether `r` is applied under `urn` or one of `aliases` (a replaced one waiting for its delete is not). */
export function matchApplied(
  applied: readonly ResourceState[],
  urn: string,
  aliases: readonly string[],
): ResourceState | undefined {
  const names = new Set([urn, ...aliases]);
  return applied.find((r) => !r.pendingDelete && names.has(r.urn));
}

/**
 * The step for one resource of the plan. `providerDeletesFirst` is the provider's own rule (a
 * Kubernetes object with a fixed name is deleted before it is created again).
 */
export function stepFor(
  resource: TargetResource,
  old: ResourceState | undefined,
  flags: ProviderFlags,
  providerDeletesFirst: (inputs: Record<string, unknown>) => boolean = () => false,
): Step {
  const base = { resource, properties: [], replacedBy: [], deleteFirst: false };
  if (resource.readId !== undefined && !isRecordOnly(resource))
    return { ...base, kind: "read", inputs: resource.inputs, ...(old === undefined ? {} : { old }) };
  if (old === undefined)
    return { ...base, kind: isRecordOnly(resource) ? "record" : "create", inputs: resource.inputs };
  const inputs = withIgnoredKept(resource.inputs, old.inputs, resource.options.ignoreChanges);
  if (isRecordOnly(resource)) return { ...base, kind: "record", old, inputs };
  const change = inputChange(old, resource, flags);
  if (change === undefined) return { ...base, kind: "same", old, inputs };
  const replace = change.replacedBy.length > 0;
  return {
    kind: replace ? "replace" : "update",
    resource,
    old,
    inputs,
    properties: change.properties,
    replacedBy: change.replacedBy,
    deleteFirst: replace && (resource.options.deleteBeforeReplace || providerDeletesFirst(inputs)),
  };
}

/** The plan's resources with their dependencies, or an error naming a plan that lacks them. */
export function targetResources(resources: readonly PlannedResource[]): TargetResource[] {
  return resources.map((r) => {
    if (r.dependencies === undefined)
      throw new Error(
        `the plan's resource ${r.urn} has no "dependencies": the plan predates the field; plan it again with this checkout`,
      );
    return { ...r, dependencies: r.dependencies };
  });
}

/** Everything an `up` of `resources` over `state` will do, and whether it may run at all. */
export function planUp(
  state: StackState,
  resources: readonly TargetResource[],
  providerDeletesFirst: (type: string, inputs: Record<string, unknown>) => boolean = () => false,
): UpPlan {
  const flags = providerFlags(resources);
  const matched = new Set<ResourceState>();
  const steps = resources.map((resource) => {
    const old = matchApplied(
      state.resources.filter((r) => !matched.has(r)),
      resource.urn,
      resource.aliases,
    );
    if (old !== undefined) matched.add(old);
    return stepFor(resource, old, flags, (inputs) => providerDeletesFirst(resource.type, inputs));
  });
  const replaced = steps.flatMap((s) => (s.kind === "replace" && !s.deleteFirst && s.old !== undefined ? [s.old] : []));
  const gone = state.resources.filter((r) => !matched.has(r) && !r.external);
  const deletes = deleteOrder([...gone, ...replaced]);
  const refusals = [
    ...steps.flatMap((s) =>
      s.kind === "replace" && s.old?.options.protect === true ? [protectedMessage("replace", s.old.urn)] : [],
    ),
    ...gone.flatMap((r) => (r.options.protect && !r.pendingDelete ? [protectedMessage("delete", r.urn)] : [])),
  ];
  return { steps, deletes, refusals };
}

/** Pulumi's own words for it. */
function protectedMessage(action: "delete" | "replace", urn: string): string {
  return (
    `unable to ${action} resource "${urn}" as it is currently marked for protection. To unprotect the resource, ` +
    "remove the `protect` flag from the resource in your Pulumi program and run `pulumi up`"
  );
}

/** Dependents before what they depend on; otherwise the reverse of the state's order. */
export function deleteOrder(resources: readonly ResourceState[]): ResourceState[] {
  const remaining = [...resources].reverse();
  const ordered: ResourceState[] = [];
  while (remaining.length > 0) {
    const index = remaining.findIndex(
      (candidate) => !remaining.some((other) => other !== candidate && other.dependencies.includes(candidate.urn)),
    );
    // A cycle (which Pulumi never records) falls back to the state's reverse order.
    const [next] = remaining.splice(Math.max(index, 0), 1);
    if (next !== undefined) ordered.push(next);
  }
  return ordered;
}
