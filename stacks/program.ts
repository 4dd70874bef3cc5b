/**
 * The Pulumi program: config in, resources and stack outputs out. `zester:target: aws` builds
 * the tier on EC2 (components/aws), `kubernetes` on a Kubernetes cluster (components/kubernetes).
 */
import * as pulumi from "@pulumi/pulumi";
import { awsLayout } from "../components/aws/layout";
import { ZesterAws, type ServerOutput } from "../components/aws/topology";
import type { ChecklistStatus } from "../components/checklist";
import { kubernetesAddressing, kubernetesLayout } from "../components/kubernetes/manifests";
import { ZesterKubernetes } from "../components/kubernetes/topology";
import { plan, SpecError, type SizingPlan } from "../sizing";
import { build, standardAddressing } from "../topology";
import { ConfigError, readStackConfig, type Target } from "./config";
import { reconcileBundle } from "./reconcile-bundle";

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

/** Throws ConfigError (naming the `zester:*` key) before anything is created. */
export function program(config: Record<string, string>): StackOutputs {
  const stack = readStackConfig(config);
  const checked = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof SpecError) throw new ConfigError(error.problems);
      throw error;
    }
  };
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
  const settings = stack.aws;
  if (stack.target === "aws" && settings !== undefined) {
    const topology = build(sizing, standardAddressing(settings.dnsZone));
    const layout = checked(() => awsLayout(topology, settings));
    const aws = new ZesterAws("zester", {
      topology,
      layout,
      settings,
      reconcileCode: reconcileBundle(),
      stackId: `${pulumi.getProject()}-${pulumi.getStack()}`,
    });
    outputs.aws = {
      clientUrl: aws.clientUrl,
      leafUrls: aws.leafUrls,
      servers: aws.servers,
      peelBootstrap: aws.peelBootstrap,
      checklist: aws.checklist,
    };
  }
  const k8sSettings = stack.kubernetes;
  if (stack.target === "kubernetes" && k8sSettings !== undefined) {
    const topology = build(
      sizing,
      kubernetesAddressing({ core: k8sSettings.namespace, leaf: k8sSettings.leafNamespace }),
    );
    const layout = checked(() => kubernetesLayout(topology, k8sSettings));
    const k8s = new ZesterKubernetes("zester", {
      topology,
      layout,
      settings: k8sSettings,
      reconcileCode: reconcileBundle(),
    });
    outputs.kubernetes = {
      clientUrl: k8s.clientUrl,
      namespace: k8s.namespace,
      servers: k8s.servers,
      checklist: k8s.checklist,
    };
  }
  return outputs;
}
