/**
 * The cloud targets as the program drives them, one shape for both: prepare a planned spec with
 * the stack's settings (the pure part is the target's change/target.ts Target), say where a tier
 * transition's report is and read it back, and declare the component with a prepared tier. The
 * program picks the one `zester:target` names and knows nothing else of it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PreparedAws } from "../components/aws/component";
import type { PreparedKubernetes } from "../components/kubernetes/component";
import type { ReconcileDuringTransition } from "../change/cloud-phase";
import type { Deployment } from "../change/deployment";
import type { ReportPlace, TransitionReport } from "../change/phased";
import type { StackIds } from "../change/target";
import type { Planned } from "../topology/prepare";
import { awsProviderDefaults, type StackConfig } from "./config";
import type { AwsOutputs, KubernetesOutputs } from "./outputs";
import { configMapReport, ssmReport } from "./transition-report";

/** What a declared component gives the stack: its outputs under the target's key, and the deployment record. */
export interface Declared {
  outputs: { aws: AwsOutputs } | { kubernetes: KubernetesOutputs };
  deployment: Deployment;
}

export interface StackTarget<P extends CloudPrepared> {
  /** A planned spec on this target, with the stack's settings. Throws SpecError naming the key. */
  prepare(from: Planned): P;
  /** Where the reconcile job reports a transition's data moved (the same place its job is told). */
  reportPlace(prepared: P): ReportPlace;
  /** The report read back before anything is declared; undefined when none has been written. */
  readReport(place: ReportPlace, prepared: P): Promise<TransitionReport | undefined>;
  /** The component, declaring `prepared`'s tier. */
  declare(prepared: P, previous: Deployment | undefined, reconcile: ReconcileDuringTransition | undefined): Declared;
}

/** Either target's preparation. */
export type CloudPrepared = PreparedAws | PreparedKubernetes;
/** Either target, as the program drives it (each takes only its own preparation back). */
export type CloudTarget = StackTarget<CloudPrepared>;

/** The component's name: its children are `zester-…` (aliased to their names from before that prefix). */
export const COMPONENT = "zester";

const stackIds = (): StackIds => ({ stackId: `${pulumi.getProject()}-${pulumi.getStack()}`, component: COMPONENT });

async function awsTarget(
  settings: NonNullable<StackConfig["aws"]>,
  config: Record<string, string>,
): Promise<StackTarget<PreparedAws>> {
  const { prepareAwsPlanned, ZesterAws } = await import("../components/aws/component");
  const { AWS } = await import("../components/aws/target");
  return {
    prepare: (from) => prepareAwsPlanned(from, settings),
    reportPlace: (prepared) => AWS.reportPlace(prepared.settings, stackIds()) ?? noReportPlace("aws"),
    readReport: (place) => ("ssmParameter" in place ? ssmReport(place.ssmParameter, place.region) : wrongPlace(place)),
    declare: (prepared, previous, reconcile) => {
      const aws = new ZesterAws(COMPONENT, {
        prepared,
        providerDefaults: awsProviderDefaults(config),
        stackId: stackIds().stackId,
        aliasUnprefixedChildren: true,
        ...(previous === undefined ? {} : { previousDeployment: previous }),
        ...(reconcile === undefined ? {} : { reconcile }),
      });
      return {
        outputs: {
          aws: {
            clientUrl: aws.clientUrl,
            leafUrls: aws.leafUrls,
            servers: aws.servers,
            peelBootstrap: aws.peelBootstrap,
            peelCredentials: aws.peelCredentials,
            certificateAlertRules: aws.certificateAlertRules,
            checklist: aws.checklist,
          },
        },
        deployment: aws.deployment,
      };
    },
  };
}

async function kubernetesTarget(
  settings: NonNullable<StackConfig["kubernetes"]>,
): Promise<StackTarget<PreparedKubernetes>> {
  const { prepareKubernetesPlanned, ZesterKubernetes } = await import("../components/kubernetes/component");
  const { KUBERNETES } = await import("../components/kubernetes/target");
  return {
    prepare: (from) => prepareKubernetesPlanned(from, settings),
    reportPlace: (prepared) => KUBERNETES.reportPlace(prepared.settings, stackIds()) ?? noReportPlace("kubernetes"),
    readReport: (place) => ("configMap" in place ? configMapReport(place, settings.context) : wrongPlace(place)),
    declare: (prepared, previous, reconcile) => {
      const k8s = new ZesterKubernetes(COMPONENT, {
        prepared,
        aliasUnprefixedChildren: true,
        ...(previous === undefined ? {} : { previousDeployment: previous }),
        ...(reconcile === undefined ? {} : { reconcile }),
      });
      return {
        outputs: {
          kubernetes: {
            clientUrl: k8s.clientUrl,
            namespace: k8s.namespace,
            servers: k8s.servers,
            checklist: k8s.checklist,
            peelConfigs: k8s.peelConfigs,
            peelCredentials: k8s.peelCredentials,
          },
        },
        deployment: k8s.deployment,
      };
    },
  };
}

function noReportPlace(target: string): never {
  throw new Error(`the ${target} target names no place for a tier transition's report`);
}

function wrongPlace(place: ReportPlace): never {
  throw new Error(`a report place this target does not read: ${JSON.stringify(place)}`);
}

/** The target `zester:target` names, with its settings; only its component is loaded (each target's provider SDK is large). */
export async function stackTarget(stack: StackConfig, config: Record<string, string>): Promise<CloudTarget> {
  if (stack.aws !== undefined) return awsTarget(stack.aws, config);
  if (stack.kubernetes !== undefined) return kubernetesTarget(stack.kubernetes);
  throw new Error(`no settings for the ${stack.target} target`);
}
