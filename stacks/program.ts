/**
 * The Pulumi program: config in, resources and stack outputs out. `zester:target: aws` builds
 * the tier on EC2 (components/aws), `kubernetes` on a Kubernetes cluster (components/kubernetes).
 */
import * as pulumi from "@pulumi/pulumi";
import { prepareAws, ZesterAws } from "../components/aws/component";
import type { ServerOutput } from "../components/aws/servers";
import type { ChecklistStatus } from "../components/checklist";
import { prepareKubernetes, ZesterKubernetes } from "../components/kubernetes/component";
import type { Deployment } from "../topology/deployment";
import type { TransitionReport } from "../topology/phased";
import type { TransitionOutput } from "../topology/transition-output";
import { transitionReportParameter, type ReconcileDuringTransition } from "../components/transition";
import { asLegacy, deployedBySelf, type Deployed } from "./deployed";
import { transitionPhase, type TransitionApplied, type Prepared } from "./transition";
import { configMapReport, ssmReport } from "./transition-report";
import { plan, SpecError, type SizingPlan } from "../sizing";
import { awsProviderDefaults, ConfigError, readStackConfig, type StackConfig, type Target } from "./config";

export interface AwsOutputs {
  /** Where peels and tools connect: the internal load balancer's name in the private zone. */
  clientUrl: pulumi.Output<string>;
  /** Where leaf connections come in (leaf sites, other regions), by server. */
  leafUrls: string[];
  servers: ServerOutput[];
  /** `#cloud-config` for a peel host, by where the peels are (`core`, each leaf site); no secret (a peel's credentials are its own). */
  peelBootstrap: pulumi.Output<Record<string, string>>;
  /** The SecureString parameter holding each issued peel's credentials (`zester:aws.peelCredentials`), by id. */
  peelCredentials: Record<string, string>;
  /** Prometheus alert rules: before any certificate of the stack expires. */
  certificateAlertRules: pulumi.Output<string>;
  checklist: ChecklistStatus[];
}

export interface KubernetesOutputs {
  /** The client Service of the (first region's) core cluster. */
  clientUrl: string;
  namespace: string;
  servers: ZesterKubernetes["servers"];
  checklist: ZesterKubernetes["checklist"];
  /** A peel's config by where peels are (`core`, each leaf site); no secret (a peel's credentials are its own). */
  peelConfigs: ZesterKubernetes["peelConfigs"];
  /** The Secret (`<namespace>/<name>`) holding each issued peel's credentials (`zester:kubernetes.peelCredentials`), by id. */
  peelCredentials: ZesterKubernetes["peelCredentials"];
}

export interface StackOutputs {
  target: Target;
  tier: SizingPlan["tier"];
  peels: number;
  topology: SizingPlan["topology"];
  serversPerCluster: number;
  totalServers: number;
  /** The whole sizing plan, as the calculator's `--json` prints it. */
  sizing: SizingPlan;
  aws?: AwsOutputs;
  kubernetes?: KubernetesOutputs;
  /** What this update deploys, read back by the next one before it changes anything (no secrets). */
  deployment?: Deployment;
  /**
   * A tier transition under way: the phase this update applied, what the next one waits for, every
   * step (topology/transition-output.ts). Null once the last phase is done; absent when none ran.
   */
  transition?: TransitionOutput | null;
}

/** The component's name: its children are `zester-…` (aliased to their names from before that prefix). */
const COMPONENT = "zester";

/**
 * Throws ConfigError (naming the `zester:*` key), or ChangeRefused (naming what would be lost),
 * before anything is created. `deployed` reads what the stack deployed last time.
 */
export async function program(
  config: Record<string, string>,
  deployed: () => Promise<Deployed> = deployedBySelf,
): Promise<StackOutputs> {
  const stack = readStackConfig(config);
  const sizing = checked(() => plan(stack.sizing));
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
  if (stack.aws !== undefined) {
    const settings = stack.aws;
    const prepare = (peels: number) => checked(() => prepareAws({ spec: { ...stack.sizing, peels }, settings }));
    const previous = previousOf(last, (peels) => prepare(peels).deployment);
    const region = prepare(sizing.peels).settings.region;
    const parameter = transitionReportParameter(`${pulumi.getProject()}-${pulumi.getStack()}`, COMPONENT);
    const phase = await phaseOf(sizing.peels, previous, last, prepare, {
      read: () => ssmReport(parameter, region),
      at: `SSM parameter ${parameter} in ${region}`,
    });
    const aws = awsTarget(withPeels(stack, phase), settings, config, previous, reconcileOf(phase));
    outputs.aws = aws.outputs;
    outputs.deployment = aws.deployment;
    if (phase.output !== undefined) outputs.transition = phase.output;
  }
  if (stack.kubernetes !== undefined) {
    const settings = stack.kubernetes;
    const prepare = (peels: number) => checked(() => prepareKubernetes({ spec: { ...stack.sizing, peels }, settings }));
    const previous = previousOf(last, (peels) => prepare(peels).deployment);
    const namespace = prepare(sizing.peels).settings.namespace;
    const phase = await phaseOf(sizing.peels, previous, last, prepare, {
      read: () => configMapReport(namespace, settings.context),
      at: `ConfigMap ${namespace}/zester-transition, key report`,
    });
    const k8s = kubernetesTarget(withPeels(stack, phase), settings, previous, reconcileOf(phase));
    outputs.kubernetes = k8s.outputs;
    outputs.deployment = k8s.deployment;
    if (phase.output !== undefined) outputs.transition = phase.output;
  }
  return outputs;
}

/** The phase of a tier transition this update applies (stacks/transition.ts), or none. */
function phaseOf<P extends Prepared>(
  wantedPeels: number,
  previous: Deployment | undefined,
  last: Deployed,
  prepare: (peels: number) => P,
  report: { read: () => Promise<TransitionReport | undefined>; at: string },
): Promise<TransitionApplied<P>> {
  return transitionPhase({
    wantedPeels,
    previous,
    lastTransition: last.transition,
    prepare,
    readReport: report.read,
    reportAt: report.at,
  });
}

/** The stack as this update declares it: a transition's phase may declare the tier it starts from. */
function withPeels(stack: StackConfig, phase: TransitionApplied<Prepared>): StackConfig {
  return phase.kind === "phase" ? { ...stack, sizing: { ...stack.sizing, peels: phase.peels } } : stack;
}

const reconcileOf = (phase: TransitionApplied<Prepared>): ReconcileDuringTransition | undefined =>
  phase.kind === "phase" ? phase.reconcile : undefined;

/** What is deployed: the record, or for a stack from before it, the same settings at its last peel count. */
function previousOf(last: Deployed, rebuild: (peels: number) => Deployment): Deployment | undefined {
  if (last.deployment !== undefined) return last.deployment;
  return last.legacyPeels === undefined ? undefined : asLegacy(checked(() => rebuild(last.legacyPeels ?? 0)));
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

function awsTarget(
  stack: StackConfig,
  settings: NonNullable<StackConfig["aws"]>,
  config: Record<string, string>,
  previousDeployment: Deployment | undefined,
  reconcile: ReconcileDuringTransition | undefined,
): { outputs: AwsOutputs; deployment: Deployment } {
  const aws = checked(
    () =>
      new ZesterAws(COMPONENT, {
        spec: stack.sizing,
        settings,
        providerDefaults: awsProviderDefaults(config),
        stackId: `${pulumi.getProject()}-${pulumi.getStack()}`,
        aliasUnprefixedChildren: true,
        ...(previousDeployment === undefined ? {} : { previousDeployment }),
        ...(reconcile === undefined ? {} : { reconcile }),
      }),
  );
  return {
    outputs: {
      clientUrl: aws.clientUrl,
      leafUrls: aws.leafUrls,
      servers: aws.servers,
      peelBootstrap: aws.peelBootstrap,
      peelCredentials: aws.peelCredentials,
      certificateAlertRules: aws.certificateAlertRules,
      checklist: aws.checklist,
    },
    deployment: aws.deployment,
  };
}

function kubernetesTarget(
  stack: StackConfig,
  settings: NonNullable<StackConfig["kubernetes"]>,
  previousDeployment: Deployment | undefined,
  reconcile: ReconcileDuringTransition | undefined,
): { outputs: KubernetesOutputs; deployment: Deployment } {
  const k8s = checked(
    () =>
      new ZesterKubernetes(COMPONENT, {
        spec: stack.sizing,
        settings,
        aliasUnprefixedChildren: true,
        ...(previousDeployment === undefined ? {} : { previousDeployment }),
        ...(reconcile === undefined ? {} : { reconcile }),
      }),
  );
  return {
    outputs: {
      clientUrl: k8s.clientUrl,
      namespace: k8s.namespace,
      servers: k8s.servers,
      checklist: k8s.checklist,
      peelConfigs: k8s.peelConfigs,
      peelCredentials: k8s.peelCredentials,
    },
    deployment: k8s.deployment,
  };
}
