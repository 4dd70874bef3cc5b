/**
 * Every Kubernetes object of a topology, as plain data: the same objects go to Pulumi and to
 * the schema validator in the tests. Pure: no Pulumi, no I/O. Objects that hold passwords are
 * built from `Secrets` by the component (inside an apply); everything else is built here.
 */
import { createHash } from "node:crypto";
import { SpecError, type Problem } from "../../sizing/spec";
import type { SizingPlan } from "../../sizing/types";
import { STANDARD_PORTS } from "../../topology/build";
import type { Secrets } from "../../topology/auth";
import { renderNatsServerConf } from "../../topology/render/nats-server-conf";
import type { Addressing, Topology, TopologyServer } from "../../topology/types";
import type { KubernetesSettings } from "./settings";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Where JetStream keeps its files inside the pod (the PVC's mount). */
export const STORE_DIR = "/data/jetstream";
export const CONFIG_DIR = "/etc/nats-config";
export const EXPORTER_PORT = 7777;
/** The share of the memory limit Go's collector aims under (the NATS chart's advice). */
export const GOMEMLIMIT_SHARE = 0.8;
/** Kubernetes lets pods set only this sysctl without node changes. */
export const SAFE_SYSCTLS = ["net.ipv4.ip_local_port_range"];
/** Namespaced but "unsafe": a privileged init container sets them. */
export const NAMESPACED_UNSAFE_SYSCTLS = [
  "net.core.somaxconn",
  "net.ipv4.tcp_max_syn_backlog",
  "net.ipv4.tcp_tw_reuse",
];
/** Node-wide: only the opt-in node DaemonSet (host network) can set them. */
export const NODE_SYSCTLS = ["net.core.netdev_max_backlog", "fs.file-max"];

const PLACEHOLDER_SECRETS: Secrets = { system: "-", app: "-", leaf: "-", route: "-" };

/** The StatefulSet a server belongs to: its name without the ordinal (`core-3` → `core`). */
export const setOf = (server: string): string => server.replace(/-\d+$/, "");

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

const labelsOf = (set: string): Record<string, string> => ({
  "app.kubernetes.io/name": "nats",
  "app.kubernetes.io/part-of": "zester",
  "zester.io/set": set,
});

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
  for (const name of Object.keys(s.regions ?? {}))
    if (!plan.regions.some((r) => r.name === name) || name === hub)
      problems.push({
        path: ["kubernetes", "regions", name],
        message: `is not a region after the first of this plan; they are: ${
          plan.regions
            .slice(1)
            .map((r) => r.name)
            .join(", ") || "(none)"
        }`,
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
  const regions = plan.regions.map((r, index): RegionManifests => {
    const ns = { core: s.namespace, leaf: s.leafNamespace };
    const cluster = t.clusters.find((c) => c.region === r.name);
    const core = cluster?.servers ?? [];
    const sites = t.leafSites.filter((x) => x.region === r.name);
    const objects: K8sObject[] = [namespace(ns.core), ...(sites.length > 0 ? [namespace(ns.leaf)] : [])];
    const isHub = index === 0;
    const remoteHub = isHub ? undefined : hubLeafHost;
    const coreSet = setOf(core[0] ?? "core");
    objects.push(
      ...serverSet(t, s, {
        set: coreSet,
        namespace: ns.core,
        storageClass,
        servers: core,
        hash: configHash(t, core, s, remoteHub),
        exposeLeafnodes: isHub && hubLeafHost !== undefined,
      }),
    );
    for (const site of sites)
      objects.push(
        ...serverSet(t, s, {
          set: setOf(site.servers[0] ?? `leaf-${site.name}`),
          namespace: ns.leaf,
          storageClass,
          servers: site.servers,
          hash: configHash(t, site.servers, s),
          exposeLeafnodes: false,
        }),
      );
    if (s.nodeTuningDaemonSet) objects.push(nodeTuning(plan, s, ns.core));
    objects.push(...monitoringObjects(t, s, r.name, ns, coreSet));
    return {
      region: r.name,
      ...(isHub
        ? s.context === undefined
          ? {}
          : { context: s.context }
        : { context: s.regions?.[r.name]?.context ?? "" }),
      namespaces: [ns.core, ...(sites.length > 0 ? [ns.leaf] : [])],
      objects,
      configs: [
        { namespace: ns.core, servers: core },
        ...(sites.length > 0 ? [{ namespace: ns.leaf, servers: sites.flatMap((x) => x.servers) }] : []),
      ],
      volumes: core.map((name) => ({
        name: `jetstream-${name}`,
        namespace: ns.core,
        sizeGiB: plan.server.jetstreamDiskGiB,
      })),
    };
  });
  return {
    regions,
    ...(hubLeafHost === undefined ? {} : { hubLeafHost }),
    ...(storageClass === undefined ? {} : { storageClass }),
  };
}

function namespace(name: string): K8sObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "app.kubernetes.io/part-of": "zester" } } };
}

interface SetSpec {
  set: string;
  namespace: string;
  /** JetStream volumes' class; undefined for the cluster's default. */
  storageClass: string | undefined;
  servers: string[];
  hash: string;
  exposeLeafnodes: boolean;
}

const cpu = (cores: number): string => `${String(Math.round(cores * 1000))}m`;

function serverSet(t: Topology, s: KubernetesSettings, spec: SetSpec): K8sObject[] {
  const plan = t.plan;
  const first = t.servers.find((x) => x.name === spec.servers[0]);
  if (first === undefined) return [];
  const core = first.role === "core";
  const size = core ? plan.server : (plan.leafNode?.server ?? plan.server);
  const labels = labelsOf(spec.set);
  const meta = (name: string) => ({ name, namespace: spec.namespace, labels });
  const ports = portList(first);
  const lameDuck = plan.natsServer.lameDuckDurationSeconds + plan.natsServer.lameDuckGracePeriodSeconds;
  const memoryMiB = size.memoryMiB;
  const sysctls = Object.entries(plan.os.sysctl);
  const safe = sysctls.filter(([k]) => SAFE_SYSCTLS.includes(k));
  const unsafe = sysctls.filter(([k]) => NAMESPACED_UNSAFE_SYSCTLS.includes(k));
  const podAnnotations: Record<string, string> = {
    "zester.io/config-hash": spec.hash,
    ...(s.prometheusOperator
      ? {}
      : {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(EXPORTER_PORT),
          "prometheus.io/path": "/metrics",
        }),
  };
  const natsContainer = {
    name: "nats",
    image: s.natsServer.image,
    args: ["--config", `${CONFIG_DIR}/$(POD_NAME).conf`],
    env: [
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "GOMEMLIMIT", value: `${String(Math.floor(memoryMiB * GOMEMLIMIT_SHARE))}MiB` },
    ],
    ports: ports.map(([name, containerPort]) => ({ name, containerPort })),
    // Requests = limits (Guaranteed QoS, the NATS chart's advice), sized from the guide's burst
    // column: a mass state.apply must not find the CPU it needs taken by a neighbour.
    resources: {
      requests: { cpu: cpu(size.cpuBurstCores), memory: `${String(memoryMiB)}Mi` },
      limits: { cpu: cpu(size.cpuBurstCores), memory: `${String(memoryMiB)}Mi` },
    },
    volumeMounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      ...(core ? [{ name: "jetstream", mountPath: STORE_DIR }] : []),
    ],
    startupProbe: {
      httpGet: { path: "/healthz?js-enabled-only=true", port: "monitor" },
      periodSeconds: 10,
      // Up to 15 minutes for JetStream to catch up after a restart.
      failureThreshold: 90,
    },
    readinessProbe: {
      httpGet: { path: "/healthz?js-server-only=true", port: "monitor" },
      periodSeconds: 10,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: { path: "/healthz?js-enabled-only=true", port: "monitor" },
      periodSeconds: 30,
      failureThreshold: 3,
    },
    lifecycle: {
      // Lame duck (SIGUSR2 to nats-server, PID 1), then wait it out before the kubelet's SIGTERM.
      preStop: { exec: { command: ["/bin/sh", "-c", `kill -USR2 1 && sleep ${String(lameDuck)}`] } },
    },
  };
  const exporter = {
    name: "exporter",
    image: s.exporterImage,
    args: [
      `-port=${String(EXPORTER_PORT)}`,
      "-varz",
      "-jsz=all",
      "-leafz",
      "-routez",
      "-connz",
      "http://localhost:8222",
    ],
    ports: [{ name: "metrics", containerPort: EXPORTER_PORT }],
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
  };
  const master =
    core && s.zesterMasterImage !== undefined
      ? [
          {
            name: "zester-master",
            image: s.zesterMasterImage,
            args: ["--config", "/etc/zester/$(POD_NAME).yaml"],
            env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
            volumeMounts: [{ name: "zester-master", mountPath: "/etc/zester", readOnly: true }],
          },
        ]
      : [];
  const nofile = core ? plan.os.limitNofile : (plan.leafNode?.limitNofile ?? plan.os.limitNofile);
  const initContainers = [
    {
      // nats-server raises its soft limit to the hard one: the runtime's hard limit must hold the plan.
      name: "nofile-check",
      image: s.natsServer.image,
      command: [
        "/bin/sh",
        "-c",
        `h=$(ulimit -Hn); [ "$h" = unlimited ] || [ "$h" -ge ${String(nofile)} ] || { echo "open files hard limit $h is below the plan's ${String(nofile)}: raise the container runtime's nofile limit" >&2; exit 1; }`,
      ],
      resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
    },
    ...(s.privilegedSysctlInit && unsafe.length > 0
      ? [
          {
            name: "sysctl",
            image: s.natsServer.image,
            command: ["sysctl", "-w", ...unsafe.map(([k, v]) => `${k}=${v}`)],
            securityContext: { privileged: true },
          },
        ]
      : []),
  ];
  const statefulSet: K8sObject = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: meta(spec.set),
    spec: {
      replicas: spec.servers.length,
      serviceName: spec.set,
      // JetStream needs a quorum up to start: pods start together, not one by one.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: podAnnotations },
        spec: {
          terminationGracePeriodSeconds: lameDuck + 30,
          securityContext: safe.length > 0 ? { sysctls: safe.map(([name, value]) => ({ name, value })) } : {},
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: labels },
            },
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: labels },
            },
          ],
          initContainers,
          containers: [natsContainer, exporter, ...master],
          volumes: [
            { name: "config", secret: { secretName: "nats-config" } },
            ...(master.length > 0 ? [{ name: "zester-master", secret: { secretName: "zester-master" } }] : []),
          ],
        },
      },
      ...(core
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: "jetstream" },
                spec: {
                  accessModes: ["ReadWriteOnce"],
                  resources: { requests: { storage: `${String(size.jetstreamDiskGiB)}Gi` } },
                  ...(spec.storageClass === undefined ? {} : { storageClassName: spec.storageClass }),
                },
              },
            ],
          }
        : {}),
    },
  };
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(spec.set),
      spec: {
        clusterIP: "None",
        // Peers must find each other before they are ready: readiness needs the cluster.
        publishNotReadyAddresses: true,
        selector: labels,
        ports: ports.map(([name, port]) => ({ name, port, targetPort: name })),
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(`${spec.set}-clients`),
      spec: {
        type: "ClusterIP",
        selector: labels,
        ports: [{ name: "client", port: STANDARD_PORTS.client, targetPort: "client" }],
      },
    },
    ...(spec.exposeLeafnodes
      ? [
          {
            apiVersion: "v1",
            kind: "Service",
            metadata: meta(`${spec.set}-leafnodes`),
            spec: {
              type: "LoadBalancer",
              selector: labels,
              ports: [{ name: "leafnode", port: STANDARD_PORTS.leafnode, targetPort: "leafnode" }],
            },
          },
        ]
      : []),
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(spec.set),
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
    statefulSet,
  ];
}

function portList(server: TopologyServer): [string, number][] {
  return [
    ["client", server.ports.client],
    ["monitor", server.ports.monitor],
    ...(server.ports.cluster === undefined ? [] : [["cluster", server.ports.cluster] as [string, number]]),
    ...(server.ports.leafnode === undefined ? [] : [["leafnode", server.ports.leafnode] as [string, number]]),
  ];
}

/** Node-wide sysctls need the host's network namespace: an opt-in privileged DaemonSet. */
function nodeTuning(plan: SizingPlan, s: KubernetesSettings, ns: string): K8sObject {
  const node = Object.entries(plan.os.sysctl).filter(([k]) => NODE_SYSCTLS.includes(k));
  const labels = { "app.kubernetes.io/name": "zester-node-tuning", "app.kubernetes.io/part-of": "zester" };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "zester-node-tuning", namespace: ns, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          containers: [
            {
              name: "sysctl",
              image: s.natsServer.image,
              command: [
                "/bin/sh",
                "-c",
                `sysctl -w ${node.map(([k, v]) => `${k}=${v}`).join(" ")} && exec sleep 2147483647`,
              ],
              securityContext: { privileged: true },
              resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
            },
          ],
        },
      },
    },
  };
}

function monitoringObjects(
  t: Topology,
  s: KubernetesSettings,
  region: string,
  namespaces: Namespaces,
  coreSet: string,
): K8sObject[] {
  const ns = namespaces.core;
  const rules = alertRules(t, region, namespaces);
  if (!s.prometheusOperator)
    return [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "zester-alert-rules", namespace: ns, labels: labelsOf(coreSet) },
        data: { "zester.rules.yaml": rulesYaml(rules) },
      },
    ];
  return [
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: { name: "nats", namespace: ns, labels: { "app.kubernetes.io/part-of": "zester" } },
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/name": "nats", "app.kubernetes.io/part-of": "zester" } },
        namespaceSelector: { matchNames: [s.namespace, s.leafNamespace] },
        podMetricsEndpoints: [{ port: "metrics" }],
      },
    },
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "zester", namespace: ns, labels: { "app.kubernetes.io/part-of": "zester" } },
      spec: rules,
    },
  ];
}

export interface AlertRules {
  groups: {
    name: string;
    rules: {
      alert: string;
      expr: string;
      for: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    }[];
  }[];
}

/**
 * The failure modes that matter, on the NATS exporter's metric names (`gnatsd_varz_*`):
 * servers missing from the meta group, JetStream storage nearly full, leaf connections (leaf
 * sites and, on the hub, other regions) down, connections near max_connections.
 */
export function alertRules(t: Topology, region: string, ns: Namespaces): AlertRules {
  const cluster = t.clusters.find((c) => c.region === region);
  const size = cluster?.servers.length ?? 1;
  const sel = `namespace="${ns.core}",pod=~"${setOf(cluster?.servers[0] ?? "core")}-[0-9]+"`;
  const all = `namespace=~"${ns.core}|${ns.leaf}"`;
  // One leaf connection per leaf server of the region's sites, and one per server of every
  // region linked to this one as its hub.
  const leafLinks =
    t.servers.filter((x) => x.role === "leaf" && x.region === region).length +
    t.regionLinks
      .filter((l) => l.hub === region)
      .reduce((n, l) => n + (t.clusters.find((c) => c.region === l.region)?.servers.length ?? 0), 0);
  const rule = (alert: string, expr: string, wait: string, severity: string, summary: string) => ({
    alert,
    expr,
    for: wait,
    labels: { severity, zester_region: region },
    annotations: { summary },
  });
  return {
    groups: [
      {
        name: `zester-${region}`,
        rules: [
          rule(
            "ZesterNatsServerMissing",
            `count(gnatsd_varz_jetstream_meta_cluster_size{${sel}}) < ${String(size)}`,
            "2m",
            "critical",
            `Fewer than the ${String(size)} planned NATS servers of region ${region} report metrics: the JetStream meta group is missing a member`,
          ),
          rule(
            "ZesterMetaGroupSmall",
            `min(gnatsd_varz_jetstream_meta_cluster_size{${sel}}) < ${String(size)}`,
            "5m",
            "warning",
            `A NATS server of region ${region} sees a JetStream meta group smaller than ${String(size)}`,
          ),
          rule(
            "ZesterJetStreamStorageNearlyFull",
            `max(gnatsd_varz_jetstream_stats_storage{${sel}} / gnatsd_varz_jetstream_config_max_storage{${sel}}) > 0.85`,
            "10m",
            "warning",
            "JetStream file storage is above 85% of max_file_store on a server",
          ),
          rule(
            "ZesterConnectionsNearMax",
            `max(gnatsd_varz_connections{${all}} / gnatsd_varz_max_connections{${all}}) > 0.8`,
            "5m",
            "warning",
            "A NATS server holds more than 80% of its max_connections",
          ),
          ...(leafLinks > 0
            ? [
                rule(
                  "ZesterLeafConnectionsDown",
                  `sum(gnatsd_varz_leafnodes{${sel}}) < ${String(leafLinks)}`,
                  "5m",
                  "critical",
                  `Fewer than the ${String(leafLinks)} planned leaf connections (leaf sites and other regions) reach region ${region}'s servers`,
                ),
              ]
            : []),
        ],
      },
    ],
  };
}

/** The rules as a Prometheus rule file; JSON is YAML, and exact. */
export function rulesYaml(rules: AlertRules): string {
  return `${JSON.stringify(rules, null, 2)}\n`;
}
