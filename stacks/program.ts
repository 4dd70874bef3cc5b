/**
 * The Pulumi program: config in, resources and stack outputs out. The spec is planned once and
 * prepared once on the target `zester:target` names (stacks/targets.ts: AWS on EC2, Kubernetes);
 * another peel count is prepared only for what a tier transition needs (the tier it starts from,
 * a stack from before the deployment record), each once.
 */
import { transitionPhase, type ReconcileDuringTransition, type TransitionApplied } from "../change/cloud-phase";
import type { Deployment } from "../change/deployment";
import { reportPlaceText } from "../change/phased";
import { SpecError, withPeels } from "../sizing";
import { planned, type Planned } from "../topology/prepare";
import { ConfigError, readStackConfig } from "./config";
import { asLegacy, deployedBySelf, type Deployed } from "./deployed";
import type { StackOutputs } from "./outputs";
import { stackTarget, type CloudPrepared, type CloudTarget, type Declared } from "./targets";

export type { AwsOutputs, KubernetesOutputs, StackOutputs } from "./outputs";

/**
 * Throws ConfigError (naming the `zester:*` key), or ChangeRefused (naming what would be lost),
 * before anything is created. `deployed` reads what the stack deployed last time.
 */
export async function program(
  config: Record<string, string>,
  deployed: () => Promise<Deployed> = deployedBySelf,
): Promise<StackOutputs> {
  const stack = readStackConfig(config);
  const wantedPlan = checked(() => planned(stack.sizing));
  const sizing = wantedPlan.plan;
  const last = await deployed();
  const outputs: StackOutputs = {
    target: stack.target,
    tier: sizing.tier,
    peels: sizing.peels,
    topology: sizing.topology,
    serversPerCluster: sizing.serversPerCluster,
    totalServers: sizing.totalServers,
    sizing,
  };
  const declared = await update(await stackTarget(stack, config), wantedPlan, last);
  Object.assign(outputs, declared.outputs);
  outputs.deployment = declared.deployment;
  if (declared.transition !== undefined) outputs.transition = declared.transition;
  return outputs;
}

/** One update on a target: what runs read back, the phase of a tier transition decided, the component declared. */
async function update(
  target: CloudTarget,
  wantedPlan: Planned,
  last: Deployed,
): Promise<Declared & { transition?: StackOutputs["transition"] }> {
  const at = preparations(target, wantedPlan);
  const previous = checked(() => previousOf(last, (peels) => at(peels).deployment));
  const wanted = checked(() => at(wantedPlan.plan.peels));
  const place = target.reportPlace(wanted);
  const phase = await checkedAsync(() =>
    transitionPhase({
      wantedPeels: wantedPlan.plan.peels,
      previous,
      lastTransition: last.transition,
      prepare: at,
      readReport: () => target.readReport(place, wanted),
      reportAt: reportPlaceText(place),
    }),
  );
  const declared = checked(() =>
    target.declare(phase.kind === "phase" ? phase.prepared : wanted, previous, reconcileOf(phase)),
  );
  return { ...declared, ...(phase.output === undefined ? {} : { transition: phase.output }) };
}

/**
 * The target's preparation of each peel count this update needs, each made once: the wanted spec
 * at that count. SpecError when the settings do not describe it (the transition's decision reads
 * that of the tier it would start from; everywhere else it is refused config).
 */
function preparations(target: CloudTarget, wanted: Planned): (peels: number) => CloudPrepared {
  const made = new Map<number, CloudPrepared>();
  return (peels) => {
    const kept = made.get(peels);
    if (kept !== undefined) return kept;
    const from = peels === wanted.plan.peels ? wanted : planned(withPeels(wanted.spec, peels));
    const prepared = target.prepare(from);
    made.set(peels, prepared);
    return prepared;
  };
}

const reconcileOf = (phase: TransitionApplied<CloudPrepared>): ReconcileDuringTransition | undefined =>
  phase.kind === "phase" ? phase.reconcile : undefined;

/** What is deployed: the record, or for a stack from before it, the same settings at its last peel count. */
function previousOf(last: Deployed, rebuild: (peels: number) => Deployment): Deployment | undefined {
  if (last.deployment !== undefined) return last.deployment;
  return last.legacyPeels === undefined ? undefined : asLegacy(rebuild(last.legacyPeels));
}

/** Input the components refuse is refused config: the same problems, named as `zester:*` keys. */
function checked<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof SpecError) throw new ConfigError(error.problems);
    throw error;
  }
}

async function checkedAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof SpecError) throw new ConfigError(error.problems);
    throw error;
  }
}
