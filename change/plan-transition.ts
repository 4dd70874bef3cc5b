/**
 * The transition planner: the steps from what runs to what is wanted (transition-steps.ts), every
 * plan checked against the invariants in transition-check.ts before it is returned, or the
 * reasons no safe order of steps exists. Pure.
 */
import { ChangeRefused } from "./change";
import { PHASES, type TierPoint, type Transition, type TransitionInput } from "./transition";
import { checkSteps } from "./transition-check";
import { transitionSteps } from "./transition-steps";
import type { Topology } from "../topology/types";

const point = (t: Topology): TierPoint => ({ tier: t.tier, peels: t.plan.peels });

/** The ordered steps from `from` to `to`, or the reasons none are safe. Pure. */
export function planTransition(input: TransitionInput): Transition {
  const { steps, refused } = transitionSteps(input);
  const base = { from: point(input.from), to: point(input.to) };
  if (refused.length > 0) return { ...base, phases: [], steps: [], refused };
  const violations = checkSteps(input, steps);
  // A violation is this planner's bug, never the operator's input: it is not a refusal.
  if (violations.length > 0)
    throw new Error(
      `the transition planned from ${base.from.tier} to ${base.to.tier} breaks its own invariants:\n- ${violations.join("\n- ")}`,
    );
  return { ...base, phases: PHASES.filter((p) => steps.some((s) => s.phase === p)), steps, refused: [] };
}

/** The transition, or ChangeRefused naming why it cannot be made safely. */
export function checkTransition(input: TransitionInput): Transition {
  const transition = planTransition(input);
  if (transition.refused.length > 0) throw new ChangeRefused(transition.refused);
  return transition;
}

/** Nothing to do: the wanted topology is what runs. */
export const isEmpty = (t: Transition): boolean => t.steps.length === 0 && t.refused.length === 0;
