/**
 * Tier transitions on the local target: `up --peels N` on a running topology plans the move to
 * N's tier (change/transition.ts) and carries its steps out on the running servers, one after
 * the other, each waiting for what it names; `transition --peels N` only plans. Every step done
 * is written to the state file, so an `up` that stopped half way resumes where it stopped.
 */
import { performance } from "node:perf_hooks";
import { status, waitHealthy, type StatusReport } from "../jetstream/health";
import { withPeels } from "../sizing";
import { planned, prepare } from "../topology/prepare";
import { ChangeRefused } from "../change/change";
import { planTransition } from "../change/plan-transition";
import type { Transition, TransitionStep } from "../change/transition";
import type { Topology } from "../topology/types";
import { addressBookOf, type AddressBook } from "./address-book";
import { ensureCertificates } from "./certificates";
import { PORTS_PER_SERVER } from "./addressing";
import { reconcileLocal } from "./kv";
import { freePorts } from "./ports";
import { isAlive, preparedOf, RefusedError } from "./runner";
import { readState, writeState, type LocalState } from "./state";
import { LOCAL, localAddressing } from "./target";
import { StepFaults, type TransitionFault } from "./transition-faults";
import { makeSafe } from "./transition-safety";
import { EXECUTORS, type StepContext } from "./transition-steps";
import type { LocalRun } from "./transition-servers";

export interface LocalTransitionPlan {
  transition: Transition;
  from: Topology;
  to: Topology;
}

/** What each tier runs, as the local target records it (reload and restart keys, stores): what the planner compares. */
function describe(state: LocalState, stateDir: string, t: Topology) {
  const settings = { stateDir, state, freePorts: [] };
  return LOCAL.deployment(t, LOCAL.layout(t, settings), settings);
}

function loadRunning(stateDir: string): LocalState {
  const state = readState(stateDir);
  if (state === undefined) throw new RefusedError(`nothing is up in ${stateDir}: start a tier with \`up\` first`);
  return state;
}

/**
 * The current and the wanted topology, and the transition between them. Servers both have keep
 * their ports; new servers and listeners get free ones (the same ones again when a transition
 * that stopped half way resumes: they are in the state file by then).
 */
export async function planLocal(stateDir: string, peels: number): Promise<LocalTransitionPlan> {
  const state = loadRunning(stateDir);
  if (state.transition !== undefined && state.transition.peels !== peels)
    throw new RefusedError(
      `a transition to ${String(state.transition.peels)} peels is under way (${String(state.transition.done.length)} steps done): run \`up --peels ${String(state.transition.peels)}\` to finish it first`,
    );
  const current = preparedOf(state);
  const from = current.topology;
  // The regions and overrides the directory was started with carry over: nothing declared is dropped.
  const wanted = planned(withPeels(current.spec, peels));
  const book = { ...(state.addresses ?? addressBookOf(from)) };
  const free = await freePorts(wanted.plan.totalServers * PORTS_PER_SERVER);
  const to = prepare(wanted, localAddressing({ addresses: book, freePorts: free })).topology;
  const input = { from, to, deployed: describe(state, stateDir, from), wanted: describe(state, stateDir, to) };
  return { transition: planTransition(input), from, to };
}

export interface StepRun {
  id: string;
  kind: TransitionStep["kind"];
  phase: TransitionStep["phase"];
  ms: number;
  result: string;
}

export interface LocalTransitionRun {
  transition: Transition;
  steps: StepRun[];
  /** From the first step until the wanted tier was healthy with its buckets reconciled. */
  totalMs: number;
  report: StatusReport;
  /** The state file as the transition left it: the wanted tier's. */
  state: LocalState;
}

export interface TransitionOptions {
  stateDir: string;
  peels: number;
  healthTimeoutMs?: number;
  /** Called as each step starts and ends (the CLI prints it). */
  onStep?: (step: TransitionStep, done?: StepRun) => void;
  /** A line of progress within a step (a copy's). */
  onProgress?: (line: string) => void;
  /** A failure to inject (tests; the CLI reads it from ZESTER_TRANSITION_FAULT). */
  fault?: TransitionFault;
}

/**
 * A step failed: the fleet takes writes again (`safe` says how), and `up --peels N` resumes. The
 * message says which step, what failed, what was done and how to resume.
 */
export class TransitionFailed extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
    readonly safe: string,
    readonly peels: number,
  ) {
    super(
      `step ${step} failed: ${cause instanceof Error ? cause.message : String(cause)}\n` +
        `${safe}\n` +
        `Resume with \`npm run -s local -- up --peels ${String(peels)}\` (done steps are skipped; the failed one runs again).`,
    );
  }
}

/** The two topologies' ports together, server by server (a server both have keeps its current listeners too). */
function mergedBook(from: Topology, to: Topology): AddressBook {
  const book: AddressBook = { ...addressBookOf(from) };
  for (const [name, ports] of Object.entries(addressBookOf(to))) book[name] = { ...book[name], ...ports };
  return book;
}

/**
 * Lets writes in again where a step (of this run or one that died) held them, and writes down what
 * failed. Returns what was done, for the message.
 */
export async function recover(
  stateDir: string,
  planned: LocalTransitionPlan,
  failure: { step: string; error: string },
  healthTimeoutMs = 60_000,
): Promise<string> {
  const state = loadRunning(stateDir);
  const run: LocalRun = { stateDir, state };
  let safe: string;
  try {
    safe =
      (await makeSafe({ run, from: planned.from, to: planned.to, transition: planned.transition, healthTimeoutMs })) ??
      "writes were not stopped: the fleet takes them as before";
  } catch (error) {
    safe = `letting writes in again failed too (${error instanceof Error ? error.message : String(error)}); \`up --peels ${String(planned.transition.to.peels)}\` tries again`;
  }
  if (state.transition !== undefined) {
    state.transition.failed = { ...failure, safe, at: new Date().toISOString() };
    delete state.transition.pid;
    writeState(stateDir, state);
  }
  return safe;
}

/** Plans the transition to `peels` and runs it; ChangeRefused when it cannot be made safely. */
export async function runLocalTransition(options: TransitionOptions): Promise<LocalTransitionRun> {
  const { stateDir, peels } = options;
  const healthTimeoutMs = options.healthTimeoutMs ?? 60_000;
  const planned = await planLocal(stateDir, peels);
  const { transition } = planned;
  if (transition.refused.length > 0) throw new ChangeRefused(transition.refused);
  // A run that died while it held writes (killed, its machine restarted): let them in first.
  if (loadRunning(stateDir).transition?.hold !== undefined)
    await recover(
      stateDir,
      planned,
      { step: loadRunning(stateDir).transition?.step ?? "?", error: "the process carrying the transition out ended" },
      healthTimeoutMs,
    );
  const state = loadRunning(stateDir);
  const staged = new Set(Object.keys(state.transition?.staging ?? {}));
  const stopped = state.servers.filter((s) => !isAlive(s.pid, s.confPath) && !staged.has(s.name)).map((s) => s.name);
  if (stopped.length > 0 && state.transition === undefined)
    throw new RefusedError(
      `${stopped.join(", ")} ${stopped.length === 1 ? "is" : "are"} not running: a transition starts from a running tier (\`up\` at ${String(state.peels)} peels first)`,
    );
  const run: LocalRun = { stateDir, state };
  // New servers' ports go into the state before any of them starts, so `status`, `down` and a
  // resumed run see the same addresses.
  state.addresses = mergedBook(planned.from, planned.to);
  state.transition = {
    peels,
    done: [...(state.transition?.done ?? [])],
    staging: state.transition?.staging ?? {},
    pid: process.pid,
  };
  writeState(stateDir, state);
  // Servers and links the wanted tier adds get their certificates from the same CA first.
  await ensureCertificates(stateDir, planned.to);

  const started = performance.now();
  const steps: StepRun[] = [];
  for (const step of transition.steps) {
    const record = state.transition;
    if (record.done.includes(step.id)) continue;
    record.step = step.id;
    writeState(stateDir, state);
    options.onStep?.(step);
    const faults = new StepFaults(options.fault, step.id);
    const ctx: StepContext = {
      run,
      from: planned.from,
      to: planned.to,
      healthTimeoutMs: faults.waitMs(healthTimeoutMs),
      faults,
      report: (line) => options.onProgress?.(line),
    };
    const t0 = performance.now();
    let result: string;
    try {
      ctx.faults.at("start");
      result = await EXECUTORS[step.kind](ctx, step);
    } catch (error) {
      const safe = await recover(stateDir, planned, { step: step.id, error: String(error) }, healthTimeoutMs);
      throw new TransitionFailed(step.id, error, safe, peels);
    }
    const stepRun: StepRun = { id: step.id, kind: step.kind, phase: step.phase, ms: performance.now() - t0, result };
    steps.push(stepRun);
    options.onStep?.(step, stepRun);
    record.done.push(step.id);
    writeState(stateDir, state);
  }
  finish(run, planned.to);
  // The wanted tier whole: every server healthy, the buckets at its limits (a copy carried the
  // old tier's, and a single server's restart loses its memory-backed bucket).
  await waitHealthy(planned.to, healthTimeoutMs);
  await reconcileLocal(planned.to, state);
  const report = await status(planned.to);
  return { transition, steps, totalMs: performance.now() - started, report, state };
}
/** The state says the wanted tier runs: its peels, its servers in its order, only its ports. */
function finish(run: LocalRun, to: Topology): void {
  const { state } = run;
  const order = new Map(to.servers.map((s, i) => [s.name, i]));
  state.peels = to.plan.peels;
  state.tier = to.tier;
  state.serversPerCluster = to.plan.serversPerCluster;
  state.addresses = addressBookOf(to);
  state.servers = state.servers
    .filter((s) => order.has(s.name))
    .sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  delete state.transition;
  writeState(run.stateDir, state);
}
