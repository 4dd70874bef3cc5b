/**
 * One preparation of a spec, passed down: validated once, planned once, built once. The program,
 * the components, the local target and the transitions all take this value instead of planning
 * the peel count again (a count changes only through sizing's `withPeels`, which keeps the rest of
 * the spec). Pure.
 */
import { planSpec } from "../sizing/plan";
import { parseSizingSpec, type SizingSpec, type SizingSpecInput } from "../sizing/spec";
import type { SizingPlan } from "../sizing/types";
import { build } from "./build";
import type { Addressing, Topology } from "./types";

/** A spec with its defaults applied, and its plan. */
export interface Planned {
  spec: SizingSpec;
  plan: SizingPlan;
}

/** …and the topology built from that plan. */
export interface Prepared extends Planned {
  topology: Topology;
}

/** Validates `input` once (SpecError naming the field) and plans it. */
export function planned(input: SizingSpecInput): Planned {
  const spec = parseSizingSpec(input);
  return { spec, plan: planSpec(spec) };
}

/**
 * The topology of a planned spec. Separate from `planned` for a target whose addressing depends
 * on the plan (the local target takes as many free ports as the plan has servers).
 */
export function prepare(from: Planned, addressing: Addressing): Prepared {
  return { ...from, topology: build(from.plan, addressing) };
}
