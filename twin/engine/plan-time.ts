/**
 * The outputs only a provider knows at deploy time (a private address, a load balancer's DNS
 * name, a key, a certificate, random bytes), answered while the program runs, as the twin's
 * providers would make them, so that everything the program derives from them (a certificate in
 * a file, the file's digest, a public key from a seed) is real and consistent. A resource the
 * last `up` applied and this one keeps (same, or updated in place, judged by the engine's own
 * step rules) keeps its outputs; a new or replacing one gets new ones from its provider's `plan`.
 * Nothing here reads the program: only each resource as the plan declares it.
 */
import type { PlannedResource } from "../../plan-json/resource";
import { providerFlags } from "../../plan-json/diff";
import type { PlannedAnswers } from "./engine";
import type { PlanTimeContext, Providers } from "./provider";
import { matchApplied, stepFor } from "./steps";
import type { ResourceState, StackState } from "./state";

type Json = Record<string, unknown>;

export interface Answer {
  id: string;
  state: Json;
}

export class PlanTimeAnswers {
  private readonly answered = new Map<string, { id: string; outputs: Json }>();
  private readonly byId = new Map<string, { type: string; name: string; inputs: Json; outputs: Json }>();
  private readonly seen: PlannedResource[] = [];
  private counter = 0;

  constructor(
    private readonly previous: StackState,
    private readonly providers: Providers,
  ) {}

  /** What the program sees of `resource` once "created": its id and outputs. */
  async answer(resource: PlannedResource): Promise<Answer> {
    this.seen.push(resource);
    const outputs = await this.outputsOf(resource);
    const id = outputs.id;
    this.answered.set(resource.urn, { id, outputs: outputs.outputs });
    this.byId.set(id, { type: resource.type, name: resource.name, inputs: resource.inputs, outputs: outputs.outputs });
    return { id, state: outputs.outputs };
  }

  /** Everything answered so far, by URN: what the engine's operations must make true. */
  answers(): PlannedAnswers {
    return new Map(this.answered);
  }

  private async outputsOf(resource: PlannedResource): Promise<{ id: string; outputs: Json }> {
    const old = matchApplied(this.previous.resources, resource.urn, resource.aliases);
    const provider = this.providers.get(resource.type);
    const step = stepFor(
      { ...resource, dependencies: resource.dependencies ?? [] },
      old,
      providerFlags(this.seen),
      (inputs) => provider?.deleteBeforeReplace?.(inputs) ?? false,
    );
    if (old !== undefined && (step.kind === "same" || step.kind === "update" || step.kind === "record"))
      return { id: old.id, outputs: { ...computedOutputs(old), ...step.inputs } };
    const echo = { name: resource.name, ...step.inputs };
    if (!resource.custom || provider?.plan === undefined) {
      this.counter += 1;
      return { id: resource.readId ?? `${resource.name}-${String(this.counter)}`, outputs: echo };
    }
    const planned = await provider.plan(
      { urn: resource.urn, type: resource.type, name: resource.name, inputs: step.inputs },
      this.context(),
    );
    this.counter += 1;
    return { id: planned.id ?? `${resource.name}-${String(this.counter)}`, outputs: { ...echo, ...planned.outputs } };
  }

  private context(): PlanTimeContext {
    return { byId: (id) => this.byId.get(id), previous: this.previous.resources };
  }
}

/** What the provider computed, not echoed from the inputs (kept by a resource that stays). */
function computedOutputs(old: ResourceState): Json {
  return Object.fromEntries(Object.entries(old.outputs).filter(([key]) => !(key in old.inputs)));
}
