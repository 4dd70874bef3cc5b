/**
 * `zester:kubernetes:Topology`: a planned Zester topology on Kubernetes, one Kubernetes cluster
 * per region. Everything is decided first, in pure code (plan, topology, layout, objects), so bad
 * input is refused before any resource exists; then the objects are declared, plus the ones that
 * hold passwords and the KV reconcile.
 */
import { PEEL_CREDENTIALS } from "../../topology/render/peel-bootstrap";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { plan as planSizing, type SizingPlan, type SizingSpecInput } from "../../sizing";
import { build } from "../../topology";
import { checkChange, type ChangePlan } from "../../topology/change";
import type { Deployment } from "../../topology/deployment";

import { peelConfig } from "../../topology/render/zester-config";
import type { Topology } from "../../topology/types";
import type { ChecklistStatus } from "../checklist";
import { Children } from "../children";
import { Deferred } from "../deferred";
import { shippedReconcileCode } from "../reconcile-code";
import type { ReconcileDuringTransition } from "../transition";
import { stackTls } from "../certificates";
import { configIdentities, generatedIdentities, issuedPeelCreds } from "../identities";
import { resolveKubernetesSettings, type KubernetesSettingsArgs } from "./args";
import { kubernetesChecklist } from "./checklist";
import { kubernetesAddressing, kubernetesDeployment, kubernetesLayout, type KubernetesLayout } from "./layout";
import type { KubernetesSettings } from "./settings";
import { certificateAlerts, declareRegion, peelSecretName, type K8sScope } from "./region";
import { setOf } from "./objects";

export interface ZesterKubernetesArgs {
  /** How many peels, and the optional regions, leaf sites and overrides (what `plan()` takes). */
  spec: SizingSpecInput;
  /** The Kubernetes target's settings (`zester:kubernetes`; see docs/kubernetes.md). Images may be outputs. */
  settings: KubernetesSettingsArgs;
  /** Labels every object carries, under this project's own. @default none */
  labels?: Record<string, string>;
  /**
   * Providers of the supercluster regions after the first, by Zester region name (the first
   * region uses the component's `provider`/`providers` option). @default one per region from its `context`
   */
  regionProviders?: Record<string, pulumi.ProviderResource>;
  /** The bundled KV reconcile. @default the bundle shipped with this package */
  reconcileCode?: string;
  /**
   * Stacks created before children were named `${name}-…` (this repository's own program):
   * alias every child to its old name, so nothing is replaced. @default false
   */
  aliasUnprefixedChildren?: boolean;
  /**
   * What is deployed now (this component's `deployment` from the last update). A change that
   * would lose JetStream data or quorum is then refused (ChangeRefused) before anything is
   * created. @default none: nothing to compare, everything is new
   */
  previousDeployment?: Deployment;
  /**
   * A tier transition under way: the tier whose buckets the KV reconcile job keeps until its
   * data-moving phase, and that phase's steps, which the job carries out and then reports in the
   * ConfigMap `zester-transition` (docs/kubernetes.md). @default none
   */
  reconcile?: ReconcileDuringTransition;
}

export interface PreparedKubernetes {
  settings: KubernetesSettings;
  plan: SizingPlan;
  topology: Topology;
  layout: KubernetesLayout;
  deployment: Deployment;
}

/** Everything the component decides before it declares a resource. Pure; throws SpecError naming the key. */
export function prepareKubernetes(
  args: Pick<ZesterKubernetesArgs, "spec" | "settings">,
  deferred = new Deferred(),
): PreparedKubernetes {
  const settings = resolveKubernetesSettings(args.settings, deferred);
  const plan = planSizing(args.spec);
  const topology = build(plan, kubernetesAddressing({ core: settings.namespace, leaf: settings.leafNamespace }));
  const layout = kubernetesLayout(topology, settings);
  return { settings, plan, topology, layout, deployment: kubernetesDeployment(topology, layout, settings) };
}

export class ZesterKubernetes extends pulumi.ComponentResource {
  public readonly plan: SizingPlan;
  public readonly topology: Topology;
  /** The client Service of the (first region's) core cluster. */
  public readonly clientUrl: string;
  public readonly namespace: string;
  public readonly servers: { name: string; region: string; namespace: string; dnsName: string }[];
  public readonly checklist: ChecklistStatus[];
  /**
   * A peel's config by where peels are: `core` (each region's name in a supercluster) and each
   * leaf site, through the set's client Service (names that resolve inside the cluster; peels
   * elsewhere need that Service exposed). No secret: a peel's credentials are its own.
   */
  public readonly peelConfigs: pulumi.Output<Record<string, string>>;
  /** The Secret (`<namespace>/zester-peel-<id>`) holding each issued peel's credentials, by id. */
  public readonly peelCredentials: Record<string, string>;
  /** What this deploys, for the next update to compare against (no secrets). */
  public readonly deployment: Deployment;
  /** What happens to each server in this update. */
  public readonly change: ChangePlan;

  constructor(name: string, args: ZesterKubernetesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zester:kubernetes:Topology", name, {}, opts);
    const deferred = new Deferred();
    const { settings, plan, topology, layout, deployment } = prepareKubernetes(args, deferred);
    this.plan = plan;
    this.topology = topology;
    this.deployment = deployment;
    this.change = checkChange(args.previousDeployment, deployment);
    const children = new Children({
      component: name,
      parent: this,
      ...(args.aliasUnprefixedChildren === undefined ? {} : { aliasUnprefixed: args.aliasUnprefixedChildren }),
    });
    const identities = generatedIdentities(children, settings.peelCredentials);
    const scope: K8sScope = {
      children,
      deferred,
      topology: this.topology,
      layout,
      settings,
      identities,
      configIdentities: configIdentities(identities, this.topology, settings.revokedPeels),
      peelCreds: issuedPeelCreds(identities),
      tls: stackTls(children, this.topology, `${pulumi.getProject()}-${pulumi.getStack()}`),
      labels: args.labels ?? {},
      reconcileCode: args.reconcileCode ?? shippedReconcileCode(),
      reconcile: args.reconcile ?? {},
    };
    const providers = layout.regions.map((region, index) => {
      const given = index === 0 ? this.getProvider("kubernetes::Provider") : args.regionProviders?.[region.region];
      const provider = given ?? regionProvider(scope, region.region, region.context);
      declareRegion(scope, region, provider);
      return provider;
    });
    // Once every region's certificates are issued: their expiry alerts, next to the first region's.
    const first = providers[0];
    if (first !== undefined) certificateAlerts(scope, first);
    const t = this.topology;
    this.namespace = settings.namespace;
    this.clientUrl = `nats://${setOf(t.clusters[0]?.servers[0] ?? "core")}-clients.${settings.namespace}.svc.cluster.local:4222`;
    this.servers = t.servers.map((x) => ({
      name: x.name,
      region: x.region,
      namespace: x.role === "leaf" ? settings.leafNamespace : settings.namespace,
      dnsName: x.host,
    }));
    this.checklist = kubernetesChecklist(t, settings, layout.storageClass);
    this.peelConfigs = peelConfigs(t, settings);
    this.peelCredentials = Object.fromEntries(
      settings.peelCredentials.map((peel) => [peel, `${settings.namespace}/${peelSecretName(peel)}`]),
    );
    this.registerOutputs({
      clientUrl: this.clientUrl,
      namespace: this.namespace,
      servers: this.servers,
      checklist: this.checklist,
      peelConfigs: this.peelConfigs,
      peelCredentials: this.peelCredentials,
      deployment: this.deployment,
    });
  }
}

function peelConfigs(t: Topology, s: KubernetesSettings): pulumi.Output<Record<string, string>> {
  const service = (set: string, namespace: string) => `nats://${set}-clients.${namespace}.svc.cluster.local:4222`;
  const supercluster = t.plan.regions.length > 1;
  const places = t.plan.regions.flatMap((region) => {
    const core = service(setOf(t.clusters.find((c) => c.region === region.name)?.servers[0] ?? "core"), s.namespace);
    return [
      { key: supercluster ? region.name : "core", region: region.name, site: undefined, servers: [core] },
      ...t.leafSites
        .filter((site) => site.region === region.name)
        .map((site) => ({
          key: site.name,
          region: region.name,
          site: site.name,
          servers: [service(setOf(site.servers[0] ?? `leaf-${site.name}`), s.leafNamespace), core],
        })),
    ];
  });
  return pulumi.output(
    Object.fromEntries(
      places.map((p) => [
        p.key,
        peelConfig(
          t,
          { region: p.region, ...(p.site === undefined ? {} : { site: p.site }) },
          PEEL_CREDENTIALS,
          p.servers,
        ),
      ]),
    ),
  );
}

/**
 * A provider for a region's Kubernetes cluster, from its kubeconfig context (the current one when
 * absent). Secrets and ConfigMaps mutable: without it the provider replaces the named `nats-config`
 * Secret (delete, then create) on every config change, though the reloader applies it in place.
 */
function regionProvider(scope: K8sScope, region: string, context: string | undefined): pulumi.ProviderResource {
  return scope.children.make(`k8s-${region}`, {}, (name, opts) => {
    return new k8s.Provider(
      name,
      {
        ...(context === undefined ? {} : { context }),
        enableServerSideApply: true,
        enableSecretMutable: true,
        enableConfigMapMutable: true,
      },
      opts,
    );
  });
}
