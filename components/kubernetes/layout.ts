/**
 * Where every piece of a topology goes on Kubernetes, as plain data: per region (one Kubernetes
 * cluster each) its namespaces, the objects of its servers, the configs each namespace's Secret
 * holds and the JetStream volumes. Pure, and every problem is found before anything is created.
 */
import { SpecError, type Problem } from "../../sizing/spec";
import { PLACEHOLDER_IDENTITIES, type ServerIdentities, type ServerTlsFiles } from "../../topology/auth";
import { linkOf, type ExtraNames } from "../../topology/tls";
import { STANDARD_PORTS } from "../../topology/build";
import { natsServerConfig } from "../../topology/render/nats-server-conf";
import { serializeNatsConf } from "../../topology/render/nats-conf-format";
import { digest, restartPart } from "../../topology/render/reload";
import { ACCOUNTS, type DeployedServer, type Deployment } from "../../change/deployment";
import type { Addressing, Topology } from "../../topology/types";
import { monitoringObjects } from "./alert-rules";
import { networkPolicies } from "./network-policies";
import {
  namespace,
  nodeTuning,
  PID_FILE,
  serverSet,
  setOf,
  STORE_DIR,
  TLS_DIR,
  type K8sObject,
  type Namespaces,
} from "./objects";
import type { KubernetesSettings } from "./settings";

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
  /** Everything but the Secrets (configs, keys, seeds, the reconcile job). */
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

/**
 * The part of a set's configs only a restart applies, as the pod template's annotation: a change
 * to it rolls the pods (one at a time), while everything a reload applies reaches them through
 * the reloader. Passwords never reach it (configs are keyed with placeholders).
 */
export function restartHash(t: Topology, servers: string[], s: KubernetesSettings, hubLeafHost?: string): string {
  return digest(...servers.map((name) => restartPart(confOf(t, name, s, PLACEHOLDER_IDENTITIES, hubLeafHost))));
}

/** What a reload applies to one server (its whole config, keyed without passwords). */
export function reloadKey(t: Topology, server: string, s: KubernetesSettings, hubLeafHost?: string): string {
  return digest(confOf(t, server, s, PLACEHOLDER_IDENTITIES, hubLeafHost));
}

/** A pod's TLS files: every pod of a namespace mounts its `nats-tls` Secret, named by server. */
export function kubernetesTlsFiles(t: Topology, server: string): ServerTlsFiles {
  const s = t.servers.find((x) => x.name === server);
  const link = s === undefined ? undefined : linkOf(t, s);
  return {
    caFile: `${TLS_DIR}/ca.pem`,
    certFile: `${TLS_DIR}/${server}.pem`,
    keyFile: `${TLS_DIR}/${server}-key.pem`,
    ...(link === undefined
      ? {}
      : {
          linkCertFile: `${TLS_DIR}/${link}.pem`,
          linkKeyFile: `${TLS_DIR}/${link}-key.pem`,
          linkCredsFile: `${TLS_DIR}/${link}.creds`,
        }),
  };
}

/**
 * The names a pod is reached by: its own, its set's headless and client Services in every form
 * a client may use, and for the hub region's core the host other regions reach it at.
 */
export function kubernetesReachedBy(t: Topology, s: KubernetesSettings): ExtraNames {
  return (x) => {
    const ns = x.role === "leaf" ? s.leafNamespace : s.namespace;
    const set = setOf(x.name);
    const hub = x.role === "core" && x.region === t.plan.regions[0]?.name && s.hubLeafHost !== undefined;
    return {
      dnsNames: [
        `${set}.${ns}.svc.cluster.local`,
        ...[
          `${set}-clients.${ns}.svc.cluster.local`,
          `${set}-clients.${ns}.svc`,
          `${set}-clients.${ns}`,
          `${set}-clients`,
        ],
        ...(hub && s.hubLeafHost !== undefined ? [s.hubLeafHost] : []),
      ],
    };
  };
}

function confOf(
  t: Topology,
  server: string,
  s: KubernetesSettings,
  identities: ServerIdentities,
  hubLeafHost?: string,
) {
  return natsServerConfig({
    topology: t,
    server,
    version: s.natsServer.version,
    storeDir: STORE_DIR,
    auth: { identities, tls: kubernetesTlsFiles(t, server) },
    bindHost: "0.0.0.0",
    // A server gossips the route URL it advertises, else its pod IP, which no certificate holds:
    // servers beyond the three route seeds never routed to each other (test/twin/kubernetes-routes).
    advertise: true,
    pidFile: PID_FILE,
    ...(hubLeafHost === undefined ? {} : { hubLeafHost }),
  });
}

export function renderConf(
  t: Topology,
  server: string,
  s: KubernetesSettings,
  identities: ServerIdentities,
  hubLeafHost?: string,
): string {
  return serializeNatsConf(confOf(t, server, s, identities, hubLeafHost), [
    `nats-server.conf for ${server} (${t.tier} tier), rendered by zester-infra for nats-server ${s.natsServer.version}.`,
  ]);
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
  if (plan.regions.length > 1 && s.leafnodeSourceRanges === undefined)
    problems.push({
      path: ["kubernetes", "leafnodeSourceRanges"],
      message: `is required for a supercluster: the CIDRs the other regions' leaf connections come from; region "${String(hub)}"'s leafnode LoadBalancer is internal and admits only them`,
    });
  if (plan.regions.length > 1 && s.hubLeafHost === undefined)
    problems.push({
      path: ["kubernetes", "hubLeafHost"],
      message: `is required for a supercluster: the host the other regions reach region "${String(hub)}"'s leafnode port (${String(STANDARD_PORTS.leafnode)}) at, e.g. the DNS name of its leafnodes LoadBalancer Service`,
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
      hash: restartHash(t, core, s, isHub ? undefined : hubLeafHost),
      exposeLeafnodes: isHub && hubLeafHost !== undefined,
    }),
    ...sites.flatMap((site) =>
      serverSet(t, s, {
        set: setOf(site.servers[0] ?? `leaf-${site.name}`),
        namespace: ns.leaf,
        storageClass,
        servers: site.servers,
        hash: restartHash(t, site.servers, s),
        exposeLeafnodes: false,
      }),
    ),
    ...networkPolicies(t, s, { region, isHub, namespaces: ns }),
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

/**
 * What a claim is bound to: its cluster (the kubeconfig context: another cluster is new objects)
 * and its namespace (deleting a Namespace deletes every claim in it). Not its storage class: the
 * claim ignores a change of class (immutable on a claim), keeping the one it was made with.
 */
function claimPlacement(s: KubernetesSettings, region: string, first: boolean): Record<string, string> {
  const context = first ? s.context : s.regions?.[region]?.context;
  return {
    [`cluster (zester:kubernetes.${first ? "context" : `regions.${region}.context`})`]: context ?? "(current context)",
    "namespace (zester:kubernetes.namespace)": s.namespace,
  };
}

/** What is deployed on Kubernetes, per server: pod resources and images, its config's keys, its claim. */
export function kubernetesDeployment(t: Topology, layout: KubernetesLayout, s: KubernetesSettings): Deployment {
  const hubLeafHostOf = (region: string) => (region === t.plan.regions[0]?.name ? undefined : layout.hubLeafHost);
  // The whole pod template, its config-hash annotation included: a change to any of it rolls the
  // set's pods (the reloader's mounts, the exporter's image), not only a config's restart part.
  const templates = new Map<string, string>();
  for (const r of layout.regions)
    for (const o of r.objects)
      if (o.kind === "StatefulSet")
        templates.set(
          `${r.region}/${o.metadata.name}`,
          digest(JSON.stringify((o.spec as { template: unknown }).template)),
        );
  const templateOf = (x: Topology["servers"][number]): string => {
    const known = templates.get(`${x.region}/${setOf(x.name)}`);
    if (known === undefined) throw new Error(`no StatefulSet ${setOf(x.name)} in region ${x.region} for ${x.name}`);
    return known;
  };
  return {
    version: 1,
    target: "kubernetes",
    tier: t.tier,
    peels: t.plan.peels,
    natsVersion: s.natsServer.version,
    accounts: ACCOUNTS,
    servers: t.servers.map((x): DeployedServer => {
      const size = x.role === "core" ? t.plan.server : (t.plan.leafNode?.server ?? t.plan.server);
      return {
        name: x.name,
        role: x.role,
        region: x.region,
        ...(x.cluster === undefined ? {} : { cluster: x.cluster }),
        ...(x.site === undefined ? {} : { site: x.site }),
        // A change to any of these is a new pod template: the pods roll, one at a time.
        host: `${String(size.cpuBurstCores)} CPU ${String(size.memoryMiB)} MiB ${s.natsServer.image}`,
        restart: templateOf(x),
        reload: reloadKey(t, x.name, s, hubLeafHostOf(x.region)),
        ...(x.role === "core"
          ? {
              data: {
                kind: "claim",
                volume: `jetstream-${x.name}`,
                detail: `${String(size.jetstreamDiskGiB)}Gi ${layout.storageClass ?? "(default class)"}`,
                sizeGiB: size.jetstreamDiskGiB,
                placement: claimPlacement(s, x.region, t.plan.regions[0]?.name === x.region),
              },
            }
          : {}),
      };
    }),
  };
}
