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
import { addressBookOf } from "./address-book";
import { ensureCertificates } from "./certificates";
import { PORTS_PER_SERVER } from "./addressing";
import { reconcileLocal } from "./kv";
import { freePorts } from "./ports";
import { isAlive, preparedOf, RefusedError } from "./runner";
import { readState, writeState, type LocalState } from "./state";
import { LOCAL, localAddressing } from "./target";
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
}

/** Plans the transition to `peels` and runs it; ChangeRefused when it cannot be made safely. */
export async function runLocalTransition(options: TransitionOptions): Promise<LocalTransitionRun> {
  const { stateDir, peels } = options;
  const planned = await planLocal(stateDir, peels);
  const { transition } = planned;
  if (transition.refused.length > 0) throw new ChangeRefused(transition.refused);
  const state = loadRunning(stateDir);
  const stopped = state.servers.filter((s) => !isAlive(s.pid, s.confPath)).map((s) => s.name);
  if (stopped.length > 0)
    throw new RefusedError(
      `${stopped.join(", ")} ${stopped.length === 1 ? "is" : "are"} not running: a transition starts from a running tier (\`up\` at ${String(state.peels)} peels first)`,
    );
  const run: LocalRun = { stateDir, state };
  const done = [...(state.transition?.done ?? [])];
  // New servers' ports go into the state before any of them starts, so `status`, `down` and a
  // resumed run see the same addresses.
  state.addresses = { ...addressBookOf(planned.from), ...addressBookOf(planned.to) };
  state.transition = { peels, done };
  writeState(stateDir, state);
  // Servers and links the wanted tier adds get their certificates from the same CA first.
  await ensureCertificates(stateDir, planned.to);

  const ctx: StepContext = {
    run,
    from: planned.from,
    to: planned.to,
    healthTimeoutMs: options.healthTimeoutMs ?? 60_000,
  };
  const started = performance.now();
  const steps: StepRun[] = [];
  for (const step of transition.steps) {
    if (done.includes(step.id)) continue;
    options.onStep?.(step);
    const t0 = performance.now();
    const result = await EXECUTORS[step.kind](ctx, step);
    const stepRun: StepRun = { id: step.id, kind: step.kind, phase: step.phase, ms: performance.now() - t0, result };
    steps.push(stepRun);
    options.onStep?.(step, stepRun);
    done.push(step.id);
    state.transition = { peels, done };
    writeState(stateDir, state);
  }
  finish(run, planned.to);
  // The wanted tier whole: every server healthy, the buckets at its limits (a copy carried the
  // old tier's, and a single server's restart loses its memory-backed bucket).
  await waitHealthy(planned.to, ctx.healthTimeoutMs);
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
