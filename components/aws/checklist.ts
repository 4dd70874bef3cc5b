/** The guide's checklist for the tier, each item with what the AWS target did for it. Pure. */
import type { SizingPlan } from "../../sizing/types";
import { STANDARD_PORTS } from "../../topology/build";
import type { AwsLayout } from "./layout";
import type { AwsSettings } from "./settings";
import type { ChecklistStatus } from "../checklist";

const GIB = 1024 ** 3;
const MONITOR = String(STANDARD_PORTS.monitor);

export function awsChecklist(plan: SizingPlan, layout: AwsLayout, s: AwsSettings): ChecklistStatus[] {
  const core = layout.regions.flatMap((r) => r.servers.filter((x) => x.role === "core"));
  const azs = [...new Set(core.map((x) => x.az))];
  const local = core.some((x) => x.hardware.storage.kind === "instance-store");
  const monitoring =
    s.monitoringCidrs.length === 0
      ? `${MONITOR} is open to nobody: set zester:aws.monitoringCidrs for your Prometheus`
      : `${MONITOR} open to ${s.monitoringCidrs.join(", ")} for your Prometheus`;
  const how: Record<string, Omit<ChecklistStatus, "id" | "item">> = {
    "cluster-3-ha": {
      status: "done",
      how: `${String(plan.serversPerCluster)} servers per cluster over ${azs.join(", ")}`,
    },
    "kv-replicas-3": {
      status: "done",
      how: `a Lambda function in the VPC reconciles bucket replicas every ${String(s.reconcileEveryMinutes)} min`,
    },
    prometheus: { status: "operator", how: monitoring },
    "jetstream-backups": local
      ? {
          status: "done",
          how: "instance-store NVMe is not snapshotted: every stream is replicated R3 across availability zones, and a wiped server rejoins and catches up from its peers",
        }
      : {
          status: "done",
          how: `Data Lifecycle Manager snapshots every JetStream volume every ${String(s.backups.everyHours)} h, keeping ${String(s.backups.keep)}`,
        },
    "limit-nofile": { status: "done", how: `LimitNOFILE=${String(plan.os.limitNofile)} in nats-server.service` },
    "cluster-5": { status: "done", how: `${String(plan.serversPerCluster)} servers, 2-2-1 over 3 availability zones` },
    nvme: local
      ? { status: "done", how: "JetStream on instance-store NVMe (RAID0 where several disks)" }
      : { status: "done", how: "JetStream on an NVMe-attached EBS volume (io2 where gp3 cannot reach the IOPS)" },
    "server-tuning": {
      status: "done",
      how: "max_connections, max_payload, write_deadline from the plan in nats-server.conf",
    },
    "os-tuning": { status: "done", how: "/etc/sysctl.d/99-zester.conf and LimitNOFILE from the plan" },
    "prometheus-sd": {
      status: "operator",
      how: "discover servers by the EC2 tag zester:role=core (or the private DNS names)",
    },
    "consider-leafs": {
      status: plan.leafSites.length > 0 ? "done" : "operator",
      how: plan.leafSites.length > 0 ? "leaf sites are declared" : "declare zester:leafSites for remote sites",
    },
    "leaf-nodes": {
      status: "done",
      how: `leaf servers in their sites' subnets: ${plan.leafSites.map((x) => x.name).join(", ")}`,
    },
    "reconnect-wait-5s": {
      status: "done",
      how: `peel config reconnect_wait ${String(plan.client.peel.reconnectWaitSeconds)}s`,
    },
    "jetstream-memory-16g": {
      status: plan.natsServer.jetstream.maxMemStoreBytes >= 16 * GIB ? "done" : "operator",
      how: `max_memory_store ${String(Math.round(plan.natsServer.jetstream.maxMemStoreBytes / GIB))} GiB`,
    },
    "max-ack-pending": {
      status: "operator",
      how: `max_ack_pending ${String(plan.natsServer.jetstream.maxAckPending ?? "server default")}; watch consumer ack pending in /jsz`,
    },
    "target-slicing": { status: "zester", how: "a Zester job setting (batch size), not infrastructure" },
    supercluster: {
      status: "done",
      how: `regions ${layout.regions.map((r) => `${r.name} (${r.awsRegion})`).join(", ")}`,
    },
    "domain-per-region": { status: "done", how: "each region's cluster has its own JetStream domain" },
    "reconnect-buffer": {
      status: "done",
      how: `peel config reconnect_buf_size ${String(plan.client.peel.reconnectBufSizeBytes)} bytes`,
    },
    "graduated-rollout": { status: "zester", how: "a Zester job setting (partitioned targets), not infrastructure" },
    "zester-monitoring": { status: "operator", how: monitoring },
  };
  return plan.checklist.map((c) => ({
    id: c.id,
    item: c.item,
    ...(how[c.id] ?? { status: "operator" as const, how: "not handled by the AWS target" }),
  }));
}
