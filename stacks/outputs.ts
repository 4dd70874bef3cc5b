/** The stack outputs: what `pulumi up` exports and the offline plan prints (`plan --json`'s `outputs`). */
import type * as pulumi from "@pulumi/pulumi";
import type { ServerOutput } from "../components/aws/servers";
import type { ChecklistStatus } from "../components/checklist";
import type { ZesterKubernetes } from "../components/kubernetes/component";
import type { Deployment } from "../change/deployment";
import type { TransitionOutput } from "../change/transition-output";
import type { SizingPlan } from "../sizing";
import type { Target } from "./config";

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
   * step (change/transition-output.ts). Null once the last phase is done; absent when none ran.
   */
  transition?: TransitionOutput | null;
}
