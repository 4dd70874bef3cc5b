/**
 * A tier transition on a cloud target, as one update applies it: one phase per `pulumi up`.
 * What runs is the stack's last `deployment` output; a transition under way is its last
 * `transition` output (the phase that update applied); whether the data moved is the reconcile
 * job's report (AWS: an SSM parameter; Kubernetes: a ConfigMap), which the executor (the Pulumi
 * program) reads when asked. phased.ts decides which phase this update applies, or refuses (exit 2
 * in the offline plan) naming what it waits for; a transition the cloud cannot carry out yet is
 * refused naming the steps it lacks. Pure given its inputs: the components get a prepared tier to
 * declare and a job to hand the reconcile.
 */
import { SpecError } from "../sizing/spec";
import type { Topology } from "../topology/types";
import { planChange, ChangeRefused, type Refusal } from "./change";
import type { Deployment } from "./deployment";
import { decidePhase, unsupportedNote, type JobTransition, type PhasePlan, type TransitionReport } from "./phased";
import { planTransition } from "./plan-transition";
import type { Transition } from "./transition";
import { TransitionOutputSchema, type TransitionOutput } from "./transition-output";

/**
 * What a component's KV reconcile job does while a tier transition is under way: which tier's
 * buckets it reconciles to, and the data-moving phase it carries out and reports (each target
 * says where the report goes: Target.reportPlace).
 */
export interface ReconcileDuringTransition {
  /** The topology whose buckets and cluster the job reconciles to. @default the component's own */
  topology?: Topology;
  /** The data-moving phase the job carries out and reports. @default none */
  transition?: JobTransition;
}

/** What the decision reads of a target's preparation (change/target.ts TargetPrepared). */
export interface PhasePrepared {
  topology: Topology;
  deployment: Deployment;
}

export interface TransitionInput<P extends PhasePrepared> {
  wantedPeels: number;
  /** What runs (the stack's last `deployment`), absent on a new stack. */
  previous: Deployment | undefined;
  /** The stack's last `transition` output, as read back (unknown: it crosses runs). */
  lastTransition: unknown;
  /** The target's preparation of a peel count (the rest of the spec and its settings kept); SpecError when they do not describe that count. */
  prepare(peels: number): P;
  /** The job's report, read where the target keeps it; undefined when there is none. */
  readReport(): Promise<TransitionReport | undefined>;
  /** Where the report is, in words. */
  reportAt: string;
}

export type TransitionApplied<P extends PhasePrepared> =
  /** No transition: the wanted peels as they are (the deployed-state check, change/change.ts, still applies). */
  | { kind: "none"; output?: null }
  /** This update applies one phase: it declares `peels`' servers and hands the job `reconcile`. */
  | { kind: "phase"; peels: number; prepared: P; reconcile: ReconcileDuringTransition; output: TransitionOutput };

/** The stack's last `transition` output, checked; null: none under way. */
export function lastTransitionOf(value: unknown): TransitionOutput | null {
  if (value === undefined || value === null) return null;
  const parsed = TransitionOutputSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `the stack's last "transition" output is not one this version reads (${parsed.error.issues[0]?.message ?? "invalid"} at ${parsed.error.issues[0]?.path.join(".") ?? ""}); nothing was changed`,
    );
  return parsed.data;
}

const tierChange = (t: { tier: string; peels: number }, u: { tier: string; peels: number }): string =>
  `${t.tier} (${String(t.peels)} peels) → ${u.tier} (${String(u.peels)} peels)`;

/** Which phase this update applies; throws ChangeRefused when it applies none. */
export async function transitionPhase<P extends PhasePrepared>(
  input: TransitionInput<P>,
): Promise<TransitionApplied<P>> {
  const { previous, wantedPeels } = input;
  if (previous === undefined) return { kind: "none" };
  const last = lastTransitionOf(input.lastTransition);
  if (last !== null && last.to.peels !== wantedPeels)
    throw new ChangeRefused(
      [
        {
          server: last.steps[0]?.servers[0] ?? "",
          risk: "data-loss",
          reason: `a tier transition ${tierChange(last.from, last.to)} is under way (its ${String(last.phase)} phase applied); a change to ${String(wantedPeels)} peels would start another before it has finished`,
        },
      ],
      `Finish it first: set zester:peels back to ${String(last.to.peels)} and run \`pulumi up\` until its \`transition\` output is gone.`,
    );
  const fromPeels = last?.from.peels ?? previous.peels;
  const to = input.prepare(wantedPeels);
  let from: P;
  try {
    from = input.prepare(fromPeels);
  } catch (error) {
    // Today's settings may not describe the deployed tier (e.g. regions set for the supercluster
    // being moved to): no transition can be planned from it, and the deployed-state check alone decides.
    if (last !== null || !(error instanceof SpecError)) throw error;
    const refused = planChange(previous, to.deployment).refused;
    if (refused.length > 0) throw new ChangeRefused(refused);
    return { kind: "none" };
  }
  if (last === null && from.topology.tier === to.topology.tier) return { kind: "none" };
  const deployed = last === null ? previous : from.deployment;
  const transition = planTransition({ from: from.topology, to: to.topology, deployed, wanted: to.deployment });
  const refuse = (fallback: Refusal[], note?: string): never => {
    // The deployed-state check's own reasons when it has any (what a single update would lose), else the planner's.
    const change = planChange(previous, to.deployment).refused;
    throw new ChangeRefused(change.length > 0 ? change : fallback, note);
  };
  if (transition.refused.length > 0) refuse(transition.refused);
  if (to.topology.clusters.length > 1 || from.topology.clusters.length > 1)
    refuse(
      [
        {
          server: to.topology.clusters[0]?.servers[0] ?? "",
          risk: "data-loss",
          reason: `${tierChange(transition.from, transition.to)} spans regions; a supercluster's transition needs a report per region, which the cloud targets do not read yet`,
        },
      ],
      `On the local target, \`npm run -s local -- up --peels ${String(transition.to.peels)}\` carries it out; see docs/aws.md, "Tier transitions".`,
    );
  const report = last === null ? undefined : await input.readReport();
  const decision = decidePhase({ transition, last, report, reportAt: input.reportAt });
  switch (decision.state) {
    case "unsupported":
      return refuse(
        decision.missing.map((s) => ({
          server: s.servers[0] ?? "",
          risk: s.risks[0] ?? "data-loss",
          reason: `${s.id}: ${s.description}`,
        })),
        unsupportedNote(transition, decision.missing),
      );
    case "waiting":
      throw new ChangeRefused(
        [decision.refusal],
        `The stack's \`transition\` output says the same (waitingFor).`,
        `refused: the tier transition ${tierChange(transition.from, transition.to)} waits for its data to move, so nothing was changed:`,
      );
    case "finished":
      return { kind: "none", output: null };
    case "apply":
      return applied(decision.plan, transition, from, to);
  }
}

function applied<P extends PhasePrepared>(plan: PhasePlan, t: Transition, from: P, to: P): TransitionApplied<P> {
  const declared = plan.servers === "wanted" ? to : from;
  const reconcile: ReconcileDuringTransition =
    plan.job === "current"
      ? { topology: from.topology }
      : plan.job === "transition"
        ? {
            topology: to.topology,
            transition: { from: t.from, to: t.to, phase: plan.phase, steps: plan.jobSteps },
          }
        : { topology: to.topology };
  return {
    kind: "phase",
    peels: plan.servers === "wanted" ? t.to.peels : t.from.peels,
    prepared: declared,
    reconcile,
    output: plan.output,
  };
}
