/**
 * Every number this project takes from Zester's scaling guide, and only those. Each row names
 * the guide's section it came from; nothing else in the code repeats them. Our own choices
 * (headroom, peels per leaf, …) live in `policy.ts`.
 *
 * Units: "MB"/"GB" of RAM are read as MiB/GiB; disk "GB"/"TB" as GiB/TiB (1 TB = 1,024 GiB).
 */
import type { BucketPlan, ServerSize, TierId, TopologyKind } from "./types";

export interface TierRow {
  id: TierId;
  /** Inclusive lower edge; the next row's edge is exclusive (the guide's boundaries are half-open). */
  minPeels: number;
  topology: TopologyKind;
  serversPerCluster: number;
  guideRow: string;
  server: ServerSize;
}

const MiB_PER_GiB = 1024;

/** Guide §1, the master tier table. */
export const TIERS: readonly TierRow[] = [
  {
    id: "single-small",
    minPeels: 0,
    topology: "single",
    serversPerCluster: 1,
    guideRow: "§1 row 1: < 100 peels, single NATS server",
    server: {
      cpuSteadyCores: 0.1,
      cpuBurstCores: 1,
      memoryMiB: 512,
      jetstreamDiskGiB: 10,
      diskIops: 50,
      networkMbps: 1,
      storage: "ssd",
    },
  },
  {
    id: "single",
    minPeels: 100,
    topology: "single",
    serversPerCluster: 1,
    guideRow: "§1 row 2: 100 – 999 peels, single NATS server",
    server: {
      cpuSteadyCores: 0.5,
      cpuBurstCores: 4,
      memoryMiB: 2 * MiB_PER_GiB,
      jetstreamDiskGiB: 50,
      diskIops: 500,
      networkMbps: 10,
      storage: "ssd",
    },
  },
  {
    id: "cluster-3",
    minPeels: 1_000,
    topology: "cluster",
    serversPerCluster: 3,
    guideRow: "§1 row 3: 1,000 – 9,999 peels, 3-node cluster",
    server: {
      cpuSteadyCores: 4,
      cpuBurstCores: 8,
      memoryMiB: 8 * MiB_PER_GiB,
      jetstreamDiskGiB: 200,
      diskIops: 5_000,
      networkMbps: 100,
      storage: "ssd",
    },
  },
  {
    id: "cluster-5",
    minPeels: 10_000,
    topology: "cluster",
    serversPerCluster: 5,
    guideRow: "§1 row 4: 10,000 – 49,999 peels, 5-node cluster",
    server: {
      cpuSteadyCores: 8,
      cpuBurstCores: 16,
      memoryMiB: 16 * MiB_PER_GiB,
      jetstreamDiskGiB: 500,
      diskIops: 20_000,
      networkMbps: 500,
      // Guide §1 says "SSD" in this row but "use NVMe from 10k peels on" below the table.
      storage: "nvme",
    },
  },
  {
    id: "leaf",
    minPeels: 50_000,
    topology: "cluster+leaf",
    serversPerCluster: 5,
    guideRow: "§1 row 5: 50,000 – 99,999 peels, 5-node cluster + leaf nodes",
    server: {
      cpuSteadyCores: 16,
      cpuBurstCores: 32,
      memoryMiB: 32 * MiB_PER_GiB,
      jetstreamDiskGiB: 1024,
      diskIops: 50_000,
      networkMbps: 1_000,
      storage: "nvme",
    },
  },
  {
    id: "supercluster",
    minPeels: 100_000,
    topology: "supercluster",
    serversPerCluster: 5,
    // The guide writes "16+", "50,000+", "1+ Gbps": the figures are floors, planned as given.
    guideRow: "§1 row 6: 100,000+ peels, supercluster (regions joined by gateways)",
    server: {
      cpuSteadyCores: 16,
      cpuBurstCores: 32,
      memoryMiB: 64 * MiB_PER_GiB,
      jetstreamDiskGiB: 2048,
      diskIops: 50_000,
      networkMbps: 1_000,
      storage: "nvme",
    },
  },
];

/** Peel counts at which the guide's §5, §6, §8 and §9 start asking for something. */
export const THRESHOLDS = {
  /** §5 "Above 10,000 peels", §8 "masters with 10,000+ connections", §9 "10,000+". */
  serverTuning: 10_000,
  /** §9 "1,000+": `LimitNOFILE=65536`. */
  limitNofile: 1_000,
  /** §6 ReconnectWait "5 s for very large fleets (50k+)". */
  slowReconnect: 50_000,
  /** §6 ReconnectBufSize "100k+: longer outage tolerance". */
  largeReconnectBuffer: 100_000,
} as const;

/** §5, the nats-server defaults the guide quotes and its example above 10,000 peels. */
export const NATS_SERVER = {
  defaults: {
    maxPayloadBytes: 1024 * 1024,
    writeDeadlineSeconds: 2,
    lameDuckDurationSeconds: 120,
    lameDuckGracePeriodSeconds: 10,
  },
  above10k: {
    /** "2 × expected peel count" (example: 20000 for 10,000 peels). */
    maxConnectionsPerPeel: 2,
    maxPayloadBytes: 8 * 1024 * 1024,
    writeDeadlineSeconds: 10,
    maxMemStoreFloorBytes: 4 * 1024 ** 3,
    maxAckPending: 50_000,
    duplicateWindowSeconds: 600,
  },
  /** §9 at 50,000+: "JetStream memory 16+ GB". */
  above50k: { maxMemStoreFloorBytes: 16 * 1024 ** 3 },
} as const;

/** §6, Zester `ClientConfig`. */
export const CLIENT = {
  defaults: {
    maxReconnects: -1,
    reconnectWaitSeconds: 2,
    reconnectBufSizeBytes: 8 * 1024 * 1024,
    pingIntervalSeconds: 20,
    maxPingsOut: 3,
    drainTimeoutSeconds: 30,
  },
  /** §6 and §9 (50k+): "ReconnectWait 5 s on peels". */
  slowReconnectWaitSeconds: 5,
} as const;

/** §8, applied with `sysctl --system` from `/etc/sysctl.d/99-zester.conf`. */
export const SYSCTL: Readonly<Record<string, string>> = {
  "net.core.somaxconn": "65535",
  "net.ipv4.tcp_max_syn_backlog": "65535",
  "net.core.netdev_max_backlog": "65535",
  "net.ipv4.ip_local_port_range": "1024 65535",
  "net.ipv4.tcp_tw_reuse": "1",
  "fs.file-max": "2097152",
};

/** §9 "1,000+": `LimitNOFILE=65536` in the systemd unit. */
export const LIMIT_NOFILE = 65_536;

export type GuideBucket = Pick<BucketPlan, "name" | "kind" | "history" | "ttlSeconds" | "storage">;

const DAY = 86_400;

/** §7, Zester's defaults (the master creates them at replicas 1), plus the `job-events` stream. */
export const BUCKETS: readonly GuideBucket[] = [
  { name: "facts", kind: "kv", history: 5, ttlSeconds: 0, storage: "file" },
  { name: "settings-files", kind: "kv", history: 3, ttlSeconds: 0, storage: "file" },
  { name: "secrets", kind: "kv", history: 3, ttlSeconds: 0, storage: "file" },
  { name: "basket", kind: "kv", history: 1, ttlSeconds: 0, storage: "file" },
  { name: "jobs", kind: "kv", history: 10, ttlSeconds: 7 * DAY, storage: "file" },
  { name: "job-returns", kind: "kv", history: 1, ttlSeconds: 7 * DAY, storage: "file" },
  { name: "master-heartbeat", kind: "kv", history: 1, ttlSeconds: 15, storage: "file" },
  { name: "enrollments", kind: "kv", history: 10, ttlSeconds: 0, storage: "file" },
  { name: "enroll-challenges", kind: "kv", history: 1, ttlSeconds: 5 * 60, storage: "memory" },
  { name: "state-files", kind: "kv", history: 3, ttlSeconds: 0, storage: "file" },
  { name: "update-manifests", kind: "kv", history: 5, ttlSeconds: 0, storage: "file" },
  { name: "update-status", kind: "kv", history: 1, ttlSeconds: 60, storage: "file" },
  { name: "update-rollouts", kind: "kv", history: 10, ttlSeconds: 0, storage: "file" },
  // The guide gives the stream no history or TTL: 0 means no per-subject limit and no age
  // limit, so nothing here would trim an event log that Zester created with its own limits.
  { name: "job-events", kind: "stream", history: 0, ttlSeconds: 0, storage: "file" },
];

/** §3, per peel; decimal units (100 B/s × 1,000 peels = "~100 KB/s"). */
export const BANDWIDTH = {
  heartbeatBytesPerSecond: 100,
  factSyncBytesPerEvent: 2_000,
  stateApplyBytesPerJob: 10_000,
  settingsPushBytes: 5_000,
  /** The interval that reproduces §3's figures (its "5 min" label does not; see the reference). */
  referenceFactIntervalSeconds: 60,
} as const;

/** §9, what each tier adds. Cumulative: a tier has its own items and every lower tier's. */
export const CHECKLIST: readonly { id: string; since: TierId; item: string }[] = [
  { id: "cluster-3-ha", since: "cluster-3", item: "3-node NATS cluster for HA" },
  { id: "kv-replicas-3", since: "cluster-3", item: "KV bucket replicas 3" },
  { id: "prometheus", since: "cluster-3", item: "Prometheus monitoring and alerting" },
  { id: "jetstream-backups", since: "cluster-3", item: "Automated JetStream backups" },
  { id: "limit-nofile", since: "cluster-3", item: "LimitNOFILE=65536 in the systemd unit" },
  { id: "cluster-5", since: "cluster-5", item: "5-node cluster" },
  { id: "nvme", since: "cluster-5", item: "NVMe storage for JetStream" },
  {
    id: "server-tuning",
    since: "cluster-5",
    item: "Tune max_connections, max_payload, write_deadline",
  },
  { id: "os-tuning", since: "cluster-5", item: "OS tuning (sysctl, file descriptors)" },
  {
    id: "prometheus-sd",
    since: "cluster-5",
    item: "Prometheus service discovery for peel scraping",
  },
  { id: "consider-leafs", since: "cluster-5", item: "Consider leaf nodes for remote sites" },
  { id: "leaf-nodes", since: "leaf", item: "Leaf nodes for edge and DMZ networks" },
  { id: "reconnect-wait-5s", since: "leaf", item: "ReconnectWait 5 s on peels" },
  { id: "jetstream-memory-16g", since: "leaf", item: "JetStream memory 16+ GB" },
  { id: "max-ack-pending", since: "leaf", item: "Monitor and tune max_ack_pending" },
  {
    id: "target-slicing",
    since: "leaf",
    item: "Target slicing / run partitioning to limit fan-out",
  },
  { id: "supercluster", since: "supercluster", item: "NATS supercluster for multi-region" },
  { id: "domain-per-region", since: "supercluster", item: "JetStream domain per region" },
  {
    id: "reconnect-buffer",
    since: "supercluster",
    item: "Larger ReconnectBufSize on peels",
  },
  {
    id: "graduated-rollout",
    since: "supercluster",
    item: "Graduated rollout for mass state applies (partitioned target sets)",
  },
  {
    id: "zester-monitoring",
    since: "supercluster",
    item: "Dedicated monitoring for Zester metrics",
  },
];
