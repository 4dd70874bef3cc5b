/**
 * What a twin implements per Pulumi type token: the operations a provider plug-in carries out for
 * the engine (create, update, delete, read), and, at plan time, the outputs only a provider knows
 * (an address, a key, a generated password), which the program reads before anything is created.
 * A type with no provider is an error naming it before anything runs; what a provider cannot run
 * it says so (`notRun`), and the engine records and prints that, never "done".
 */
import type { ResourceState } from "./state";

type Json = Record<string, unknown>;

/** A resource as an operation sees it: what the plan declares, with what the plan-time answer gave it. */
export interface ResourceInput {
  urn: string;
  type: string;
  name: string;
  /** The inputs to apply (ignored properties already keep their old values). */
  inputs: Json;
  /** The id and outputs the program was planned with (see `PlanTime`), if the twin answered them. */
  planned?: { id: string; outputs: Json };
  /** The provider resource's URN, absent for the default provider. */
  provider?: string;
}

export interface Operated {
  /** The provider's own id; @default the planned id */
  id?: string;
  /** Outputs beyond the inputs; merged over the planned ones (a value that differs fails the operation). */
  outputs?: Json;
  /** Set when the provider records the resource without carrying it out, saying why. */
  notRun?: string;
}

export interface OperationContext {
  /** A line for the operator, printed under the operation. */
  log(line: string): void;
  /** Every resource applied so far by URN (the state as this `up` has made it). */
  applied(urn: string): ResourceState | undefined;
}

/** What answers a resource's outputs when the program registers it, before anything runs. */
export interface PlanTimeContext {
  /** A resource registered earlier in this run, by the id the plan-time answer gave it. */
  byId(id: string): { type: string; name: string; inputs: Json; outputs: Json } | undefined;
  /** Every resource the previous `up` left applied (addresses taken, names in use). */
  previous: readonly ResourceState[];
}

export interface TwinProvider {
  /** The type tokens this provider carries out. */
  readonly types: readonly string[];
  /**
   * The outputs a new (or replacing) resource gets, computed as the provider would compute them.
   * A resource that is kept keeps what it had. @default the inputs echoed, id `<name>-<n>`
   */
  plan?(resource: ResourceInput, context: PlanTimeContext): Promise<{ id?: string; outputs: Json }>;
  create(resource: ResourceInput, context: OperationContext): Promise<Operated>;
  update(before: ResourceState, after: ResourceInput, context: OperationContext): Promise<Operated>;
  delete(resource: ResourceState, context: OperationContext): Promise<void>;
  /** A resource the program reads by id (`get`). @default reading is an error naming the type */
  read?(type: string, id: string, inputs: Json, context: OperationContext): Promise<Operated>;
  /**
   * Whether this provider itself deletes before it replaces (pulumi-kubernetes does for an object
   * with a fixed name). @default false
   */
  deleteBeforeReplace?(inputs: Json): boolean;
}

/** The providers of one twin, one per type token. */
export class Providers {
  private readonly byType = new Map<string, TwinProvider>();

  constructor(providers: readonly TwinProvider[]) {
    for (const provider of providers)
      for (const type of provider.types) {
        if (this.byType.has(type)) throw new Error(`two twin providers claim the type ${type}`);
        this.byType.set(type, provider);
      }
  }

  get(type: string): TwinProvider | undefined {
    return this.byType.get(type);
  }

  /** The provider of `type`, or an error naming it and what this twin carries out. */
  require(type: string): TwinProvider {
    const provider = this.byType.get(type);
    if (provider === undefined) throw new MissingProvider([type], [...this.byType.keys()]);
    return provider;
  }

  types(): string[] {
    return [...this.byType.keys()].sort();
  }
}

export class MissingProvider extends Error {
  constructor(
    readonly missing: string[],
    known: string[],
  ) {
    super(
      `the twin carries out no ${missing.length === 1 ? "resource of the type" : "resources of the types"} ` +
        `${missing.join(", ")}: nothing was done. It carries out ${known.length === 0 ? "no type yet" : known.sort().join(", ")}; ` +
        "add a provider for the type (twin/<target>/) before planning such a stack on the twin",
    );
  }
}
