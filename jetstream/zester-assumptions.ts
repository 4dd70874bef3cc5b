/**
 * What this project assumes about Zester beyond the scaling guide, in one place so it is easy
 * to adapt when Zester documents it.
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
} as const;

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
} as const;
