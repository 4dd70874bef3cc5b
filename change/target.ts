/**
 * The shape every target has, as plain data and pure functions: where each server listens (its
 * addressing, from which the topology computes every server's endpoints once), what the target
 * decides per server before anything exists (its layout: instance and volume, pod and claim,
 * directory), what it records as deployed (read back by the next update and compared by the
 * change guard), and where its reconcile job reports a tier transition's data moved. AWS and
 * Kubernetes (components/<target>/target.ts) and the local target (local/target.ts) implement
 * it; the program, the local runner and the twins use a target without knowing which it is.
 */
import type { Planned, Prepared } from "../topology/prepare";
import { prepare } from "../topology/prepare";
import type { Addressing, Topology } from "../topology/types";
import type { Deployment, TargetName } from "./deployment";
import type { ReportPlace } from "./phased";

/** What a stack's component is named by: where a cloud target keeps what belongs to it. */
export interface StackIds {
  /** `<project>-<stack>`. */
  stackId: string;
  /** The component's name (its children are `${component}-…`). */
  component: string;
}

export interface Target<Settings, Layout> {
  readonly name: TargetName;
  /** Where each server listens: its host and NATS's ports (the topology computes its URLs from them). */
  addressing(settings: Settings): Addressing;
  /** Everything decided per server before anything is created; throws SpecError naming the key. */
  layout(topology: Topology, settings: Settings): Layout;
  /** What the target records as deployed: per server what runs it, its data, its config's keys. */
  deployment(topology: Topology, layout: Layout, settings: Settings): Deployment;
  /** Where the reconcile job reports a transition's data moved; undefined: the target moves it itself. */
  reportPlace(settings: Settings, ids: StackIds): ReportPlace | undefined;
}

/** A spec prepared for one target: planned, built with its addressing, laid out, recorded. */
export interface TargetPrepared<Settings, Layout> extends Prepared {
  settings: Settings;
  layout: Layout;
  deployment: Deployment;
}

/** The one preparation of a planned spec on `target`. Pure. */
export function prepareOn<Settings, Layout>(
  target: Target<Settings, Layout>,
  from: Planned,
  settings: Settings,
): TargetPrepared<Settings, Layout> {
  const prepared = prepare(from, target.addressing(settings));
  const layout = target.layout(prepared.topology, settings);
  return { ...prepared, settings, layout, deployment: target.deployment(prepared.topology, layout, settings) };
}
