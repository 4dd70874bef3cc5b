/**
 * A transition as the stack output `transition` (and `local transition --json`) shows it: the
 * contract the CI preview renders. Absent or null when no transition is under way.
 *
 *   { from: { tier, peels }, to: { tier, peels }, phase, phases, waitingFor,
 *     steps: [{ id, phase, kind, servers, waitsFor, risks, description }] }
 *
 * `phase` is the phase the update applies (a cloud target applies one per `pulumi up`; null where
 * every step runs in one go, as on the local target), `phases` every phase the transition has, in
 * order, and `waitingFor` what must be true before the next phase may be applied (null when
 * nothing is pending). Pure.
 */
import { z } from "zod";
import { TierIdSchema } from "../sizing/spec";
import { RiskSchema } from "./change";
import { PhaseSchema, StepKindSchema, type Phase, type Transition } from "./transition";

export const TierPointSchema = z.strictObject({ tier: TierIdSchema, peels: z.number().int().min(0) });

export const TransitionStepOutputSchema = z.strictObject({
  id: z.string(),
  phase: PhaseSchema,
  kind: StepKindSchema,
  servers: z.array(z.string()),
  waitsFor: z.string(),
  risks: z.array(RiskSchema),
  description: z.string(),
});

export const TransitionOutputSchema = z.strictObject({
  from: TierPointSchema,
  to: TierPointSchema,
  phase: PhaseSchema.nullable(),
  phases: z.array(PhaseSchema),
  waitingFor: z.string().nullable(),
  steps: z.array(TransitionStepOutputSchema),
});
export type TransitionOutput = z.infer<typeof TransitionOutputSchema>;

/** The output of a transition; `phase` and `waitingFor` say where a phased target stands. */
export function transitionOutput(t: Transition, phase: Phase | null, waitingFor: string | null): TransitionOutput {
  return {
    from: { ...t.from },
    to: { ...t.to },
    phase,
    phases: [...t.phases],
    waitingFor,
    steps: t.steps.map((s) => ({
      id: s.id,
      phase: s.phase,
      kind: s.kind,
      servers: [...s.servers],
      waitsFor: s.waitsFor,
      risks: [...s.risks],
      description: s.description,
    })),
  };
}
