/** Per-server resources and nats-server tuning for core and leaf servers. */
import { fmt, bytes } from "./format";
import { NATS_SERVER, THRESHOLDS, TIERS, type TierRow } from "./guide";
import {
  JETSTREAM_DISK_SHARE,
  JETSTREAM_MEMORY_SHARE,
  LEAF_SERVER_ROW,
  MAX_PAYLOAD_CEILING_BYTES,
  MIN_MAX_CONNECTIONS,
  SINGLE_LAME_DUCK_SECONDS,
} from "./policy";
import { belowPlanProvenance, maxConnectionsBelowPlan } from "./below-plan";
import { SpecError, type Overrides, type Problem } from "./spec";
import type { BelowPlan, LeafSitePlan, Provenance, RegionPlan, ServerSize, ServerTuning } from "./types";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Applies typed overrides to `target`, records them, and marks their provenance. */
export function applyOverrides<T extends object>(
  target: T,
  given: Partial<T> | undefined,
  path: string[],
  provenance: Record<string, Provenance>,
  applied: string[],
): T {
  if (given === undefined) return target;
  const out = { ...target };
  for (const key of Object.keys(given) as (keyof T & string)[]) {
    const value = given[key];
    if (value === undefined) continue;
    out[key] = value;
    const dotted = [...path, key].join(".");
    applied.push(dotted);
    provenance[key] = { source: "override", why: `set by ${dotted}` };
  }
  return out;
}

/** The tier row's server (the plan's `guideRow` says where it came from), with operator overrides. */
export function coreServer(tier: TierRow, overrides: Overrides, applied: string[]): ServerSize {
  const size = applyOverrides(tier.server, overrides.server, ["overrides", "server"], {}, applied);
  if (size.cpuBurstCores < size.cpuSteadyCores) {
    throw new SpecError([
      {
        path: ["overrides", "server", "cpuBurstCores"],
        message: `must be at least cpuSteadyCores (${size.cpuSteadyCores}); it is ${size.cpuBurstCores}`,
      },
    ]);
  }
  return size;
}

/** 2 × the peels one server must hold (the guide's rule), never below the floor for masters and tools. */
export function maxConnectionsFor(expectedPeels: number): number {
  return Math.max(MIN_MAX_CONNECTIONS, NATS_SERVER.above10k.maxConnectionsPerPeel * expectedPeels);
}

function maxConnectionsWhy(expected: number, peels: number, who: string): string {
  const rule = `2 × ${fmt(expected)} peels (${who})`;
  const floor =
    2 * expected < MIN_MAX_CONNECTIONS ? `, raised to the ${fmt(MIN_MAX_CONNECTIONS)} floor for masters and tools` : "";
  const below =
    peels < THRESHOLDS.serverTuning
      ? "; the guide's rule from 10k applied below it too, instead of NATS's 65,536, so LimitNOFILE always stays above it"
      : "";
  return `${rule}${floor}${below}`;
}

/** What sets each tuned value's size: the tier's shape and the peels one server may get. */
interface TuningBasis {
  big: boolean;
  single: boolean;
  /** All of a region's peels, those behind its leaf sites too: they may fall back to the core. */
  expected: number;
  peels: number;
  size: ServerSize;
}

export function serverTuning(
  tier: TierRow,
  peels: number,
  regions: RegionPlan[],
  size: ServerSize,
  overrides: Overrides,
  applied: string[],
  below: BelowPlan[],
): ServerTuning {
  const basis: TuningBasis = {
    big: peels >= THRESHOLDS.serverTuning,
    single: tier.serversPerCluster === 1,
    expected: Math.max(...regions.map((r) => r.peels)),
    peels,
    size,
  };
  const provenance = tuningProvenance(basis);
  const t = applyOverrides(
    plannedTuning(basis),
    overrides.natsServer,
    ["overrides", "natsServer"],
    provenance,
    applied,
  );
  if (overrides.natsServer?.maxConnections !== undefined) {
    // The need is the guide's 2 × peels; the floor above it is this project's choice, not a need.
    const holder = basis.single
      ? "server"
      : regions.some((r) => r.peels > r.directPeels)
        ? "cluster with leaf sites"
        : "cluster";
    const found = maxConnectionsBelowPlan(t.maxConnections, basis.expected, holder);
    if (found.value < found.needed) {
      below.push(found);
      provenance.maxConnections = belowPlanProvenance(found);
    }
  }
  checkServerTuning(t, size, peels);
  return {
    maxConnections: t.maxConnections,
    expectedPeelsPerServer: basis.expected,
    maxPayloadBytes: t.maxPayloadBytes,
    writeDeadlineSeconds: t.writeDeadlineSeconds,
    jetstream: {
      maxMemStoreBytes: t.maxMemStoreBytes,
      maxFileStoreBytes: t.maxFileStoreBytes,
      ...(t.maxAckPending === undefined ? {} : { maxAckPending: t.maxAckPending }),
      ...(t.duplicateWindowSeconds === undefined ? {} : { duplicateWindowSeconds: t.duplicateWindowSeconds }),
    },
    lameDuckDurationSeconds: t.lameDuckDurationSeconds,
    lameDuckGracePeriodSeconds: t.lameDuckGracePeriodSeconds,
    provenance,
  };
}

function plannedTuning({ big, single, expected, size }: TuningBasis): Tunable {
  return {
    maxConnections: maxConnectionsFor(expected),
    maxPayloadBytes: big ? NATS_SERVER.above10k.maxPayloadBytes : NATS_SERVER.defaults.maxPayloadBytes,
    writeDeadlineSeconds: big ? NATS_SERVER.above10k.writeDeadlineSeconds : NATS_SERVER.defaults.writeDeadlineSeconds,
    maxMemStoreBytes: Math.floor(size.memoryMiB * MiB * JETSTREAM_MEMORY_SHARE),
    maxFileStoreBytes: Math.floor(size.jetstreamDiskGiB * GiB * JETSTREAM_DISK_SHARE),
    maxAckPending: big ? NATS_SERVER.above10k.maxAckPending : undefined,
    duplicateWindowSeconds: big ? NATS_SERVER.above10k.duplicateWindowSeconds : undefined,
    lameDuckDurationSeconds: single ? SINGLE_LAME_DUCK_SECONDS : NATS_SERVER.defaults.lameDuckDurationSeconds,
    lameDuckGracePeriodSeconds: NATS_SERVER.defaults.lameDuckGracePeriodSeconds,
  };
}

function tuningProvenance({ big, single, expected, peels, size }: TuningBasis): Record<string, Provenance> {
  const provenance: Record<string, Provenance> = {
    maxConnections: {
      source: big ? "guide" : "derived",
      why: maxConnectionsWhy(
        expected,
        peels,
        single
          ? "all peels of the server"
          : "the peels of the busiest cluster, leaf sites' included, as they may fall back to it; any of its servers may get them all",
      ),
    },
    maxPayloadBytes: big
      ? { source: "guide", why: "§5 above 10,000 peels: 8 MB for large state applies and fact sets" }
      : { source: "nats-default", why: "NATS default (1 MB); the guide changes it above 10,000 peels" },
    writeDeadlineSeconds: big
      ? { source: "guide", why: "§5 above 10,000 peels: 10 s" }
      : { source: "nats-default", why: "NATS default (2 s); the guide changes it above 10,000 peels" },
    maxMemStoreBytes: {
      source: "derived",
      why: `${JETSTREAM_MEMORY_SHARE * 100}% of ${bytes(size.memoryMiB * MiB)} RAM, set explicitly instead of NATS's 75%`,
    },
    maxFileStoreBytes: {
      source: "derived",
      why: `${JETSTREAM_DISK_SHARE * 100}% of the ${size.jetstreamDiskGiB} GiB volume, so JetStream cannot fill the disk`,
    },
    lameDuckDurationSeconds: single
      ? { source: "derived", why: "NATS's minimum (30 s): a single server has no peer to hand clients to" }
      : { source: "nats-default", why: "NATS default (2 min), set explicitly: spreads one server's reconnects" },
    lameDuckGracePeriodSeconds: { source: "nats-default", why: "NATS default (10 s)" },
  };
  if (big) {
    provenance.maxAckPending = {
      source: "guide",
      why: "§5 example above 10,000 peels (a ceiling on consumers' max_ack_pending)",
    };
    provenance.duplicateWindowSeconds = {
      source: "guide",
      why: "§5 example above 10,000 peels (10 min; a ceiling on streams' duplicate window)",
    };
  }
  return provenance;
}

interface Tunable {
  maxConnections: number;
  maxPayloadBytes: number;
  writeDeadlineSeconds: number;
  maxMemStoreBytes: number;
  maxFileStoreBytes: number;
  maxAckPending: number | undefined;
  duplicateWindowSeconds: number | undefined;
  lameDuckDurationSeconds: number;
  lameDuckGracePeriodSeconds: number;
}

function checkServerTuning(t: Tunable, size: ServerSize, peels: number): void {
  const problems: Problem[] = [];
  const at = (key: string): Problem["path"] => ["overrides", "natsServer", key];
  const memory = size.memoryMiB * MiB;
  if (t.maxMemStoreBytes > memory) {
    problems.push({
      path: at("maxMemStoreBytes"),
      message: `${bytes(t.maxMemStoreBytes)} is more than the server's ${bytes(memory)} RAM; keep it below, with room for the Go runtime and the master`,
    });
  }
  const floor =
    peels >= THRESHOLDS.slowReconnect
      ? NATS_SERVER.above50k.maxMemStoreFloorBytes
      : peels >= THRESHOLDS.serverTuning
        ? NATS_SERVER.above10k.maxMemStoreFloorBytes
        : 0;
  if (t.maxMemStoreBytes < floor) {
    problems.push({
      path: at("maxMemStoreBytes"),
      message: `JetStream memory would be ${bytes(t.maxMemStoreBytes)}; the guide asks at least ${bytes(floor)} at ${fmt(peels)} peels. Raise overrides.server.memoryMiB or overrides.natsServer.maxMemStoreBytes`,
    });
  }
  const disk = size.jetstreamDiskGiB * GiB;
  if (t.maxFileStoreBytes > disk) {
    problems.push({
      path: at("maxFileStoreBytes"),
      message: `${bytes(t.maxFileStoreBytes)} is more than the ${bytes(disk)} JetStream volume; JetStream would fill the disk`,
    });
  }
  if (t.maxPayloadBytes > MAX_PAYLOAD_CEILING_BYTES) {
    problems.push({
      path: at("maxPayloadBytes"),
      message: `${bytes(t.maxPayloadBytes)} is above nats-server's max_pending (${bytes(MAX_PAYLOAD_CEILING_BYTES)}), which it must not exceed`,
    });
  }
  if (t.lameDuckGracePeriodSeconds >= t.lameDuckDurationSeconds) {
    problems.push({
      path: at("lameDuckGracePeriodSeconds"),
      message: `must be shorter than lameDuckDurationSeconds (${t.lameDuckDurationSeconds})`,
    });
  }
  if (problems.length > 0) throw new SpecError(problems);
}

/** Leaf servers: the cluster-5 row's CPU, RAM and network, no JetStream (they extend the core's). */
export function leafNodeSize(): ServerSize {
  const row = TIERS.find((t) => t.id === LEAF_SERVER_ROW);
  if (row === undefined) throw new Error(`tier table has no ${LEAF_SERVER_ROW} row`);
  return { ...row.server, jetstreamDiskGiB: 0, diskIops: 0, storage: "ssd" };
}

export function leafExpectedPeels(sites: LeafSitePlan[]): number {
  return Math.max(0, ...sites.map((s) => s.peels));
}
