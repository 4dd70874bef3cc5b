/**
 * The Pulumi program: config in, resources and stack outputs out. `zester:target: aws` builds
 * the tier on EC2 (components/aws), `kubernetes` on a Kubernetes cluster (components/kubernetes).
 */
import * as pulumi from "@pulumi/pulumi";
import { ZesterAws } from "../components/aws/component";
import type { ServerOutput } from "../components/aws/servers";
import type { ChecklistStatus } from "../components/checklist";
import { ZesterKubernetes } from "../components/kubernetes/component";
import { plan, SpecError, type SizingPlan } from "../sizing";
import { awsProviderDefaults, ConfigError, readStackConfig, type StackConfig, type Target } from "./config";

export interface AwsOutputs {
  /** Where peels and tools connect: the internal load balancer's name in the private zone. */
  clientUrl: pulumi.Output<string>;
  /** Where leaf connections come in (leaf sites, other regions), by server. */
  leafUrls: string[];
  servers: ServerOutput[];
  /** `#cloud-config` for a peel host (secret: it holds the peels' password). */
  peelBootstrap: pulumi.Output<string>;
  checklist: ChecklistStatus[];
}

export interface KubernetesOutputs {
  /** The client Service of the (first region's) core cluster. */
  clientUrl: string;
  namespace: string;
  servers: ZesterKubernetes["servers"];
  checklist: ZesterKubernetes["checklist"];
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
}

/** The component's name: its children are `zester-…` (aliased to their names from before that prefix). */
const COMPONENT = "zester";

/** Throws ConfigError (naming the `zester:*` key) before anything is created. */
export function program(config: Record<string, string>): StackOutputs {
  const stack = readStackConfig(config);
  const sizing = checked(() => plan(stack.sizing));
  const outputs: StackOutputs = {
    target: stack.target,
    tier: sizing.tier,
    peels: sizing.peels,
    topology: sizing.topology,
    serversPerCluster: sizing.serversPerCluster,
    totalServers: sizing.totalServers,
    sizing,
  };
  if (stack.aws !== undefined) outputs.aws = awsTarget(stack, stack.aws, config);
  if (stack.kubernetes !== undefined) outputs.kubernetes = kubernetesTarget(stack, stack.kubernetes);
  return outputs;
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
): AwsOutputs {
  const aws = checked(
    () =>
      new ZesterAws(COMPONENT, {
        spec: stack.sizing,
        settings,
        providerDefaults: awsProviderDefaults(config),
        stackId: `${pulumi.getProject()}-${pulumi.getStack()}`,
        aliasUnprefixedChildren: true,
      }),
  );
  return {
    clientUrl: aws.clientUrl,
    leafUrls: aws.leafUrls,
    servers: aws.servers,
    peelBootstrap: aws.peelBootstrap,
    checklist: aws.checklist,
  };
}

function kubernetesTarget(stack: StackConfig, settings: NonNullable<StackConfig["kubernetes"]>): KubernetesOutputs {
  const k8s = checked(
    () => new ZesterKubernetes(COMPONENT, { spec: stack.sizing, settings, aliasUnprefixedChildren: true }),
  );
  return { clientUrl: k8s.clientUrl, namespace: k8s.namespace, servers: k8s.servers, checklist: k8s.checklist };
}
