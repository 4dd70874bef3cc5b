/**
 * What a component's KV reconcile job does while a tier transition is under way: which tier's
 * buckets it reconciles to, and the data-moving phase it carries out and reports. The stack's
 * program decides it (stacks/transition.ts, from change/phased.ts); each target says where the
 * report goes (AWS: an SSM parameter; Kubernetes: a ConfigMap) and lets the job write it.
 */
import type { TransitionJob } from "../jetstream/cluster-job";
import type { Topology } from "../topology/types";

export interface ReconcileDuringTransition {
  /** The topology whose buckets and cluster the job reconciles to. @default the component's own */
  topology?: Topology;
  /** The data-moving phase the job carries out and reports (the target fills in where). @default none */
  transition?: Omit<TransitionJob, "report">;
}

/** Kubernetes: the ConfigMap (in the core namespace) whose `report` key the job writes. */
export const TRANSITION_CONFIGMAP = "zester-transition";

/** AWS: the String parameter the region's job writes its report to (next to its seed). */
export const transitionReportParameter = (stackId: string, component: string, regionPrefix = ""): string =>
  `/zester/${stackId}/${component}/${regionPrefix}kv-reconcile/transition`;
