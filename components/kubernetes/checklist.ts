/** The guide's checklist for the tier, each item with what the Kubernetes target did for it. Pure. */
import type { Topology } from "../../topology/types";
import type { ChecklistStatus } from "../checklist";
import type { KubernetesSettings } from "./settings";

export function kubernetesChecklist(
  t: Topology,
  s: KubernetesSettings,
  storageClass: string | undefined,
): ChecklistStatus[] {
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
