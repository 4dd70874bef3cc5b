/**
 * Kubernetes objects of a topology's servers as plain data: the same objects go to Pulumi and to
 * the schema validator in the tests. Pure: no Pulumi, no I/O.
 */
import type { SizingPlan } from "../../sizing/types";
import { STANDARD_PORTS } from "../../topology/build";
import type { Topology, TopologyServer } from "../../topology/types";
import { JOB_FILE_ENV } from "../../jetstream/cluster-job";
import type { KubernetesSettings } from "./settings";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The namespaces a region's servers live in: the core's, and the leaf sites'. */
export interface Namespaces {
  core: string;
  leaf: string;
}

/** Where JetStream keeps its files inside the pod (the PVC's mount). */
export const STORE_DIR = "/data/jetstream";
export const CONFIG_DIR = "/etc/nats-config";
/** Each namespace's `nats-tls` Secret: the CA, every server's certificate and key, the link's. */
export const TLS_DIR = "/etc/nats-tls";
/** Shared by nats-server and its reloader (the pod shares one process namespace). */
export const PID_DIR = "/var/run/nats";
export const PID_FILE = `${PID_DIR}/nats.pid`;
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
const RECONCILE_DIR = "/opt/zester-kv-reconcile";
const RECONCILE_JOB_DIR = "/etc/zester-kv-reconcile";

/** A set's client Service, as clients in the cluster reach it. */
export const clientServiceUrl = (set: string, namespace: string): string =>
  `nats://${set}-clients.${namespace}.svc.cluster.local:${String(STANDARD_PORTS.client)}`;

/** The StatefulSet a server belongs to: its name without the ordinal (`core-3` → `core`). */
export const setOf = (server: string): string => server.replace(/-\d+$/, "");

export const labelsOf = (set: string): Record<string, string> => ({
  "app.kubernetes.io/name": "nats",
  "app.kubernetes.io/part-of": "zester",
  "zester.io/set": set,
});

export function namespace(name: string): K8sObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "app.kubernetes.io/part-of": "zester" } } };
}

export interface SetSpec {
  set: string;
  namespace: string;
  /** JetStream volumes' class; undefined for the cluster's default. */
  storageClass: string | undefined;
  servers: string[];
  hash: string;
  exposeLeafnodes: boolean;
}

const cpu = (cores: number): string => `${String(Math.round(cores * 1000))}m`;

/** What one StatefulSet's pods run: a server of a core cluster or a leaf site. */
interface PodFacts {
  plan: SizingPlan;
  core: boolean;
  size: SizingPlan["server"];
  ports: [string, number][];
  /** Lame duck plus grace: how long a planned stop takes. */
  lameDuck: number;
}

function podFacts(t: Topology, first: TopologyServer): PodFacts {
  const plan = t.plan;
  const core = first.role === "core";
  return {
    plan,
    core,
    size: core ? plan.server : (plan.leafNode?.server ?? plan.server),
    ports: portList(first),
    lameDuck: plan.natsServer.lameDuckDurationSeconds + plan.natsServer.lameDuckGracePeriodSeconds,
  };
}

/** A StatefulSet with its Services and PodDisruptionBudget. */
export function serverSet(t: Topology, s: KubernetesSettings, spec: SetSpec): K8sObject[] {
  const first = t.servers.find((x) => x.name === spec.servers[0]);
  if (first === undefined) return [];
  const facts = podFacts(t, first);
  const labels = labelsOf(spec.set);
  const meta = (name: string) => ({ name, namespace: spec.namespace, labels });
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
        ports: facts.ports.map(([name, port]) => ({ name, port, targetPort: name })),
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
    ...(spec.exposeLeafnodes ? [leafnodeLoadBalancer(s, spec, labels)] : []),
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(spec.set),
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
    statefulSet(s, spec, facts),
  ];
}

/**
 * Where the other regions' leaf connections come in. A LoadBalancer is internet-facing by default
 * on EKS, GKE and AKS: each one's annotation makes it internal (a cloud ignores the others'), and
 * it admits only the given ranges; source addresses are kept so the NetworkPolicy can check them.
 */
export const INTERNAL_LOAD_BALANCER: Readonly<Record<string, string>> = {
  "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
  "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
  "networking.gke.io/load-balancer-type": "Internal",
  "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
};

function leafnodeLoadBalancer(s: KubernetesSettings, spec: SetSpec, labels: Record<string, string>): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: `${spec.set}-leafnodes`,
      namespace: spec.namespace,
      labels,
      annotations: { ...INTERNAL_LOAD_BALANCER },
    },
    spec: {
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      loadBalancerSourceRanges: s.leafnodeSourceRanges ?? [],
      selector: labels,
      ports: [{ name: "leafnode", port: STANDARD_PORTS.leafnode, targetPort: "leafnode" }],
    },
  };
}

function statefulSet(s: KubernetesSettings, spec: SetSpec, facts: PodFacts): K8sObject {
  const labels = labelsOf(spec.set);
  const safe = Object.entries(facts.plan.os.sysctl).filter(([k]) => SAFE_SYSCTLS.includes(k));
  const master = masterContainer(s, facts);
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: spec.set, namespace: spec.namespace, labels },
    spec: {
      replicas: spec.servers.length,
      serviceName: spec.set,
      // JetStream needs a quorum up to start: pods start together, not one by one.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: podAnnotations(s, spec.hash) },
        spec: {
          terminationGracePeriodSeconds: facts.lameDuck + 30,
          // The reloader signals nats-server by its pid file.
          shareProcessNamespace: true,
          securityContext: safe.length > 0 ? { sysctls: safe.map(([name, value]) => ({ name, value })) } : {},
          topologySpreadConstraints: [
            spread(labels, "topology.kubernetes.io/zone", s.zoneSpread),
            spread(labels, "kubernetes.io/hostname", "DoNotSchedule"),
          ],
          initContainers: initContainers(s, facts),
          containers: [natsContainer(s, facts), reloaderContainer(s), exporterContainer(s), ...master],
          volumes: [
            { name: "config", secret: { secretName: "nats-config" } },
            { name: "tls", secret: { secretName: "nats-tls", defaultMode: 0o440 } },
            { name: "pid", emptyDir: {} },
            ...(master.length > 0 ? [{ name: "zester-master", secret: { secretName: "zester-master" } }] : []),
          ],
        },
      },
      ...(facts.core ? { volumeClaimTemplates: [claimTemplate(spec, facts)] } : {}),
    },
  };
}

function podAnnotations(s: KubernetesSettings, hash: string): Record<string, string> {
  return {
    "zester.io/config-hash": hash,
    ...(s.prometheusOperator
      ? {}
      : {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(EXPORTER_PORT),
          "prometheus.io/path": "/metrics",
        }),
  };
}

function spread(labels: Record<string, string>, topologyKey: string, whenUnsatisfiable: string) {
  return { maxSkew: 1, topologyKey, whenUnsatisfiable, labelSelector: { matchLabels: labels } };
}

function claimTemplate(spec: SetSpec, facts: PodFacts) {
  return {
    metadata: { name: "jetstream" },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: `${String(facts.size.jetstreamDiskGiB)}Gi` } },
      ...(spec.storageClass === undefined ? {} : { storageClassName: spec.storageClass }),
    },
  };
}

function natsContainer(s: KubernetesSettings, facts: PodFacts) {
  const memoryMiB = facts.size.memoryMiB;
  return {
    name: "nats",
    image: s.natsServer.image,
    args: ["--config", `${CONFIG_DIR}/$(POD_NAME).conf`],
    env: [
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "GOMEMLIMIT", value: `${String(Math.floor(memoryMiB * GOMEMLIMIT_SHARE))}MiB` },
    ],
    ports: facts.ports.map(([name, containerPort]) => ({ name, containerPort })),
    // Requests = limits (Guaranteed QoS, the NATS chart's advice), sized from the guide's burst
    // column: a mass state.apply must not find the CPU it needs taken by a neighbour.
    resources: {
      requests: { cpu: cpu(facts.size.cpuBurstCores), memory: `${String(memoryMiB)}Mi` },
      limits: { cpu: cpu(facts.size.cpuBurstCores), memory: `${String(memoryMiB)}Mi` },
    },
    volumeMounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      { name: "tls", mountPath: TLS_DIR, readOnly: true },
      { name: "pid", mountPath: PID_DIR },
      ...(facts.core ? [{ name: "jetstream", mountPath: STORE_DIR }] : []),
    ],
    // Plain /healthz passes only once JetStream has caught up: a rolling update (one pod at a
    // time, the next only once this one is started) never takes down a second voter while one is
    // still behind. Up to 15 minutes for that after a restart. (The NATS Helm chart's probes.)
    startupProbe: probe("/healthz", 10, 90),
    readinessProbe: probe("/healthz?js-server-only=true", 10, 3),
    livenessProbe: probe("/healthz?js-enabled-only=true", 30, 3),
    lifecycle: {
      // Lame duck (SIGUSR2, by the pid file: PID 1 is the pod's), then wait it out before SIGTERM.
      preStop: {
        exec: {
          command: ["/bin/sh", "-c", `nats-server --signal ldm=${PID_FILE} && sleep ${String(facts.lameDuck)}`],
        },
      },
    },
  };
}

function exporterContainer(s: KubernetesSettings) {
  return {
    name: "exporter",
    image: s.exporterImage,
    args: [
      `-port=${String(EXPORTER_PORT)}`,
      "-varz",
      "-jsz=all",
      "-leafz",
      "-routez",
      "-connz",
      `http://localhost:${String(STANDARD_PORTS.monitor)}`,
    ],
    ports: [{ name: "metrics", containerPort: EXPORTER_PORT }],
    resources: guaranteed("50m", "128Mi"),
  };
}

function probe(path: string, periodSeconds: number, failureThreshold: number) {
  return { httpGet: { path, port: "monitor" }, periodSeconds, timeoutSeconds: 5, failureThreshold };
}

/** Requests equal to limits for every container: the pod's QoS class is Guaranteed. */
function guaranteed(cpu: string, memory: string) {
  return { requests: { cpu, memory }, limits: { cpu, memory } };
}

/**
 * Watches the pod's config file, and every certificate, key and CA file the config names, and
 * SIGHUPs nats-server when one changes (the NATS chart's reloader): a renewed certificate in the
 * `nats-tls` Secret reaches the running server by a reload. The reloader (0.14.4 and later) reads
 * those paths from the config and exits when one is missing, so it mounts the TLS files where
 * nats-server reads them, as the chart mounts every `/etc/` mount of the nats container into it.
 */
function reloaderContainer(s: KubernetesSettings) {
  return {
    name: "reloader",
    image: s.reloaderImage,
    args: ["-pid", PID_FILE, "-config", `${CONFIG_DIR}/$(POD_NAME).conf`],
    env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    volumeMounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      { name: "tls", mountPath: TLS_DIR, readOnly: true },
      { name: "pid", mountPath: PID_DIR },
    ],
    resources: guaranteed("10m", "32Mi"),
  };
}

function masterContainer(s: KubernetesSettings, facts: PodFacts) {
  if (!facts.core || s.zesterMasterImage === undefined) return [];
  return [
    {
      name: "zester-master",
      image: s.zesterMasterImage,
      args: ["--config", "/etc/zester/$(POD_NAME).yaml"],
      env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      volumeMounts: [{ name: "zester-master", mountPath: "/etc/zester", readOnly: true }],
      resources: guaranteed(s.zesterMasterResources.cpu, s.zesterMasterResources.memory),
    },
  ];
}

function initContainers(s: KubernetesSettings, facts: PodFacts) {
  const plan = facts.plan;
  const nofile = facts.core ? plan.os.limitNofile : (plan.leafNode?.limitNofile ?? plan.os.limitNofile);
  const unsafe = Object.entries(plan.os.sysctl).filter(([k]) => NAMESPACED_UNSAFE_SYSCTLS.includes(k));
  return [
    {
      // nats-server raises its soft limit to the hard one: the runtime's hard limit must hold the plan.
      name: "nofile-check",
      image: s.natsServer.image,
      command: [
        "/bin/sh",
        "-c",
        `h=$(ulimit -Hn); [ "$h" = unlimited ] || [ "$h" -ge ${String(nofile)} ] || { echo "open files hard limit $h is below the plan's ${String(nofile)}: raise the container runtime's nofile limit" >&2; exit 1; }`,
      ],
      resources: guaranteed("10m", "32Mi"),
    },
    ...(s.privilegedSysctlInit && unsafe.length > 0
      ? [
          {
            name: "sysctl",
            image: s.natsServer.image,
            command: ["sysctl", "-w", ...unsafe.map(([k, v]) => `${k}=${v}`)],
            securityContext: { privileged: true },
            resources: guaranteed("10m", "32Mi"),
          },
        ]
      : []),
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
export function nodeTuning(plan: SizingPlan, s: KubernetesSettings, ns: string): K8sObject {
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
              resources: guaranteed("10m", "32Mi"),
            },
          ],
        },
      },
    },
  };
}

/** The reconcile pod: the bundled code from a ConfigMap, the job from a Secret, on a plain Node image. */
/** The reconcile job's ServiceAccount: it may write a tier transition's report, nothing else. */
export const RECONCILE_SERVICE_ACCOUNT = "kv-reconcile";

export function reconcilePod(s: KubernetesSettings): Record<string, unknown> {
  return {
    metadata: { labels: { "app.kubernetes.io/name": "zester-kv-reconcile", "app.kubernetes.io/part-of": "zester" } },
    spec: {
      restartPolicy: "OnFailure",
      serviceAccountName: RECONCILE_SERVICE_ACCOUNT,
      containers: [
        {
          name: "kv-reconcile",
          image: s.reconcileImage,
          command: [
            "node",
            "-e",
            `require("${RECONCILE_DIR}/index.js").handler().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`,
          ],
          // The job (it holds the reconcile identity's seed) as a file from its Secret, never an env variable.
          env: [{ name: JOB_FILE_ENV, value: `${RECONCILE_JOB_DIR}/job` }],
          volumeMounts: [
            { name: "code", mountPath: RECONCILE_DIR, readOnly: true },
            { name: "job", mountPath: RECONCILE_JOB_DIR, readOnly: true },
          ],
          resources: guaranteed("100m", "256Mi"),
        },
      ],
      volumes: [
        { name: "code", configMap: { name: "kv-reconcile-code" } },
        { name: "job", secret: { secretName: "kv-reconcile-job", defaultMode: 0o400 } },
      ],
    },
  };
}
