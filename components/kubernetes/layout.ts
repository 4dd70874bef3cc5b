/**
 * Where every piece of a topology goes on Kubernetes, as plain data: per region (one Kubernetes
 * cluster each) its namespaces, the objects of its servers, the configs each namespace's Secret
 * holds and the JetStream volumes. Pure, and every problem is found before anything is created.
 */
import { createHash } from "node:crypto";
import { SpecError, type Problem } from "../../sizing/spec";
import type { Secrets } from "../../topology/auth";
import { STANDARD_PORTS } from "../../topology/build";
import { renderNatsServerConf } from "../../topology/render/nats-server-conf";
import type { Addressing, Topology } from "../../topology/types";
import { monitoringObjects } from "./alert-rules";
import { namespace, nodeTuning, serverSet, setOf, STORE_DIR, type K8sObject } from "./objects";
import type { KubernetesSettings } from "./settings";

const PLACEHOLDER_SECRETS: Secrets = { system: "-", app: "-", leaf: "-", route: "-" };

export interface Namespaces {
  core: string;
  leaf: string;
}

/** Pods are named after servers; each is reachable through its StatefulSet's headless Service. */
export function kubernetesAddressing(ns: Namespaces): Addressing {
  return {
    host: (s) => `${s.name}.${setOf(s.name)}.${s.role === "leaf" ? ns.leaf : ns.core}.svc.cluster.local`,
    port: (_s, kind) => STANDARD_PORTS[kind],
  };
}

export interface RegionManifests {
  region: string;
  /** kubeconfig context; absent: the current one. */
  context?: string;
  namespaces: string[];
  /** Everything but the objects that hold passwords. */
  objects: K8sObject[];
  /** The servers whose configs go in each namespace's `nats-config` Secret. */
  configs: { namespace: string; servers: string[] }[];
  /** PersistentVolumeClaims created ahead of the StatefulSets (so their size can grow in place). */
  volumes: { name: string; namespace: string; sizeGiB: number }[];
}

export interface KubernetesLayout {
  regions: RegionManifests[];
  hubLeafHost?: string;
  /** The StorageClass JetStream volumes use, or undefined for the cluster default. */
  storageClass?: string;
}

/** Passwords never reach a hash: configs are hashed with placeholders, so only real changes roll pods. */
export function configHash(t: Topology, servers: string[], s: KubernetesSettings, hubLeafHost?: string): string {
  const h = createHash("sha256");
  for (const name of servers) h.update(renderConf(t, name, s, PLACEHOLDER_SECRETS, hubLeafHost));
  return h.digest("hex").slice(0, 16);
}

export function renderConf(
  t: Topology,
  server: string,
  s: KubernetesSettings,
  secrets: Secrets,
  hubLeafHost?: string,
): string {
  return renderNatsServerConf({
    topology: t,
    server,
    version: s.natsServer.version,
    storeDir: STORE_DIR,
    secrets,
    bindHost: "0.0.0.0",
    ...(hubLeafHost === undefined ? {} : { hubLeafHost }),
  });
}

/** Checks what only the tier and the settings together can tell, before anything is built. */
export function checkKubernetes(t: Topology, s: KubernetesSettings): Problem[] {
  const problems: Problem[] = [];
  const plan = t.plan;
  if (plan.server.storage === "nvme" && s.nvmeStorageClass === undefined)
    problems.push({
      path: ["kubernetes", "nvmeStorageClass"],
      message: `is required: the ${plan.tier} tier keeps JetStream on NVMe (10,000+ peels); name a StorageClass backed by local NVMe (static local provisioner, TopoLVM, OpenEBS LocalPV)`,
    });
  const hub = plan.regions[0]?.name;
  for (const r of plan.regions.slice(1))
    if (s.regions?.[r.name] === undefined)
      problems.push({
        path: ["kubernetes", "regions", r.name, "context"],
        message: `is required: the kubeconfig context of the Kubernetes cluster that region "${r.name}" runs in`,
      });
  const others = plan.regions.slice(1).map((r) => r.name);
  for (const name of Object.keys(s.regions ?? {}))
    if (!others.includes(name) || name === hub)
      problems.push({
        path: ["kubernetes", "regions", name],
        message: `is not a region after the first of this plan; they are: ${others.join(", ") || "(none)"}`,
      });
  if (plan.regions.length > 1 && s.hubLeafHost === undefined)
    problems.push({
      path: ["kubernetes", "hubLeafHost"],
      message: `is required for a supercluster: the host the other regions reach region "${String(hub)}"'s leafnode port (7422) at, e.g. the DNS name of its leafnodes LoadBalancer Service`,
    });
  if (s.namespace === s.leafNamespace && plan.leafSites.length > 0)
    problems.push({
      path: ["kubernetes", "leafNamespace"],
      message: "must differ from namespace: leaf servers run apart (a DMZ)",
    });
  return problems;
}

export function kubernetesLayout(t: Topology, s: KubernetesSettings): KubernetesLayout {
  const problems = checkKubernetes(t, s);
  if (problems.length > 0) throw new SpecError(problems);
  const plan = t.plan;
  const storageClass = plan.server.storage === "nvme" ? s.nvmeStorageClass : s.storageClass;
  const hubLeafHost = plan.regions.length > 1 ? s.hubLeafHost : undefined;
  const regions = plan.regions.map((r, index) =>
    regionManifests(t, s, { region: r.name, isHub: index === 0, storageClass, hubLeafHost }),
  );
  return {
    regions,
    ...(hubLeafHost === undefined ? {} : { hubLeafHost }),
    ...(storageClass === undefined ? {} : { storageClass }),
  };
}

interface RegionInput {
  region: string;
  isHub: boolean;
  storageClass: string | undefined;
  hubLeafHost: string | undefined;
}

function regionManifests(t: Topology, s: KubernetesSettings, input: RegionInput): RegionManifests {
  const { region, isHub, storageClass, hubLeafHost } = input;
  const ns: Namespaces = { core: s.namespace, leaf: s.leafNamespace };
  const core = t.clusters.find((c) => c.region === region)?.servers ?? [];
  const sites = t.leafSites.filter((x) => x.region === region);
  const coreSet = setOf(core[0] ?? "core");
  const objects: K8sObject[] = [
    namespace(ns.core),
    ...(sites.length > 0 ? [namespace(ns.leaf)] : []),
    ...serverSet(t, s, {
      set: coreSet,
      namespace: ns.core,
      storageClass,
      servers: core,
      hash: configHash(t, core, s, isHub ? undefined : hubLeafHost),
      exposeLeafnodes: isHub && hubLeafHost !== undefined,
    }),
    ...sites.flatMap((site) =>
      serverSet(t, s, {
        set: setOf(site.servers[0] ?? `leaf-${site.name}`),
        namespace: ns.leaf,
        storageClass,
        servers: site.servers,
        hash: configHash(t, site.servers, s),
        exposeLeafnodes: false,
      }),
    ),
    ...(s.nodeTuningDaemonSet ? [nodeTuning(t.plan, s, ns.core)] : []),
    ...monitoringObjects(t, s, region, ns, coreSet),
  ];
  return {
    region,
    ...(isHub
      ? s.context === undefined
        ? {}
        : { context: s.context }
      : { context: s.regions?.[region]?.context ?? "" }),
    namespaces: [ns.core, ...(sites.length > 0 ? [ns.leaf] : [])],
    objects,
    configs: [
      { namespace: ns.core, servers: core },
      ...(sites.length > 0 ? [{ namespace: ns.leaf, servers: sites.flatMap((x) => x.servers) }] : []),
    ],
    volumes: core.map((name) => ({
      name: `jetstream-${name}`,
      namespace: ns.core,
      sizeGiB: t.plan.server.jetstreamDiskGiB,
    })),
  };
}
