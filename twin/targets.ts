/**
 * The target twins the CLI knows, and where each one's daemon finds its provider: a module whose
 * `createTarget(twin)` returns the TwinTarget (twin/daemon/target.ts). The AWS and Kubernetes
 * twins (issues 18 and 19) fill these in; until then their `up` answers "not built yet".
 */
import { CloudTargetSchema } from "../change/deployment";
import type { TargetFactory } from "./daemon/target";

/** The cloud targets a stack builds on (change/deployment.ts), each with its twin. */
export const TARGETS = CloudTargetSchema.options;
export type TargetName = (typeof TARGETS)[number];

/** Each target's provider, once built: `() => import("./aws/target")` and the like. */
const PROVIDERS: Record<TargetName, (() => Promise<{ createTarget: TargetFactory }>) | undefined> = {
  aws: () => import("./aws/target"),
  kubernetes: undefined,
};

/** The target's factory, or undefined while it is not built. */
export async function builtTarget(name: TargetName): Promise<TargetFactory | undefined> {
  const load = PROVIDERS[name];
  return load === undefined ? undefined : (await load()).createTarget;
}

/** A module's `createTarget` (ZESTER_TWIN_TARGET_MODULE: a test's target, or one under development). */
export function moduleTarget(file: string): TargetFactory {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a module named at run time
  const loaded = require(file) as { createTarget?: unknown };
  if (typeof loaded.createTarget !== "function") throw new Error(`${file} exports no createTarget(twin) function`);
  return loaded.createTarget as TargetFactory;
}
