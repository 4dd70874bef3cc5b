/**
 * `zester:kubernetes:Topology`: a planned Zester topology on Kubernetes. Declares the objects
 * `kubernetesLayout` built, one explicit provider per Kubernetes cluster (region), plus the
 * objects that hold passwords and the KV reconcile.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { generatedSecrets } from "../secrets";
import { clusterJob } from "../../jetstream/cluster-job";
import { JOB_ENV } from "../../jetstream/reconcile-job";
import { USERS, type Secrets } from "../../topology/auth";
import { masterConfig, peelConfig } from "../../topology/render/zester-config";
import type { Topology, TopologyCluster } from "../../topology/types";
import { renderConf, setOf, type K8sObject, type KubernetesLayout, type RegionManifests } from "./manifests";
import type { KubernetesSettings } from "./settings";
import type { ChecklistStatus } from "../checklist";

export interface ZesterKubernetesArgs {
  topology: Topology;
  layout: KubernetesLayout;
  settings: KubernetesSettings;
  /** The bundled KV reconcile (`jetstream/reconcile-job.ts`), mounted into the reconcile Job. */
  reconcileCode: string;
}

const RECONCILE_DIR = "/opt/zester-kv-reconcile";

export class ZesterKubernetes extends pulumi.ComponentResource {
  public readonly clientUrl: string;
  public readonly namespace: string;
  public readonly servers: { name: string; region: string; namespace: string; dnsName: string }[];
  public readonly checklist: ChecklistStatus[];

  constructor(name: string, args: ZesterKubernetesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zester:kubernetes:Topology", name, {}, opts);
    const { topology: t, layout, settings: s } = args;
    const secrets = generatedSecrets(this);

    for (const region of layout.regions) this.region(region, t, s, layout, secrets, args.reconcileCode);

    const coreSet = setOf(t.clusters[0]?.servers[0] ?? "core");
    this.namespace = s.namespace;
    this.clientUrl = `nats://${coreSet}-clients.${s.namespace}.svc.cluster.local:4222`;
    this.servers = t.servers.map((x) => ({
      name: x.name,
      region: x.region,
      namespace: x.role === "leaf" ? s.leafNamespace : s.namespace,
      dnsName: x.host,
    }));
    this.checklist = kubernetesChecklist(t, s, layout.storageClass);
    this.registerOutputs({
      clientUrl: this.clientUrl,
      namespace: this.namespace,
      servers: this.servers,
      checklist: this.checklist,
    });
  }

  private region(
    r: RegionManifests,
    t: Topology,
    s: KubernetesSettings,
    layout: KubernetesLayout,
    secrets: pulumi.Output<Secrets>,
    code: string,
  ): void {
    const provider = new k8s.Provider(
      `k8s-${r.region}`,
      { ...(r.context === undefined ? {} : { context: r.context }), enableServerSideApply: true },
      { parent: this },
    );
    const o: pulumi.CustomResourceOptions = { parent: this, provider };
    const prefix = layout.regions.length > 1 ? `${r.region}-` : "";
    const id = (obj: K8sObject) =>
      `${prefix}${obj.kind.toLowerCase()}-${obj.metadata.namespace ?? "cluster"}-${obj.metadata.name}`;

    const namespaces = r.objects.filter((x) => x.kind === "Namespace").map((x) => declare(id(x), x, o));
    const after = { ...o, dependsOn: namespaces };
    const hubLeafHost = r === layout.regions[0] ? undefined : layout.hubLeafHost;

    const configSecrets = r.configs.map(
      (c) =>
        new k8s.core.v1.Secret(
          `${prefix}nats-config-${c.namespace}`,
          {
            metadata: { name: "nats-config", namespace: c.namespace },
            stringData: secrets.apply((sec) =>
              Object.fromEntries(c.servers.map((n) => [`${n}.conf`, renderConf(t, n, s, sec, hubLeafHost)])),
            ),
          },
          after,
        ),
    );
    const cluster = t.clusters.find((c) => c.region === r.region);
    const extra: pulumi.Resource[] = [];
    if (s.zesterMasterImage !== undefined && cluster !== undefined)
      extra.push(
        new k8s.core.v1.Secret(
          `${prefix}zester-master`,
          {
            metadata: { name: "zester-master", namespace: s.namespace },
            stringData: secrets.apply((sec) =>
              Object.fromEntries(
                cluster.servers.map((n) => [`${n}.yaml`, masterConfig(t, n, { user: USERS.app, password: sec.app })]),
              ),
            ),
          },
          after,
        ),
      );
    // Volumes first, with the planned size: a StatefulSet's claim template cannot change, a claim can grow.
    const volumes = r.volumes.map(
      (v) =>
        new k8s.core.v1.PersistentVolumeClaim(
          `${prefix}${v.name}`,
          {
            metadata: { name: v.name, namespace: v.namespace, labels: { "app.kubernetes.io/part-of": "zester" } },
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: `${String(v.sizeGiB)}Gi` } },
              ...(layout.storageClass === undefined ? {} : { storageClassName: layout.storageClass }),
            },
          },
          // A class is fixed for a claim's life: survivors keep theirs when the tier moves to NVMe.
          { ...after, ignoreChanges: ["spec.storageClassName"] },
        ),
    );
    const workloads: pulumi.Resource[] = [];
    for (const obj of r.objects.filter((x) => x.kind !== "Namespace")) {
      const statefulSet = obj.kind === "StatefulSet";
      workloads.push(
        declare(id(obj), obj, {
          ...o,
          dependsOn: [...namespaces, ...configSecrets, ...extra, ...(statefulSet ? volumes : [])],
          // The claim template is immutable; the claims above carry the size.
          ...(statefulSet ? { ignoreChanges: ["spec.volumeClaimTemplates"] } : {}),
        }),
      );
    }
    if (cluster !== undefined) this.reconcile(prefix, t, s, cluster, secrets, code, { ...o, dependsOn: workloads });
    if (s.zesterPeelImage !== undefined) this.peels(prefix, r, t, s, secrets, after);
  }

  /** The KV reconcile: a Job once the servers exist, and a CronJob correcting drift. */
  private reconcile(
    prefix: string,
    t: Topology,
    s: KubernetesSettings,
    cluster: TopologyCluster,
    secrets: pulumi.Output<Secrets>,
    code: string,
    o: pulumi.CustomResourceOptions,
  ): void {
    const ns = s.namespace;
    new k8s.core.v1.ConfigMap(
      `${prefix}kv-reconcile-code`,
      { metadata: { name: "kv-reconcile-code", namespace: ns }, data: { "index.js": code } },
      o,
    );
    new k8s.core.v1.Secret(
      `${prefix}kv-reconcile-job`,
      {
        metadata: { name: "kv-reconcile-job", namespace: ns },
        stringData: secrets.apply((sec) => ({ job: JSON.stringify(clusterJob(t, cluster, sec.app)) })),
      },
      o,
    );
    const pod = reconcilePod(s);
    new k8s.batch.v1.Job(
      `${prefix}kv-reconcile`,
      // No name: Pulumi names it, and a changed template is a new Job, run once more.
      { metadata: { namespace: ns }, spec: { backoffLimit: 10, template: pod } },
      o,
    );
    new k8s.batch.v1.CronJob(
      `${prefix}kv-reconcile`,
      {
        metadata: { name: "kv-reconcile", namespace: ns },
        spec: {
          schedule: `*/${String(s.reconcileEveryMinutes)} * * * *`,
          concurrencyPolicy: "Forbid",
          jobTemplate: { spec: { backoffLimit: 2, template: pod } },
        },
      },
      o,
    );
  }

  private peels(
    prefix: string,
    r: RegionManifests,
    t: Topology,
    s: KubernetesSettings,
    secrets: pulumi.Output<Secrets>,
    o: pulumi.CustomResourceOptions,
  ): void {
    const labels = { "app.kubernetes.io/name": "zester-peel", "app.kubernetes.io/part-of": "zester" };
    new k8s.core.v1.Secret(
      `${prefix}zester-peel`,
      {
        metadata: { name: "zester-peel", namespace: s.namespace },
        stringData: secrets.apply((sec) => ({
          "peel.yaml": peelConfig(t, { region: r.region }, { user: USERS.app, password: sec.app }),
        })),
      },
      o,
    );
    new k8s.apps.v1.DaemonSet(
      `${prefix}zester-peel`,
      {
        metadata: { name: "zester-peel", namespace: s.namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: "peel",
                  image: s.zesterPeelImage ?? "",
                  args: ["--config", "/etc/zester/peel.yaml"],
                  volumeMounts: [{ name: "config", mountPath: "/etc/zester", readOnly: true }],
                },
              ],
              volumes: [{ name: "config", secret: { secretName: "zester-peel" } }],
            },
          },
        },
      },
      o,
    );
  }
}

/** The reconcile pod: the bundled code from a ConfigMap, the job from a Secret, on a plain Node image. */
export function reconcilePod(s: KubernetesSettings): Record<string, unknown> {
  return {
    spec: {
      restartPolicy: "OnFailure",
      containers: [
        {
          name: "kv-reconcile",
          image: s.reconcileImage,
          command: [
            "node",
            "-e",
            `require("${RECONCILE_DIR}/index.js").handler().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`,
          ],
          env: [{ name: JOB_ENV, valueFrom: { secretKeyRef: { name: "kv-reconcile-job", key: "job" } } }],
          volumeMounts: [{ name: "code", mountPath: RECONCILE_DIR, readOnly: true }],
          resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        },
      ],
      volumes: [{ name: "code", configMap: { name: "kv-reconcile-code" } }],
    },
  };
}

/**
 * Declares one plain object. A CustomResource carries any apiVersion/kind with the type token
 * `kubernetes:<apiVersion>:<kind>`, which equals the typed class's for named groups
 * (`kubernetes:apps/v1:StatefulSet`); the core group's classes are `core/v1`, so its kinds are
 * declared with them. The objects are the renderer's, checked against the Kubernetes schema in
 * the tests, so the field types are asserted here, not converted.
 */
function declare(name: string, obj: K8sObject, o: pulumi.CustomResourceOptions): pulumi.CustomResource {
  if (obj.apiVersion !== "v1") return new k8s.apiextensions.CustomResource(name, obj, o);
  const { metadata } = obj;
  switch (obj.kind) {
    case "Namespace":
      return new k8s.core.v1.Namespace(name, { metadata }, o);
    case "Service":
      return new k8s.core.v1.Service(name, { metadata, spec: obj.spec as k8s.types.input.core.v1.ServiceSpec }, o);
    case "ConfigMap":
      return new k8s.core.v1.ConfigMap(name, { metadata, data: obj.data as Record<string, string> }, o);
    default:
      throw new Error(`no declaration for core kind ${obj.kind}`);
  }
}

function kubernetesChecklist(t: Topology, s: KubernetesSettings, storageClass: string | undefined): ChecklistStatus[] {
  const plan = t.plan;
  const how: Record<string, Omit<ChecklistStatus, "id" | "item">> = {
    "cluster-3-ha": {
      status: "done",
      how: `StatefulSet of ${String(plan.serversPerCluster)}, spread over zones and hosts, PDB maxUnavailable 1`,
    },
    "kv-replicas-3": {
      status: "done",
      how: `a Job after the servers, and a CronJob every ${String(s.reconcileEveryMinutes)} min`,
    },
    prometheus: {
      status: "done",
      how: s.prometheusOperator
        ? "PodMonitor and PrometheusRule"
        : "scrape annotations on the pods; alert rules in ConfigMap zester-alert-rules",
    },
    "jetstream-backups": {
      status: "operator",
      how: "snapshot the jetstream-* PVCs with your CSI snapshot class (VolumeSnapshot)",
    },
    "limit-nofile": {
      status: "operator",
      how: "the container runtime's hard limit counts; nats-server raises its soft limit to it",
    },
    "cluster-5": { status: "done", how: `StatefulSet of ${String(plan.serversPerCluster)}` },
    nvme: { status: "done", how: `JetStream PVCs of StorageClass ${String(storageClass)}` },
    "server-tuning": {
      status: "done",
      how: "max_connections, max_payload, write_deadline from the plan in nats-server.conf",
    },
    "os-tuning": {
      status: s.privilegedSysctlInit && s.nodeTuningDaemonSet ? "done" : "operator",
      how: `ip_local_port_range in the pod; ${s.privilegedSysctlInit ? "namespaced ones by a privileged init container" : "somaxconn, tcp_max_syn_backlog, tcp_tw_reuse need privilegedSysctlInit"}; ${s.nodeTuningDaemonSet ? "node-wide ones by a DaemonSet" : "netdev_max_backlog, file-max need nodeTuningDaemonSet or node bootstrap"}`,
    },
    "prometheus-sd": { status: "done", how: "pods are discovered by label app.kubernetes.io/part-of=zester" },
    "consider-leafs": {
      status: plan.leafSites.length > 0 ? "done" : "operator",
      how: "declare zester:leafSites for remote sites",
    },
    "leaf-nodes": { status: "done", how: `leaf StatefulSets in namespace ${s.leafNamespace}` },
    "reconnect-wait-5s": {
      status: "done",
      how: `peel config reconnect_wait ${String(plan.client.peel.reconnectWaitSeconds)}s`,
    },
    "jetstream-memory-16g": { status: "done", how: `max_memory_store from the plan` },
    "max-ack-pending": { status: "operator", how: "watch consumer ack pending in the exporter's jsz metrics" },
    "target-slicing": { status: "zester", how: "a Zester job setting, not infrastructure" },
    supercluster: { status: "done", how: "one StatefulSet per region, one provider (kubeconfig context) each" },
    "domain-per-region": { status: "done", how: "each region's cluster has its own JetStream domain" },
    "reconnect-buffer": { status: "done", how: "peel config reconnect_buf_size from the plan" },
    "graduated-rollout": { status: "zester", how: "a Zester job setting, not infrastructure" },
    "zester-monitoring": { status: "operator", how: "scrape the Zester master's own metrics" },
  };
  return plan.checklist.map((c) => ({
    id: c.id,
    item: c.item,
    ...(how[c.id] ?? { status: "operator" as const, how: "" }),
  }));
}
