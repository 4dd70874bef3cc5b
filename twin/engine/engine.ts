/**
 * Carries an `up` out as Pulumi's engine does: every step of the plan (steps.ts) as soon as the
 * resources it depends on are done, independent ones at once (Pulumi's default parallelism is
 * unbounded); then the deletes, dependents first. The first operation that fails stops the `up`:
 * operations under way finish, none starts, and the state keeps what was done, so the next `up`
 * starts from there (a replaced resource not yet deleted is deleted then). The state is written
 * after every operation; the stack's outputs only when the whole `up` succeeded.
 */
import { isDeepStrictEqual } from "node:util";
import { MissingProvider, type Operated, type OperationContext, type Providers, type ResourceInput } from "./provider";
import { planUp, type Step, type TargetResource } from "./steps";
import type { ResourceState, StackState } from "./state";

type Json = Record<string, unknown>;

/** What the twin's plan-time answers gave each resource (by URN), which operations must make true. */
export type PlannedAnswers = ReadonlyMap<string, { id: string; outputs: Json }>;

export interface UpInput {
  resources: readonly TargetResource[];
  /** The stack outputs the program produced. */
  outputs: Json;
  answers?: PlannedAnswers;
}

export interface UpOptions {
  providers: Providers;
  /** Called with the state after every operation (write it to disk). */
  save: (state: StackState) => void;
  /** A line for the operator, as the operation happens. @default nothing printed */
  print?: (line: string) => void;
  /** At most this many operations at once. @default unbounded, as `pulumi up` */
  parallel?: number;
}

export interface UpResult {
  ok: boolean;
  /** The operation that failed, and why; or why the `up` was refused before anything ran. */
  failure?: { urn?: string; operation: string; message: string };
  counts: Record<"create" | "update" | "replace" | "delete" | "same" | "read", number>;
  /** Resources recorded without being carried out, and why. */
  notRun: { urn: string; why: string }[];
  state: StackState;
}

const SYMBOL = { create: "+", update: "~", replace: "+-", delete: "-", read: ">", same: "=", record: "=" } as const;

class OperationFailed extends Error {
  constructor(
    readonly urn: string,
    readonly operation: string,
    message: string,
  ) {
    super(message);
  }
}

/** One `up` of `input` over `state`. Never throws for a failed operation: the result says it. */
export async function up(state: StackState, input: UpInput, options: UpOptions): Promise<UpResult> {
  const run = new Run(state, input, options);
  return run.execute();
}

class Run {
  private readonly working: ResourceState[];
  private readonly counts: UpResult["counts"] = { create: 0, update: 0, replace: 0, delete: 0, same: 0, read: 0 };
  private readonly notRun: UpResult["notRun"] = [];
  private readonly print: (line: string) => void;

  constructor(
    private readonly state: StackState,
    private readonly input: UpInput,
    private readonly options: UpOptions,
  ) {
    this.working = structuredClone(state.resources);
    const print = options.print;
    this.print =
      print === undefined
        ? () => undefined
        : (line) => {
            print(line);
          };
  }

  async execute(): Promise<UpResult> {
    const { providers } = this.options;
    const plan = planUp(
      this.state,
      this.input.resources,
      (type, inputs) => providers.get(type)?.deleteBeforeReplace?.(inputs) ?? false,
    );
    const work = [
      ...plan.steps.filter((s) => s.kind !== "same" && s.kind !== "record").map((s) => s.resource.type),
      ...plan.deletes
        .filter((d) => !d.options.retainOnDelete && d.notRun === undefined && !isRecordOnlyState(d))
        .map((d) => d.type),
    ];
    const refusal = this.refusal(plan.refusals, work);
    if (refusal !== undefined) return this.result(refusal);
    this.save(false);
    const failed = await this.runSteps(plan.steps);
    if (failed !== undefined) return this.finish(failed);
    for (const gone of plan.deletes) {
      try {
        await this.remove(gone);
      } catch (error) {
        return this.finish(plain(asFailure(error, gone.urn, "delete")));
      }
    }
    return this.finish(undefined);
  }

  /** A refused `up` does nothing: a protected resource to lose, or a type no provider carries out. */
  private refusal(refusals: string[], types: string[]): UpResult["failure"] {
    if (refusals.length > 0) return { operation: "preview", message: refusals.join("\n") };
    const missing = [...new Set(types.filter((type) => this.options.providers.get(type) === undefined))];
    if (missing.length === 0) return undefined;
    return { operation: "preview", message: new MissingProvider(missing, this.options.providers.types()).message };
  }

  /** Runs the steps as their dependencies allow; the first failure stops new ones from starting. */
  private async runSteps(steps: Step[]): Promise<UpResult["failure"]> {
    const byUrn = new Map(steps.map((s) => [s.resource.urn, s]));
    const done = new Set<string>();
    const pending = [...steps];
    const running = new Set<Promise<void>>();
    let failure: UpResult["failure"];
    const limit = this.options.parallel ?? Number.POSITIVE_INFINITY;
    const ready = (s: Step) => waitsFor(s, byUrn).every((urn) => done.has(urn) || !byUrn.has(urn));
    while (pending.length > 0 || running.size > 0) {
      while (failure === undefined && running.size < limit) {
        const index = pending.findIndex(ready);
        if (index < 0) break;
        const [step] = pending.splice(index, 1);
        if (step === undefined) break;
        const operation: Promise<void> = this.apply(step)
          .then(() => void done.add(step.resource.urn))
          .catch((error: unknown) => {
            failure ??= plain(asFailure(error, step.resource.urn, step.kind));
          })
          .finally(() => running.delete(operation));
        running.add(operation);
      }
      if (running.size === 0) {
        if (failure === undefined && pending.length > 0)
          failure = {
            operation: "preview",
            message: `a dependency cycle among ${pending.map((s) => s.resource.urn).join(", ")}`,
          };
        break;
      }
      await Promise.race(running);
    }
    return failure;
  }

  private async apply(step: Step): Promise<void> {
    const { resource } = step;
    switch (step.kind) {
      case "same":
      case "record":
        this.put(step, step.old, step.old?.id ?? "", step.old?.outputs ?? this.answer(resource)?.outputs ?? {});
        if (step.kind === "same") this.counts.same += 1;
        return;
      case "read":
        return this.timed(step, "read", async (context) => {
          const provider = this.options.providers.require(resource.type);
          if (provider.read === undefined)
            throw new Error(`the twin's provider of ${resource.type} reads no resource by its id`);
          const read = await provider.read(resource.type, resource.readId ?? "", resource.inputs, context);
          this.put(step, step.old, read.id ?? resource.readId ?? "", this.merged(resource, read), read.notRun, true);
        });
      case "create":
        return this.timed(step, "create", async (context) => {
          const made = await this.options.providers.require(resource.type).create(this.operand(step), context);
          this.put(step, undefined, this.idOf(resource, made), this.merged(resource, made), made.notRun);
        });
      case "update":
        return this.timed(step, "update", async (context) => {
          const old = step.old;
          if (old === undefined) throw new Error(`an update of ${resource.urn} without its applied state`);
          const made = await this.options.providers.require(resource.type).update(old, this.operand(step), context);
          this.put(step, old, made.id ?? old.id, this.merged(resource, made, old), made.notRun);
        });
      case "replace":
        return this.replace(step);
    }
  }

  /** Create-before-delete (the old one waits for the deletes at the end), or delete first. */
  private async replace(step: Step): Promise<void> {
    const { resource, old } = step;
    if (old === undefined) throw new Error(`a replacement of ${resource.urn} without its applied state`);
    const provider = this.options.providers.require(resource.type);
    if (step.deleteFirst) await this.remove(old, "delete-replaced");
    await this.timed(step, "create-replacement", async (context) => {
      const made = await provider.create(this.operand(step), context);
      if (!step.deleteFirst) this.markPendingDelete(old);
      this.put(step, undefined, this.idOf(resource, made), this.merged(resource, made), made.notRun);
    });
  }

  /** Deletes (or, with retainOnDelete, only forgets) an applied resource. */
  private async remove(gone: ResourceState, label = "delete"): Promise<void> {
    const start = Date.now();
    const kept = gone.options.retainOnDelete;
    this.print(
      `${SYMBOL.delete} ${gone.type} ${gone.name} ${kept ? "forgetting (retainOnDelete: it stays)" : `${label}...`}`,
    );
    if (!kept && gone.notRun === undefined && !isRecordOnlyState(gone)) {
      try {
        await this.options.providers.require(gone.type).delete(gone, this.context(gone.type, gone.name));
      } catch (error) {
        throw asFailure(error, gone.urn, label);
      }
    }
    const index = this.working.findIndex((r) => sameEntry(r, gone));
    if (index >= 0) this.working.splice(index, 1);
    this.counts.delete += 1;
    this.save(false);
    this.print(`${SYMBOL.delete} ${gone.type} ${gone.name} ${kept ? "forgotten" : "deleted"} (${seconds(start)})`);
  }

  private markPendingDelete(old: ResourceState): void {
    const entry = this.working.find((r) => sameEntry(r, old));
    if (entry !== undefined) entry.pendingDelete = true;
  }

  private async timed(step: Step, label: string, operate: (context: OperationContext) => Promise<void>) {
    const { resource } = step;
    const start = Date.now();
    const why = step.kind === "update" || step.kind === "replace" ? ` [${describe(step)}]` : "";
    this.print(`${SYMBOL[step.kind]} ${resource.type} ${resource.name} ${label}...${why}`);
    try {
      await operate(this.context(resource.type, resource.name));
    } catch (error) {
      this.print(`${SYMBOL[step.kind]} ${resource.type} ${resource.name} ${label} failed: ${messageOf(error)}`);
      throw asFailure(error, resource.urn, label);
    }
    if (step.kind !== "same" && step.kind !== "record") this.counts[step.kind] += 1;
    const recorded = this.working.find((r) => r.urn === resource.urn && !r.pendingDelete);
    const note = recorded?.notRun === undefined ? "" : ` (recorded, not run: ${recorded.notRun})`;
    this.print(`${SYMBOL[step.kind]} ${resource.type} ${resource.name} ${label} done (${seconds(start)})${note}`);
  }

  private context(type: string, name: string): OperationContext {
    return {
      log: (line) => {
        this.print(`    ${type} ${name}: ${line}`);
      },
      applied: (urn) => this.working.find((r) => r.urn === urn && !r.pendingDelete),
    };
  }

  private answer(resource: TargetResource) {
    return this.input.answers?.get(resource.urn);
  }

  private operand(step: Step): ResourceInput {
    const { resource } = step;
    const planned = this.answer(resource);
    return {
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      inputs: step.inputs,
      ...(planned === undefined ? {} : { planned }),
      ...(resource.provider === undefined ? {} : { provider: resource.provider }),
    };
  }

  private idOf(resource: TargetResource, made: Operated): string {
    const id = made.id ?? this.answer(resource)?.id;
    if (id === undefined) throw new Error(`the twin's provider of ${resource.type} gave ${resource.name} no id`);
    return id;
  }

  /**
   * The outputs to record: the planned ones with the provider's over them. The program was run with
   * the planned values, so a provider that answers another value breaks what was planned: that
   * fails the operation, naming the property.
   */
  private merged(resource: TargetResource, made: Operated, old?: ResourceState): Json {
    const planned = this.answer(resource)?.outputs ?? old?.outputs ?? {};
    for (const [key, value] of Object.entries(made.outputs ?? {}))
      if (key in planned && !isDeepStrictEqual(planned[key], value))
        throw new Error(
          `the provider answered ${key} = ${JSON.stringify(value)} but the program was planned with ` +
            `${JSON.stringify(planned[key])}: a twin provider must make its plan-time answer true`,
        );
    return { ...planned, ...(made.outputs ?? {}) };
  }

  /** Records `step`'s resource as applied, in place of `old` (a rename moves it to its new URN). */
  private put(
    step: Step,
    old: ResourceState | undefined,
    id: string,
    outputs: Json,
    notRun?: string,
    external = false,
  ) {
    const { resource } = step;
    const entry: ResourceState = {
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      id,
      custom: resource.custom,
      ...(resource.provider === undefined ? {} : { provider: resource.provider }),
      external,
      inputs: step.inputs,
      outputs,
      dependencies: resource.dependencies,
      options: {
        protect: resource.options.protect,
        retainOnDelete: resource.options.retainOnDelete,
        ignoreChanges: resource.options.ignoreChanges,
        deleteBeforeReplace: resource.options.deleteBeforeReplace,
        replaceOnChanges: resource.options.replaceOnChanges,
      },
      pendingDelete: false,
      ...(notRun === undefined ? {} : { notRun }),
    };
    if (notRun !== undefined) this.notRun.push({ urn: resource.urn, why: notRun });
    const index = old === undefined ? -1 : this.working.findIndex((r) => sameEntry(r, old));
    if (index >= 0) this.working[index] = entry;
    else this.working.push(entry);
    if (step.kind !== "same" && step.kind !== "record") this.save(false);
  }

  private save(finished: boolean): StackState {
    const state: StackState = {
      version: 1,
      resources: this.ordered(),
      outputs: finished ? this.input.outputs : this.state.outputs,
      updates: this.state.updates + 1,
    };
    this.options.save(state);
    return state;
  }

  /**
   * Dependencies before dependents (else the plan's order), then what is still to be deleted: the
   * order Pulumi keeps a checkpoint in.
   */
  private ordered(): ResourceState[] {
    const rank = new Map(this.input.resources.map((r, i) => [r.urn, i]));
    const position = (r: ResourceState) => (r.pendingDelete ? Infinity : (rank.get(r.urn) ?? Infinity));
    const remaining = [...this.working].sort((a, b) => position(a) - position(b));
    const placed = new Set<string>();
    const ordered: ResourceState[] = [];
    while (remaining.length > 0) {
      const waiting = (r: ResourceState) =>
        r.dependencies.some((urn) => !placed.has(urn) && remaining.some((o) => o !== r && o.urn === urn));
      const index = Math.max(
        remaining.findIndex((r) => !waiting(r)),
        0,
      );
      const [next] = remaining.splice(index, 1);
      if (next === undefined) break;
      ordered.push(next);
      placed.add(next.urn);
    }
    return ordered;
  }

  private finish(failure: UpResult["failure"]): UpResult {
    const state = this.save(failure === undefined);
    if (failure !== undefined)
      this.print(
        `error: ${failure.urn === undefined ? "" : `${failure.urn}: `}${failure.operation} failed: ${failure.message}`,
      );
    return this.result(failure, state);
  }

  private result(failure: UpResult["failure"], state: StackState = this.state): UpResult {
    if (failure !== undefined && state === this.state) this.print(`error: ${failure.message}`);
    return {
      ok: failure === undefined,
      ...(failure === undefined ? {} : { failure }),
      counts: this.counts,
      notRun: this.notRun,
      state,
    };
  }
}

/** The URNs a step waits for: its dependencies, its provider resource, and its parent's. */
function waitsFor(step: Step, byUrn: ReadonlyMap<string, Step>): string[] {
  const { resource } = step;
  const parent =
    resource.parent === undefined ? [] : [...byUrn.values()].filter((s) => isParentOf(s.resource, resource));
  return [
    ...resource.dependencies,
    ...(resource.provider === undefined ? [] : [resource.provider]),
    ...parent.map((s) => s.resource.urn),
  ];
}

/** The parent is named by its logical name; its type is the one before the child's in the URN. */
function isParentOf(candidate: TargetResource, child: TargetResource): boolean {
  if (candidate.name !== child.parent) return false;
  const chain = (child.urn.split("::")[2] ?? "").split("$");
  return chain.length >= 2 && chain[chain.length - 2] === candidate.type;
}

const isRecordOnlyState = (r: ResourceState): boolean =>
  !r.custom || r.type.startsWith("pulumi:providers:") || r.type === "pulumi:pulumi:StackReference";

/** One applied resource: a replaced one and its replacement share the URN, never the id. */
const sameEntry = (a: ResourceState, b: ResourceState): boolean => a.urn === b.urn && a.id === b.id;

function describe(step: Step): string {
  if (step.kind === "replace") return `replaced by a change of ${step.replacedBy.join(", ")}`;
  return step.properties.join(", ");
}

const seconds = (start: number): string => `${((Date.now() - start) / 1000).toFixed(1)}s`;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function asFailure(error: unknown, urn: string, operation: string): OperationFailed {
  if (error instanceof OperationFailed) return error;
  return new OperationFailed(urn, operation, messageOf(error));
}

/** A failure as plain data (an Error's message is not an own property JSON keeps). */
function plain(failure: OperationFailed): NonNullable<UpResult["failure"]> {
  return { urn: failure.urn, operation: failure.operation, message: failure.message };
}
