/**
 * What this project assumes about Zester beyond the scaling guide, in one place so it is easy
 * to adapt when Zester documents it: the subjects and buckets its masters and peels use, which
 * the fleet simulator (`load/`) follows and every identity's permissions (permissions.ts) allow.
 */

/** Subjects of the `job-events` stream, used only when the stream does not exist yet. */
export const JOB_EVENTS_SUBJECTS = ["zester.job-events.>"];

/**
 * Core NATS subjects a peel uses, as the fleet simulator (`load/`) assumes them. The guide names
 * the traffic (heartbeats ~100 B/s, jobs dispatched by a master) but not its subjects.
 */
export const PEEL_SUBJECTS = {
  /** A peel's heartbeat, published about once a second; the master listens on the wildcard. */
  heartbeat: (peel: string): string => `zester.heartbeat.${peel}`,
  heartbeats: "zester.heartbeat.*",
  /** Where the master sends a job to one peel (targeted, not a broadcast every peel filters). */
  job: (peel: string): string => `zester.peel.${peel}.job`,
  /** Every peel's job subject: what a peel subscribes to (its own), and only masters publish. */
  jobs: "zester.peel.*.job",
  /** A peel's own job events (JOB_EVENTS_SUBJECTS), under its id so it can publish no other peel's. */
  jobEvents: (peel: string): string => `zester.job-events.${peel}.>`,
} as const;

/** Every subject of Zester's own (outside JetStream's): masters publish and subscribe under it. */
export const ZESTER_SUBJECTS = "zester.>";

/**
 * Which KV bucket (guide §7) holds which piece of peel traffic, and under which key. The
 * buckets are the guide's; the keys are assumed.
 */
export const PEEL_KV = {
  /** One entry per peel, rewritten at every fact sync. */
  facts: { bucket: "facts", key: (peel: string): string => peel },
  /** One entry per peel, written when it enrolls. */
  enrollments: { bucket: "enrollments", key: (peel: string): string => peel },
  /** One entry per job, written by the master when it dispatches it. */
  jobs: { bucket: "jobs", key: (job: string): string => job },
  /** One entry per job and peel: the peel's return. */
  jobReturns: { bucket: "job-returns", key: (job: string, peel: string): string => `${job}.${peel}` },
  /** One entry per peel: its self-update status, rewritten with every heartbeat of the watchdog. */
  updateStatus: { bucket: "update-status", key: (peel: string): string => peel },
} as const;

/**
 * The buckets a peel writes (facts, its enrollment, job returns, its update status) and the
 * ones it only reads (what the master renders for it, jobs, the master's heartbeat, enrollment
 * challenges, the self-update manifests and rollouts). Assumed: the guide says what each bucket
 * holds, not who writes it. `secrets` and `basket` are in neither: a peel never reads them (the
 * master renders a peel's secrets into what it sends that peel).
 */
export const PEEL_BUCKETS = {
  writes: ["facts", "enrollments", "job-returns", "update-status"],
  reads: [
    "settings-files",
    "state-files",
    "jobs",
    "master-heartbeat",
    "enroll-challenges",
    "update-manifests",
    "update-rollouts",
  ],
} as const;

/**
 * Whether a peel publishes job progress into the `job-events` stream (its subjects above) itself.
 * Assumed yes: the events are about what a peel does.
 */
export const PEELS_PUBLISH_JOB_EVENTS: boolean = true;
