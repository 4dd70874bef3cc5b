/**
 * A tier transition on a cloud target: one phase per update, each safe on its own. Which phase an
 * update applies is decided from the stack's last `transition` output (the phase the last update
 * applied) and the reconcile job's report (that the data-moving steps of that phase are done),
 * so the next phase is refused until the data has moved. Pure; stacks/transition.ts reads the
 * output and the report and hands the decision to the components.
 *
 * What a cloud target carries out today: what declaring servers does (reload, restart one at a
 * time behind the health gate, add servers, add a leaf site, remove servers that hold no data) and
 * what the reconcile job does (set-limits, set-replicas). A transition with any other step
 * (copying data into a new cluster, cutting a server over, moving replicas off a leaving member,
 * adding a region, deleting a store) is refused on the cloud, naming the steps it lacks.
 */
import { z } from "zod";
import type { Refusal, Risk } from "./change";
import { PhaseSchema, type Phase, type StepKind, type Transition, type TransitionStep } from "./transition";
import { TierPointSchema, transitionOutput, type TransitionOutput } from "./transition-output";

/** Who carries a step out on a cloud target: the update that declares the servers, the reconcile job, or nobody yet. */
export const CLOUD_CARRIER: Record<StepKind, "update" | "job" | undefined> = {
  reload: "update",
  restart: "update",
  "add-servers": "update",
  "add-leaf-site": "update",
  "remove-servers": "update",
  "set-limits": "job",
  "set-replicas": "job",
  "add-cluster": undefined,
  "copy-data": undefined,
  "cut-over": undefined,
  "move-replicas": undefined,
  "add-region": undefined,
  "create-buckets": undefined,
  "delete-data": undefined,
};

/** The step kinds the reconcile job carries out during a transition. */
export const JOB_STEP_KINDS = ["set-limits", "set-replicas"] as const;
export const JobStepKindSchema = z.enum(JOB_STEP_KINDS);
export type JobStepKind = z.infer<typeof JobStepKindSchema>;

/** Where a target's reconcile job writes a tier transition's report, which the next update reads. */
export const ReportPlaceSchema = z.union([
  /** AWS: a String parameter the function may write (and nothing else). */
  z.strictObject({ ssmParameter: z.string().min(1), region: z.string().min(1) }),
  /** Kubernetes: a ConfigMap the job's ServiceAccount may patch, its `report` key. */
  z.strictObject({ configMap: z.string().min(1), namespace: z.string().min(1) }),
]);
export type ReportPlace = z.infer<typeof ReportPlaceSchema>;

/** The key of the Kubernetes ConfigMap a tier transition's report is written under. */
export const TRANSITION_REPORT_KEY = "report";

/** A report place in words, as a refusal and the stack's `transition` output name it. */
export function reportPlaceText(place: ReportPlace): string {
  return "ssmParameter" in place
    ? `SSM parameter ${place.ssmParameter} in ${place.region}`
    : `ConfigMap ${place.namespace}/${place.configMap}, key ${TRANSITION_REPORT_KEY}`;
}

/**
 * A tier transition's data-moving phase, handed to the reconcile job by the update that applies
 * it: the job carries the steps out and reports them (where: change/target.ts ReportPlace).
 */
export const JobTransitionSchema = z.strictObject({
  from: TierPointSchema,
  to: TierPointSchema,
  phase: PhaseSchema,
  steps: z.array(z.strictObject({ id: z.string().min(1), kind: JobStepKindSchema })).min(1),
});
export type JobTransition = z.infer<typeof JobTransitionSchema>;

/**
 * What the reconcile job writes once it has carried out a phase's steps and every stream is as
 * the wanted tier plans it (AWS: an SSM parameter; Kubernetes: a ConfigMap). Read back with zod:
 * it crosses from the job to the next update.
 */
export const TransitionReportSchema = z.strictObject({
  version: z.literal(1),
  from: TierPointSchema,
  to: TierPointSchema,
  phase: PhaseSchema,
  /** The steps of that phase the job carried out, by id. */
  done: z.array(z.string()),
  /** When the job finished them (ISO 8601). */
  at: z.string(),
});
export type TransitionReport = z.infer<typeof TransitionReportSchema>;

/** The report in `text`, or undefined when nothing has been written; throws naming `where` when it is not one. */
export function parseReport(text: string | undefined, where: string): TransitionReport | undefined {
  if (text === undefined || text === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${where} holds no tier transition report (not JSON); nothing was changed`);
  }
  const parsed = TransitionReportSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `${where} holds no tier transition report this version reads (${parsed.error.issues[0]?.message ?? "invalid"} at ${parsed.error.issues[0]?.path.join(".") ?? ""}); nothing was changed`,
    );
  return parsed.data;
}

/** What an update declares: the servers of the tier it starts from or of the wanted one, and what the job does. */
export interface PhasePlan {
  phase: Phase;
  /** The servers declared: the `current` tier's until a phase with update steps is reached, then the `wanted` one's. */
  servers: "current" | "wanted";
  /**
   * What the reconcile job reconciles to: the `current` tier's buckets until its data-moving phase;
   * `transition`: the `wanted` tier's, carrying the phase's steps out and writing the report; `wanted` after.
   */
  job: "current" | "wanted" | "transition";
  /** The job's steps in this phase (empty unless `job` is `transition`). */
  jobSteps: { id: string; kind: JobStepKind }[];
  output: TransitionOutput;
}

export type PhaseDecision =
  | { state: "apply"; plan: PhasePlan }
  /** Every phase applied and reported: the wanted tier as it is, no transition. */
  | { state: "finished" }
  | { state: "waiting"; waitingFor: string; refusal: Refusal }
  | { state: "unsupported"; missing: TransitionStep[] };

export interface PhaseInput {
  /** Planned from the tier the transition started at to the wanted one (no refusals). */
  transition: Transition;
  /** The stack's last `transition` output; null or absent: none under way. */
  last: TransitionOutput | null | undefined;
  /** The reconcile job's last report, if any. */
  report: TransitionReport | undefined;
  /** Where the job writes its report, in words: `SSM parameter /zester/…`, `ConfigMap zester/zester-transition`. */
  reportAt: string;
}

const samePoint = (a: { tier: string; peels: number }, b: { tier: string; peels: number }): boolean =>
  a.tier === b.tier && a.peels === b.peels;

/** Whether `last` is an earlier phase of the same transition. */
export const sameTransition = (t: Transition, last: TransitionOutput): boolean =>
  samePoint(t.from, last.from) && samePoint(t.to, last.to);

const stepsIn = (t: Transition, phase: Phase): TransitionStep[] => t.steps.filter((s) => s.phase === phase);
const jobStepsIn = (t: Transition, phase: Phase): { id: string; kind: JobStepKind }[] =>
  stepsIn(t, phase).flatMap((s) =>
    CLOUD_CARRIER[s.kind] === "job" ? [{ id: s.id, kind: s.kind as JobStepKind }] : [],
  );

/** What the job must have reported before the phase after `phase` (or the end) may be applied. */
export function awaitedReport(t: Transition, phase: Phase, reportAt: string): string {
  const ids = jobStepsIn(t, phase).map((s) => s.id);
  return `the reconcile job's report that ${ids.join(", ")} of ${t.from.tier} → ${t.to.tier} (${phase}) are done, every stream as the ${t.to.tier} tier plans it (${reportAt})`;
}

function reported(t: Transition, phase: Phase, report: TransitionReport | undefined): boolean {
  if (report === undefined || report.phase !== phase) return false;
  if (!samePoint(report.from, t.from) || !samePoint(report.to, t.to)) return false;
  return jobStepsIn(t, phase).every((s) => report.done.includes(s.id));
}

function phasePlan(t: Transition, phase: Phase, reportAt: string): PhasePlan {
  const index = t.phases.indexOf(phase);
  const upTo = t.phases.slice(0, index + 1);
  const servers = upTo.some((p) => stepsIn(t, p).some((s) => CLOUD_CARRIER[s.kind] === "update"))
    ? "wanted"
    : "current";
  const jobSteps = jobStepsIn(t, phase);
  const job =
    jobSteps.length > 0
      ? "transition"
      : t.phases.slice(0, index).some((p) => jobStepsIn(t, p).length > 0)
        ? "wanted"
        : "current";
  const next = t.phases[index + 1];
  const waitingFor =
    jobSteps.length > 0
      ? awaitedReport(t, phase, reportAt)
      : next === undefined
        ? null
        : `this update's servers healthy (each one waited for as it is changed); then \`pulumi up\` again applies the ${next} phase`;
  return { phase, servers, job, jobSteps, output: transitionOutput(t, phase, waitingFor) };
}

/** The phase this update applies, or why it applies none. Pure. */
export function decidePhase(input: PhaseInput): PhaseDecision {
  const { transition: t, last, report, reportAt } = input;
  const missing = t.steps.filter((s) => CLOUD_CARRIER[s.kind] === undefined);
  if (missing.length > 0) return { state: "unsupported", missing };
  const first = t.phases[0];
  if (first === undefined) return { state: "finished" };
  if (last === null || last === undefined || last.phase === null || !sameTransition(t, last))
    return { state: "apply", plan: phasePlan(t, first, reportAt) };
  const applied = last.phase;
  const index = t.phases.indexOf(applied);
  if (jobStepsIn(t, applied).length > 0 && !reported(t, applied, report)) {
    const waitingFor = awaitedReport(t, applied, reportAt);
    const next = t.phases[index + 1];
    // Going ahead before the data moved: the next phase acts on servers as if it had (data at stake);
    // finishing drops the transition from the job while streams may still be below plan.
    const risk: Risk = next === undefined ? "fewer-replicas" : "data-loss";
    return {
      state: "waiting",
      waitingFor,
      refusal: {
        server: jobStepsIn(t, applied)[0]?.id ?? applied,
        risk,
        reason: `the ${applied} phase of ${t.from.tier} → ${t.to.tier} is applied and its data has not been reported moved: waiting for ${waitingFor}. Run \`pulumi up\` again once the job has run (on its schedule); ${report === undefined ? "no report has been written yet" : `the report there is for ${report.from.tier} → ${report.to.tier} (${report.phase}), done: ${report.done.join(", ") || "nothing"}`}`,
      },
    };
  }
  const next = t.phases[index + 1];
  return next === undefined ? { state: "finished" } : { state: "apply", plan: phasePlan(t, next, reportAt) };
}

/** The refusal of a transition the cloud targets cannot carry out yet, naming the steps they lack. */
export function unsupportedNote(t: Transition, missing: TransitionStep[]): string {
  const kinds = [...new Set(missing.map((s) => s.kind))];
  return `A tier transition from ${t.from.tier} to ${t.to.tier} needs steps the cloud targets do not carry out yet: ${kinds
    .map(
      (k) =>
        `${k} (${missing
          .filter((s) => s.kind === k)
          .map((s) => s.id)
          .join(", ")})`,
    )
    .join(
      "; ",
    )}. On the local target, \`npm run -s local -- up --peels ${String(t.to.peels)}\` carries it out; see docs/topology.md.`;
}
