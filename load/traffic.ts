/**
 * The simulated fleet's traffic: the guide's figures (§2, §3) where it gives them, and this
 * project's choices, each with its reason, where it does not. `npm run fleet` prints the model it
 * ran with, so a figure is never read without the load that produced it.
 */
import { BANDWIDTH } from "../sizing/guide";

export interface TrafficModel {
  /** A heartbeat of `heartbeatBytes` every `heartbeatIntervalMs` (guide §2: ~100 B/s). */
  heartbeatIntervalMs: number;
  heartbeatBytes: number;
  /** A fact sync of `factBytes` into the `facts` bucket every `factIntervalMs` (guide §3). */
  factIntervalMs: number;
  factBytes: number;
  /** One enrollment per peel, when it starts. */
  enrollmentBytes: number;
  /** The master dispatches a job every `jobIntervalMs` to `jobTargetShare` of the peels. */
  jobIntervalMs: number;
  jobTargetShare: number;
  jobBytes: number;
  /** Each targeted peel runs the job for up to `jobRunMaxMs`, then writes a return of `jobReturnBytes`. */
  jobRunMaxMs: number;
  jobReturnBytes: number;
  /** A KV write not acknowledged within this is counted unacknowledged (and, for latency, as this long). */
  writeTimeoutMs: number;
}

/**
 * Heartbeats: the guide gives ~100 B/s per idle peel, not the period; one 100-byte message a
 * second is that rate with the least latency to notice a silent peel.
 */
const HEARTBEAT_INTERVAL_MS = 1_000;
/** An enrollment carries a peel's public key and a few identifying facts: about 1 KB (assumed). */
const ENROLLMENT_BYTES = 1_000;
/**
 * Jobs: the guide calls state applies bursts without a rate. One job every 5 s to 1% of the
 * fleet keeps returns (10 KB each, guide §3) at a tenth of the fact-sync write rate at the
 * guide's 60 s interval: present in every measurement, never the dominant load. A mass
 * `state.apply` is a burst the fault and durability figures cover separately.
 */
const JOB_INTERVAL_MS = 5_000;
const JOB_TARGET_SHARE = 0.01;
/** A job message: the function to run and its arguments (assumed ~500 B). */
const JOB_BYTES = 500;
/** A state apply on a peel takes its time; returns spread over half a second, not all at once. */
const JOB_RUN_MAX_MS = 500;
/** nats.js's own JetStream request timeout: what a peel using the client's defaults waits for an ack. */
export const FLEET_WRITE_TIMEOUT_MS = 5_000;

export function trafficModel(factIntervalSeconds: number = BANDWIDTH.referenceFactIntervalSeconds): TrafficModel {
  return {
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    heartbeatBytes: (BANDWIDTH.heartbeatBytesPerSecond * HEARTBEAT_INTERVAL_MS) / 1000,
    factIntervalMs: factIntervalSeconds * 1000,
    factBytes: BANDWIDTH.factSyncBytesPerEvent,
    enrollmentBytes: ENROLLMENT_BYTES,
    jobIntervalMs: JOB_INTERVAL_MS,
    jobTargetShare: JOB_TARGET_SHARE,
    jobBytes: JOB_BYTES,
    jobRunMaxMs: JOB_RUN_MAX_MS,
    jobReturnBytes: BANDWIDTH.stateApplyBytesPerJob,
    writeTimeoutMs: FLEET_WRITE_TIMEOUT_MS,
  };
}

/**
 * Messages a second the model asks of `peels` peels and their master in the steady phase:
 * heartbeats, fact syncs, job messages and returns, and the master's job entries. A simulator
 * on a saturated machine fires its timers late and offers less; the fleet reports both.
 */
export function modelMessagesPerSecond(t: TrafficModel, peels: number): number {
  const targets = Math.max(1, Math.round(peels * t.jobTargetShare));
  return (
    (peels * 1000) / t.heartbeatIntervalMs +
    (peels * 1000) / t.factIntervalMs +
    ((2 * targets + 1) * 1000) / t.jobIntervalMs
  );
}

/** One line saying what load a run put on the tier. */
export function describeTraffic(t: TrafficModel): string {
  return (
    `heartbeat ${t.heartbeatBytes} B every ${t.heartbeatIntervalMs / 1000} s; enrollment ${t.enrollmentBytes} B once; ` +
    `fact sync ${t.factBytes} B every ${t.factIntervalMs / 1000} s; a job every ${t.jobIntervalMs / 1000} s to ` +
    `${t.jobTargetShare * 100}% of the peels, ${t.jobReturnBytes} B return each; ack timeout ${t.writeTimeoutMs / 1000} s`
  );
}
