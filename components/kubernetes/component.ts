/**
 * `zester:kubernetes:Topology`: a planned Zester topology on Kubernetes, one Kubernetes cluster
 * per region. Everything is decided first, in pure code (plan, topology, layout, objects), so bad
 * input is refused before any resource exists; then the objects are declared, plus the ones that
 * hold passwords and the KV reconcile.
 */
import { PEEL_CREDENTIALS } from "../../topology/render/peel-bootstrap";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { SizingPlan, SizingSpecInput } from "../../sizing";
import { planned, type Planned } from "../../topology/prepare";
import { checkChange, type ChangePlan } from "../../change/change";
import type { ReconcileDuringTransition } from "../../change/cloud-phase";
import type { Deployment } from "../../change/deployment";
import { prepareOn, type TargetPrepared } from "../../change/target";

import { peelConfig } from "../../topology/render/zester-config";
import type { Topology } from "../../topology/types";
import type { ChecklistStatus } from "../checklist";
import { Children } from "../children";
import { Deferred } from "../deferred";
import { shippedReconcileCode } from "../reconcile-code";
import { stackTls } from "../certificates";
import { configIdentities, generatedIdentities, issuedPeelCreds } from "../identities";
import { resolveKubernetesSettings, type KubernetesSettingsArgs } from "./args";
import { kubernetesChecklist } from "./checklist";
import type { KubernetesLayout } from "./layout";
import type { KubernetesSettings } from "./settings";
import { certificateAlerts, declareRegion, peelSecretName, type K8sScope } from "./region";
import { clientServiceUrl, setOf } from "./objects";
import { KUBERNETES } from "./target";

/** What the component plans and lays out. */
export interface KubernetesSpecArgs {
  /** How many peels, and the optional regions, leaf sites and overrides (what `plan()` takes). */
  spec: SizingSpecInput;
  /** The Kubernetes target's settings (`zester:kubernetes`; see docs/kubernetes.md). Images may be outputs. */
  settings: KubernetesSettingsArgs;
}

/**
 * Either a spec and settings to prepare, or what `prepareKubernetes` made of them (a caller that
 * decides something from the preparation first, as the program decides a tier transition, hands
 * it in so nothing is planned twice).
 */
export type ZesterKubernetesArgs = (KubernetesSpecArgs | { prepared: PreparedKubernetes }) & KubernetesOptionsArgs;

export interface KubernetesOptionsArgs {
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

export interface PreparedKubernetes extends TargetPrepared<KubernetesSettings, KubernetesLayout> {
  /** Images given as outputs, as the layout's stand-ins; resolved when objects are declared. */
  deferred: Deferred;
}

/**
 * Everything the component decides before it declares a resource, for a spec planned once
 * (topology/prepare.ts `planned`): the settings resolved, the topology built, laid out and
 * recorded. Throws SpecError naming the key.
 */
export function prepareKubernetesPlanned(from: Planned, settingsArgs: KubernetesSettingsArgs): PreparedKubernetes {
  const deferred = new Deferred();
  const settings = resolveKubernetesSettings(settingsArgs, deferred);
  return { ...prepareOn(KUBERNETES, from, settings), deferred };
}

/** The same from a spec: planned, then prepared. */
export function prepareKubernetes(args: KubernetesSpecArgs): PreparedKubernetes {
  return prepareKubernetesPlanned(planned(args.spec), args.settings);
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
    const { settings, plan, topology, layout, deployment, deferred } =
      "prepared" in args ? args.prepared : prepareKubernetes(args);
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
    this.clientUrl = clientServiceUrl(setOf(t.clusters[0]?.servers[0] ?? "core"), settings.namespace);
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
  const supercluster = t.plan.regions.length > 1;
  const places = t.plan.regions.flatMap((region) => {
    const core = clientServiceUrl(
      setOf(t.clusters.find((c) => c.region === region.name)?.servers[0] ?? "core"),
      s.namespace,
    );
    return [
      { key: supercluster ? region.name : "core", region: region.name, site: undefined, servers: [core] },
      ...t.leafSites
        .filter((site) => site.region === region.name)
        .map((site) => ({
          key: site.name,
          region: region.name,
          site: site.name,
          servers: [clientServiceUrl(setOf(site.servers[0] ?? `leaf-${site.name}`), s.leafNamespace), core],
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
