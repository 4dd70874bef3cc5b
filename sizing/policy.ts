/**
 * This project's own sizing choices: where the guide gives no number, or gives one that cannot
 * hold (see each comment). Guide figures stay in `guide.ts`.
 */

/** Ten times the guide's largest figure (100,000): beyond it nothing in the guide is a basis. */
export const MAX_PEELS = 1_000_000;

/**
 * Floor under `max_connections` (2 × peels) so masters, the CLI and exporters still get in
 * on a server that few or no peels connect to directly (a core behind leaf nodes).
 */
export const MIN_MAX_CONNECTIONS = 1_024;

/**
 * JetStream memory store: half the RAM. The rest is for the Go runtime and client buffers
 * (NATS's chart sets GOMEMLIMIT to ~80% of the limit) and the Zester master that runs on the
 * same server. Meets the guide's floors: 8 GiB of 16 at 10k+ (≥ 4 GB), 16 GiB of 32 at 50k+.
 */
export const JETSTREAM_MEMORY_SHARE = 0.5;

/**
 * JetStream file store: 80% of the volume, so JetStream can never fill the disk (guide §5); the
 * rest holds Raft logs, snapshots during catch-up and the filesystem's own reserve.
 */
export const JETSTREAM_DISK_SHARE = 0.8;

/**
 * Open files above `max_connections`: a quarter more for routes, leaf and gateway links and the
 * peaks of reconnect storms, plus a fixed reserve for JetStream's files (two per stream and
 * the message blocks) and logs. Rounded up to a multiple of 1,024; never below the guide's 65,536.
 */
export const NOFILE_CONNECTION_HEADROOM = 0.25;
export const NOFILE_FIXED_RESERVE = 4_096;

/**
 * One leaf-node server per 10,000 peels: the per-server load of the cluster-5 row at its top
 * edge (50,000 peels over 5 servers), the largest per-server load the guide sizes. Leaf servers
 * are sized from that row, without JetStream (a leaf extends the core's JetStream).
 */
export const PEELS_PER_LEAF_SERVER = 10_000;
export const LEAF_SERVER_ROW = "cluster-5";
/** Two leaf servers per site at least, so a site keeps its peels when one leaf is lost. */
export const MIN_LEAF_SERVERS_PER_SITE = 2;
/** Leaf sites may be declared from the tier where the guide starts to consider them (§9, 10k+). */
export const LEAF_SITES_FROM_TIER = "cluster-5";
/** Name of the leaf site the plan implies when the operator declares none. */
export const IMPLIED_LEAF_SITE = "edge";

/**
 * A supercluster region carries at most what the leaf tier carries (its top edge, 99,999), so
 * every region is a tier the guide sizes; and a supercluster has two regions at least.
 */
export const MAX_PEELS_PER_REGION = 99_999;
export const MIN_REGIONS = 2;
/** Name of the one region of every tier below the supercluster. */
export const SINGLE_REGION = "main";
/**
 * The JetStream domain of the one cluster below the supercluster tier, which a supercluster's
 * first region keeps: growing into a supercluster then adds regions next to the running cluster
 * instead of renaming it (a new domain is new data, and every client's `jetstream_domain`).
 */
export const FIRST_DOMAIN = "zester";

/**
 * Lame duck: NATS's minimum (30 s) on the single tiers, where there is no other server to
 * move to and a short stop matters more; NATS's default (2 min) on clusters, which spreads the
 * reconnects of one server's peels over two minutes.
 */
export const SINGLE_LAME_DUCK_SECONDS = 30;
export const MIN_LAME_DUCK_SECONDS = 30;

/** §6 says "larger" at 100k+ without a figure: twice the 8 MiB default. */
export const LARGE_RECONNECT_BUF_BYTES = 16 * 1024 * 1024;

/** Replicas of every bucket on a cluster (R3 survives one server's loss; guide §7, nats-facts). */
export const CLUSTER_REPLICAS = 3;

/** nats-server rejects `max_payload` above `max_pending` (64 MiB by default). */
export const MAX_PAYLOAD_CEILING_BYTES = 64 * 1024 * 1024;

/** NATS KV keeps at most 64 revisions per key. */
export const MAX_KV_HISTORY = 64;

/**
 * Each bucket's and stream's share of a server's JetStream store (`max_file_store`, or
 * `max_mem_store` for the memory-backed one), so every stream is bounded and all of them together
 * fit: a stream that fills the store makes every file-backed write in the account fail, KV
 * buckets included. A server may hold a replica of every stream, so the shares add up over all
 * of them. job-returns is the guide's "most storage-heavy bucket at scale" (§7); job-events is an
 * event log that grows with every job; facts hold one entry per peel with five revisions; the
 * rest are small. What is left (11% of the file store) is spare for an operator's own streams.
 */
export const STORE_SHARES: Readonly<Record<string, number>> = {
  "job-returns": 0.25,
  "job-events": 0.2,
  facts: 0.12,
  jobs: 0.1,
  "state-files": 0.05,
  "settings-files": 0.04,
  basket: 0.03,
  secrets: 0.02,
  enrollments: 0.02,
  "update-manifests": 0.02,
  "update-rollouts": 0.02,
  "master-heartbeat": 0.01,
  "update-status": 0.01,
  /** Of `max_mem_store`: the one memory-backed bucket, short-lived nonces. */
  "enroll-challenges": 0.25,
};

/**
 * job-events keeps what the guide gives jobs themselves (§7: 7 d), oldest events dropped first:
 * the guide gives the stream no limit, and an unbounded log eventually fills the store.
 */
export const JOB_EVENTS_MAX_AGE_SECONDS = 7 * 86_400;

/**
 * Client settings the guide does not give (its §6 lists reconnects, pings, buffers, drain). Chosen
 * from the transitions bench (docs/sizing.md, "Client settings"): a write in flight when its
 * server stops or a stream leader hands off gets no answer, and a client that waits nats.js's
 * default 5 s (or the 2 s the load tools used) for it sees a gap that long. 0.25 s, doubling per
 * retry up to 2 s, brings a peel's longest gap through a member's restart under 0.5 s; retries
 * carry the write's `Nats-Msg-Id`, so none is stored twice.
 */
export const CLIENT_ACK_TIMEOUT_SECONDS = 0.25;
/** Attempts of one write: with the doubling above, about 8 s in all before it is given up. */
export const CLIENT_PUBLISH_ATTEMPTS = 6;
/** NATS's own reconnect jitter for TLS connections (nats.go and nats.js). */
export const CLIENT_RECONNECT_JITTER_SECONDS = 1;
/**
 * A single tier's peels have one server: when it restarts (a tier transition, an upgrade) they
 * wait for it, and at the guide's 2 s plus NATS's 1 s jitter a peel came back 2–3 s after the
 * server did. A single tier has at most 999 peels: reconnecting every half second is nothing to
 * a server (a refused connection costs it no handshake), and brings the gap near the restart itself.
 */
export const SINGLE_TIER_RECONNECT = { waitSeconds: 0.5, jitterSeconds: 0.25 } as const;
