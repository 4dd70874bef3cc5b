/**
 * What changes between two versions of one resource, as Pulumi's engine judges it: the inputs
 * compared without the `ignoreChanges` properties, and the changes the provider can only make by
 * replacing it (replacement.ts), or that the resource's `replaceOnChanges` names. The preview and
 * the twins' engine both judge by this, so a replacement the preview shows is the one a twin makes.
 */
import { isDeepStrictEqual } from "node:util";
import { replacingChanges, splitPath, type ChangeContext } from "./replacement";

type Inputs = Record<string, unknown>;

/** The provider settings that change the rules (ChangeContext without the inputs). */
export type ProviderFlags = Omit<ChangeContext, "before" | "after">;

export interface InputChange {
  /** What changes, as property paths (a few levels deep). */
  properties: string[];
  /** The changed properties that force a replacement (`type` when the type itself changed). */
  replacedBy: string[];
}

interface Version {
  type: string;
  inputs: Inputs;
}

/** The change from `was` to `now`, leaving out `now`'s ignoreChanges; undefined when nothing changes. */
export function inputChange(
  was: Version,
  now: Version & { options: { ignoreChanges: string[]; replaceOnChanges?: string[] } },
  flags: ProviderFlags,
): InputChange | undefined {
  const ignored = now.options.ignoreChanges;
  const [before, after] = [withoutPaths(was.inputs, ignored), withoutPaths(now.inputs, ignored)];
  const properties = changedPaths(before, after, "", 3);
  if (properties.length === 0 && was.type === now.type) return undefined;
  if (was.type !== now.type) return { properties, replacedBy: ["type"] };
  const named = (now.options.replaceOnChanges ?? []).filter((path) => {
    const keys = splitPath(path);
    return !isDeepStrictEqual(valueAtKeys(before, keys), valueAtKeys(after, keys));
  });
  const replacedBy = [...new Set([...replacingChanges(now.type, { before, after, ...flags }), ...named])];
  return { properties, replacedBy };
}

/** The Kubernetes providers' settings that make Secrets and ConfigMaps updatable in place. */
export function providerFlags(resources: readonly Version[]): ProviderFlags {
  const providers = resources.filter((r) => r.type === "pulumi:providers:kubernetes");
  const set = (key: string) => providers.length > 0 && providers.every((p) => String(p.inputs[key]) === "true");
  return { mutableSecrets: set("enableSecretMutable"), mutableConfigMaps: set("enableConfigMapMutable") };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function valueAtKeys(value: unknown, keys: string[]): unknown {
  let here = value;
  for (const key of keys) here = isRecord(here) || Array.isArray(here) ? (here as Inputs)[key] : undefined;
  return here;
}

/** A copy without the given property paths. */
export function withoutPaths(inputs: Inputs, paths: string[]): Inputs {
  const copy = structuredClone(inputs);
  for (const path of paths) {
    const keys = splitPath(path);
    const last = keys.pop();
    const here = valueAtKeys(copy, keys);
    // Reflect.deleteProperty: the key is a path segment, an object's key or an array's index.
    if (last !== undefined && (isRecord(here) || Array.isArray(here))) Reflect.deleteProperty(here, last);
  }
  return copy;
}

/**
 * `now` with the `ignoreChanges` properties taken from `was` (absent there: left as they are), as
 * Pulumi hands the provider the inputs of an update: an ignored property keeps its old value.
 */
export function withIgnoredKept(now: Inputs, was: Inputs, paths: string[]): Inputs {
  const copy = structuredClone(now);
  for (const path of paths) {
    const keys = splitPath(path);
    const last = keys.pop();
    const old = valueAtKeys(was, [...keys, ...(last === undefined ? [] : [last])]);
    const here = valueAtKeys(copy, keys);
    if (last === undefined || old === undefined || !(isRecord(here) || Array.isArray(here))) continue;
    (here as Inputs)[last] = structuredClone(old);
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
