/**
 * What each identity may publish and subscribe to, as nats-server permissions: allow-lists, so
 * anything not named is refused. Built from the topology (its JetStream domains and planned
 * streams) and the subjects assumed in zester-assumptions.ts. Pure.
 *
 * JetStream's API is reached as `$JS.API.…` on a core server, or `$JS.<domain>.API.…` from
 * behind a leaf server or across a region link; every JetStream permission is granted in both
 * forms for each of the topology's domains.
 */
import type { ClientRole } from "./auth";
import type { Topology } from "./types";
import {
  JOB_EVENTS_SUBJECTS,
  PEEL_BUCKETS,
  PEEL_SUBJECTS,
  PEELS_PUBLISH_JOB_EVENTS,
  ZESTER_SUBJECTS,
} from "./zester-assumptions";

export interface Permissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

/** Replies to requests, and the deliveries of KV watches and ordered consumers. */
const INBOX = "_INBOX.>";
/** A snapshot's acknowledgements and a restore's chunks (stream copies in a tier transition). */
const SNAPSHOT_CHUNKS = "$JS.SNAPSHOT.>";
/** Flow-control answers of a consumer's client (ordered consumers: KV watches, key listings). */
const FLOW_CONTROL = "$JS.FC.>";

/**
 * Requests the monitoring identity may make of the system account: the read-only ones nats
 * surveyor and `nats server report` use, never a reload, a kick or lame duck (2.10+ requests).
 */
const MONITORING_REQUESTS = [
  "STATSZ",
  "VARZ",
  "CONNZ",
  "SUBSZ",
  "ROUTEZ",
  "GATEWAYZ",
  "LEAFZ",
  "ACCOUNTZ",
  "JSZ",
  "HEALTHZ",
];

/** The JetStream API prefixes a client may use: the plain one and each domain's. */
export function apiPrefixes(t: Topology): string[] {
  const domains = [...new Set(t.servers.flatMap((s) => (s.domain === undefined ? [] : [s.domain])))];
  return ["$JS.API", ...domains.map((d) => `$JS.${d}.API`)];
}

const everyPrefix = (t: Topology, subjects: string[]): string[] =>
  apiPrefixes(t).flatMap((prefix) => subjects.map((s) => `${prefix}.${s}`));

/** Reading one bucket the way nats.js's KV client does: open, get, watch (an ordered consumer). */
function readBucket(t: Topology, bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return everyPrefix(t, [
    `STREAM.INFO.${stream}`,
    `DIRECT.GET.${stream}`,
    `DIRECT.GET.${stream}.>`,
    `STREAM.MSG.GET.${stream}`,
    `CONSUMER.CREATE.${stream}`,
    `CONSUMER.CREATE.${stream}.>`,
    `CONSUMER.INFO.${stream}.*`,
    `CONSUMER.DELETE.${stream}.*`,
  ]);
}

/** Writing one bucket: a put is a publish to `$KV.<bucket>.<key>`, prefixed by the API when a domain is set. */
function writeBucket(t: Topology, bucket: string): string[] {
  return [`$KV.${bucket}.>`, ...everyPrefix(t, [`$KV.${bucket}.>`, `STREAM.INFO.KV_${bucket}`])];
}

/**
 * A peel: its heartbeat, its writes into the buckets it owns, reads of the buckets rendered for
 * it, and jobs addressed to peels. Never a job to a peel (only masters publish those), never
 * `KV_secrets`, never a stream's creation, change or deletion.
 */
function peel(t: Topology): Permissions {
  const jobEvents: string[] = PEELS_PUBLISH_JOB_EVENTS ? JOB_EVENTS_SUBJECTS : [];
  return {
    publish: {
      allow: [
        PEEL_SUBJECTS.heartbeats,
        ...jobEvents,
        ...PEEL_BUCKETS.writes.flatMap((b) => writeBucket(t, b)),
        ...PEEL_BUCKETS.reads.flatMap((b) => readBucket(t, b)),
        ...everyPrefix(t, ["INFO"]),
        FLOW_CONTROL,
        INBOX,
      ],
    },
    subscribe: { allow: [PEEL_SUBJECTS.jobs, INBOX] },
  };
}

/**
 * The Zester app: its own subjects, every KV bucket, and JetStream's whole API in its account;
 * also the operator's hand in that account, so a tier transition copies streams as this identity
 * (a snapshot's acknowledgements and a restore's chunks go to `$JS.SNAPSHOT.…`).
 */
function master(t: Topology): Permissions {
  return {
    publish: {
      allow: [
        ZESTER_SUBJECTS,
        "$KV.>",
        ...apiPrefixes(t).map((p) => `${p}.>`),
        "$JS.ACK.>",
        SNAPSHOT_CHUNKS,
        FLOW_CONTROL,
        INBOX,
      ],
    },
    subscribe: { allow: [ZESTER_SUBJECTS, INBOX] },
  };
}

/**
 * The KV reconcile (and a transition job): look at, create and change the planned streams and
 * the regions' copies of other regions' buckets (mirrors: the server, not this identity, reads
 * the source), on the cluster it runs next to; not a message in them, not another stream, never
 * a deletion.
 */
function reconcile(t: Topology): Permissions {
  const copies = t.plan.regions.flatMap((r) => (r.replicas ?? []).map((c) => c.stream));
  const streams = [...new Set([...t.plan.kv.map((b) => b.stream), ...copies])];
  return {
    publish: {
      allow: [
        "$JS.API.INFO",
        ...streams.flatMap((s) => [
          `$JS.API.STREAM.INFO.${s}`,
          `$JS.API.STREAM.CREATE.${s}`,
          `$JS.API.STREAM.UPDATE.${s}`,
        ]),
      ],
    },
    subscribe: { allow: [INBOX] },
  };
}

function monitoring(): Permissions {
  return {
    publish: {
      allow: [
        "$SYS.REQ.SERVER.PING",
        ...MONITORING_REQUESTS.flatMap((r) => [`$SYS.REQ.SERVER.PING.${r}`, `$SYS.REQ.SERVER.*.${r}`]),
      ],
    },
    subscribe: { allow: [INBOX] },
  };
}

/**
 * A leaf site's link into its hub. On the hub, a leaf connection's `publish` is what the site may
 * send in and its `subscribe` what the site may receive: what its peels may do (as `peel`, in the
 * domain forms a peel behind a leaf server uses) and the replies to them, nothing a master does.
 * A DMZ server taken over gets no further than a peel.
 */
function leafLink(t: Topology): Permissions {
  const p = peel(t);
  return { publish: { allow: p.publish.allow }, subscribe: { allow: p.subscribe.allow } };
}

/** Every client role's permissions; `system` has none (it is the operator's, in the system account). */
export function rolePermissions(t: Topology): Record<Exclude<ClientRole, "system">, Permissions> {
  return { master: master(t), peel: peel(t), reconcile: reconcile(t), monitoring: monitoring() };
}

/** The links' permissions: a leaf site's is a peel's; a region link carries the whole app account. */
export function linkPermissions(t: Topology): { leafLink: Permissions } {
  return { leafLink: leafLink(t) };
}
