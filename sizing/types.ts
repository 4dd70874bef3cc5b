/** The shapes that flow out of `sizing/`. Plain data only: no Pulumi, no I/O. */

export const TIER_IDS = ["single-small", "single", "cluster-3", "cluster-5", "leaf", "supercluster"] as const;
export type TierId = (typeof TIER_IDS)[number];

export type StorageClass = "ssd" | "nvme";
export type TopologyKind = "single" | "cluster" | "cluster+leaf" | "supercluster";

/** Where a planned value comes from, so nothing changes silently. */
export type Source = "guide" | "nats-default" | "derived" | "override";

export interface Provenance {
  source: Source;
  why: string;
}

/** Resources of one server. CPU in cores, memory in MiB, disk in GiB. */
export interface ServerSize {
  cpuSteadyCores: number;
  cpuBurstCores: number;
  memoryMiB: number;
  jetstreamDiskGiB: number;
  diskIops: number;
  networkMbps: number;
  storage: StorageClass;
}

/** nats-server settings of a core (JetStream) server. Durations in seconds, sizes in bytes. */
export interface ServerTuning {
  maxConnections: number;
  /** The peels one server must be able to hold: all of its cluster's, leaf sites' included. */
  expectedPeelsPerServer: number;
  maxPayloadBytes: number;
  writeDeadlineSeconds: number;
  jetstream: {
    maxMemStoreBytes: number;
    maxFileStoreBytes: number;
    /** Absent where the guide leaves the server's own default (no ceiling) alone. */
    maxAckPending?: number;
    duplicateWindowSeconds?: number;
  };
  lameDuckDurationSeconds: number;
  lameDuckGracePeriodSeconds: number;
  provenance: Record<string, Provenance>;
}

/** Zester `ClientConfig` for one kind of client. Durations in seconds, sizes in bytes. */
export interface ClientSettings {
  maxReconnects: number;
  reconnectWaitSeconds: number;
  /** Added to each reconnect wait at random, so a fleet does not come back all at once. */
  reconnectJitterSeconds: number;
  reconnectBufSizeBytes: number;
  pingIntervalSeconds: number;
  maxPingsOut: number;
  drainTimeoutSeconds: number;
  /**
   * How long one attempt of a JetStream write (a KV put) waits for its acknowledgement; each
   * retry waits twice as long as the one before, up to 2 s.
   */
  ackTimeoutSeconds: number;
  /**
   * Attempts of one write before it is given up. Every attempt carries the same `Nats-Msg-Id`,
   * so the stream stores the write once (its duplicate window); an attempt whose connection
   * drops, or that finds no stream leader, is made again at once on the next connection.
   */
  publishAttempts: number;
}

export interface ClientTuning {
  master: ClientSettings;
  peel: ClientSettings;
  provenance: Record<string, Provenance>;
}

export interface OsTuning {
  /** Empty below the tier where the guide asks for kernel tuning. */
  sysctl: Record<string, string>;
  limitNofile: number;
  provenance: Record<string, Provenance>;
}

/** A bucket's kind, storage and discard policy: the reconcile job reads them back (jetstream/cluster-job.ts). */
export const BUCKET_KINDS = ["kv", "stream"] as const;
export const BUCKET_STORAGES = ["file", "memory"] as const;
export const DISCARD_POLICIES = ["old", "new"] as const;

export interface BucketPlan {
  name: string;
  kind: (typeof BUCKET_KINDS)[number];
  /** The JetStream stream that holds it (`KV_<bucket>` for KV buckets). */
  stream: string;
  history: number;
  /** 0 means no TTL. */
  ttlSeconds: number;
  replicas: number;
  storage: (typeof BUCKET_STORAGES)[number];
  /** The stream's `max_bytes`: its share of the server's JetStream store for its storage. */
  maxBytes: number;
  /** What a full stream does: KV buckets refuse new writes (NATS KV's own choice); job-events drops its oldest. */
  discard: (typeof DISCARD_POLICIES)[number];
}

/** Every stream's `max_bytes` against the store that holds them (a server may hold a replica of each). */
export interface StorageBudget {
  fileStoreBytes: number;
  filePlannedBytes: number;
  memStoreBytes: number;
  memPlannedBytes: number;
}

export interface Bandwidth {
  factIntervalSeconds: number;
  peels: number;
  heartbeatBytesPerSecond: number;
  factSyncBytesPerSecond: number;
  /** One `state.apply` to every peel: a burst, not a rate. */
  stateApplyBytesPerJob: number;
  settingsPushBytesTotal: number;
  perPeel: {
    heartbeatBytesPerSecond: number;
    factSyncBytesPerEvent: number;
    stateApplyBytesPerJob: number;
    settingsPushBytes: number;
  };
}

export interface ChecklistItem {
  id: string;
  /** The tier that adds the item; items are cumulative. */
  since: TierId;
  item: string;
}

export interface LeafSitePlan {
  name: string;
  region: string;
  peels: number;
  servers: number;
  /** True when the operator declared the site, false when the plan implied it. */
  declared: boolean;
}

export interface RegionPlan {
  name: string;
  /** All peels of the region, those behind its leaf sites included. */
  peels: number;
  /** Peels that connect straight to the region's core cluster. */
  directPeels: number;
  servers: number;
  declared: boolean;
  /** Set on superclusters only (the guide: a JetStream domain per region). */
  jetstreamDomain?: string;
  /** Read-only copies of other regions' buckets this region keeps; absent when none. */
  replicas?: ReplicaPlan[];
}

/**
 * A read-only copy, in one region, of another region's KV bucket: a KV bucket of its own,
 * `<bucket>-from-<region>`, whose stream mirrors the source's stream across JetStream domains.
 * Limits, history and replicas are the source's, so the copy holds what the source holds.
 */
export interface ReplicaPlan extends Omit<BucketPlan, "kind" | "discard"> {
  kind: "kv";
  discard: "new";
  /** What it mirrors: the source region, its JetStream domain, the bucket and its stream. */
  mirror: { region: string; domain: string; bucket: string; stream: string };
}

/** Leaf-node servers: no JetStream, they extend the core's. */
export interface LeafNodePlan {
  server: ServerSize;
  maxConnections: number;
  expectedPeelsPerServer: number;
  limitNofile: number;
  provenance: Record<string, Provenance>;
}

/** An override below what the plan computes the tier needs, which the operator confirmed. */
export interface BelowPlan {
  /** The override's path under `overrides`, e.g. "natsServer.maxConnections", "kv.facts.replicas". */
  path: string;
  value: number;
  /** What the plan computes the tier needs. */
  needed: number;
  /** What the lower value breaks, with numbers. */
  breaks: string;
}

export interface SizingPlan {
  tier: TierId;
  peels: number;
  topology: TopologyKind;
  guideRow: string;
  serversPerCluster: number;
  totalServers: number;
  server: ServerSize;
  natsServer: ServerTuning;
  client: ClientTuning;
  os: OsTuning;
  kv: BucketPlan[];
  storageBudget: StorageBudget;
  bandwidth: Bandwidth;
  regions: RegionPlan[];
  leafSites: LeafSitePlan[];
  /** Present when the plan has leaf sites. */
  leafNode?: LeafNodePlan;
  checklist: ChecklistItem[];
  /** Values the operator overrode, by dotted path, as given. */
  overrides: string[];
  /** Present when overrides go below what the plan needs and `overrides.confirmBelowPlan` confirms them. */
  belowPlan?: BelowPlan[];
}
