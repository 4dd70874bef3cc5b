/**
 * What each identity may publish and subscribe to: allow-lists, so anything not named is
 * refused. Built from the topology (its JetStream domains and planned streams) and the subjects
 * assumed in zester-assumptions.ts. Pure.
 *
 * Three rules make a peel unable to reach what is not its own, each closing a route an attacker
 * holding one peel's credentials would take (test/local/attacks.ts tries every one):
 *
 * - **Replies stay with their requester.** Every identity has an inbox prefix of its own
 *   (`_INBOX.<name>`) and may subscribe to nothing else of `_INBOX`; peels live in their own
 *   account, so not even the servers' answers to what a peel asks land where the app's clients
 *   or streams are. NATS never checks a request's reply subject: whatever a client names as its
 *   reply, the server answers there, in the client's account. In the app account a peel could
 *   make JetStream write its answer into another peel's `$KV.facts.<peel>` (tried on 2.9.10 and
 *   2.15.1); in the peels' account, where no stream is, it cannot.
 * - **No consumer for a peel.** A consumer delivers to the subject its creator names, unchecked,
 *   as the server: a peel able to create one could deliver into any subject of the account. Peels
 *   read by key (a direct get, a message get: request and reply); jobs reach them on their job
 *   subject. So a peel can neither delete nor change another client's consumer.
 * - **Each peel only its own.** The peels' issuer is a scoped signing key: every peel it signs
 *   gets the template below, `{{name()}}` being the peel's id (its JWT's name), so it writes only
 *   its own keys, publishes only its own heartbeat and job events, and subscribes only to its own
 *   job subject and inbox.
 *
 * JetStream's API is reached as `$JS.API.…` next to a core server, or `$JS.<domain>.API.…` from
 * behind a leaf server (a leaf connection carries no `$JS.API` nor `$KV`); every JetStream
 * permission is given in both forms. A peel's (and its site's link's) name the domain `*`: in the
 * peels' account a server maps only its own domain's form onto the app's services, so another
 * domain's reaches nothing, and the peels' template stays one size whatever the regions (it is in
 * every server's config, which AWS keeps in an 8 KB parameter).
 */
import { inboxPrefix, type ClientRole } from "./auth";
import type { Topology } from "./types";
import {
  JOB_EVENTS_SUBJECTS,
  PEEL_BUCKETS,
  PEEL_KV,
  PEEL_SUBJECTS,
  PEELS_PUBLISH_JOB_EVENTS,
  ZESTER_SUBJECTS,
} from "./zester-assumptions";

export interface Permissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

/** What the `app` account exports and the `peels` account imports: exactly what a peel needs. */
export interface PeelServices {
  /** Request-reply (and plain publishes) from a peel into the app account. */
  services: string[];
  /** Messages from the app account to peels. */
  streams: string[];
}

/** The template token the server replaces with the user's name (its peel id) at connect. */
export const NAME = "{{name()}}";

/** An identity's own inbox, and nothing else of `_INBOX`. */
const inbox = (identity: string): string => `${inboxPrefix(identity)}.>`;
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

/** A peel's own key in each bucket it writes (`peel` is its id, or a template token or `*`). */
function ownKeys(peel: string): string[] {
  const keys: Record<(typeof PEEL_BUCKETS.writes)[number], string> = {
    facts: PEEL_KV.facts.key(peel),
    enrollments: PEEL_KV.enrollments.key(peel),
    "job-returns": PEEL_KV.jobReturns.key("*", peel),
    "update-status": PEEL_KV.updateStatus.key(peel),
  };
  return PEEL_BUCKETS.writes.map((bucket) => `$KV.${bucket}.${keys[bucket]}`);
}

/** Reading a bucket by key, the way nats.js's and nats.go's KV clients do: a message get or a direct get. */
const readsOf = (bucket: string): string[] => {
  const stream = `KV_${bucket}`;
  return [`STREAM.MSG.GET.${stream}`, `DIRECT.GET.${stream}`, `DIRECT.GET.${stream}.>`];
};

/** A peel's two API prefixes: next to a core server, and its region's domain's behind a leaf server. */
const PEEL_API_PREFIXES = ["$JS.API", "$JS.*.API"];

/** What every peel may do, with `peel` its id (the template token, or `*` for every peel at once). */
function peelReach(peel: string): { publish: string[]; subscribe: string[] } {
  const buckets = [...PEEL_BUCKETS.writes, ...PEEL_BUCKETS.reads];
  const writes = ownKeys(peel);
  const api = [...buckets.map((b) => `STREAM.INFO.KV_${b}`), ...PEEL_BUCKETS.reads.flatMap(readsOf)];
  return {
    publish: [
      PEEL_SUBJECTS.heartbeat(peel),
      ...(PEELS_PUBLISH_JOB_EVENTS ? [PEEL_SUBJECTS.jobEvents(peel)] : []),
      // A put is a publish to `$KV.<bucket>.<key>`, prefixed by the API behind a leaf server.
      ...writes,
      ...writes.map((w) => `$JS.*.API.${w}`),
      ...PEEL_API_PREFIXES.flatMap((prefix) => api.map((s) => `${prefix}.${s}`)),
    ],
    subscribe: [PEEL_SUBJECTS.job(peel), inbox(peel)],
  };
}

/**
 * The peels' issuer's template: every peel it signs may do exactly this, `{{name()}}` being its
 * own id. Never a job to a peel (only masters publish those), never `KV_secrets`, never a stream
 * or a consumer, never another peel's key, job or inbox.
 */
export function peelTemplate(): Permissions {
  const reach = peelReach(NAME);
  return { publish: { allow: reach.publish }, subscribe: { allow: reach.subscribe } };
}

/**
 * What `app` exports to `peels` (and `peels` imports): the services behind every subject a peel
 * may publish, in the plain API form (the server maps a domain's form onto it), and the job
 * subjects. Nothing else of `app` is reachable from `peels`.
 */
export function peelServices(): PeelServices {
  const buckets = [...PEEL_BUCKETS.writes, ...PEEL_BUCKETS.reads];
  return {
    services: [
      PEEL_SUBJECTS.heartbeats,
      ...(PEELS_PUBLISH_JOB_EVENTS ? JOB_EVENTS_SUBJECTS : []),
      ...ownKeys("*"),
      ...buckets.map((b) => `$JS.API.STREAM.INFO.KV_${b}`),
      ...PEEL_BUCKETS.reads.flatMap(readsOf).map((s) => `$JS.API.${s}`),
    ],
    streams: [PEEL_SUBJECTS.jobs],
  };
}

/**
 * The Zester app: its own subjects, every KV bucket, and JetStream's whole API in its account, in
 * every domain (`$JS.*.API`: the same permissions whatever the regions, so a tier transition
 * changes no account's JWT, see docs/security.md); also the operator's hand in that account, so
 * a tier transition copies streams as this identity (a snapshot's acknowledgements and a
 * restore's chunks go to `$JS.SNAPSHOT.…`).
 */
function master(): Permissions {
  return {
    publish: {
      allow: [ZESTER_SUBJECTS, "$KV.>", "$JS.API.>", "$JS.*.API.>", "$JS.ACK.>", SNAPSHOT_CHUNKS, FLOW_CONTROL],
    },
    subscribe: { allow: [ZESTER_SUBJECTS, inbox("master")] },
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
    subscribe: { allow: [inbox("reconcile")] },
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
    subscribe: { allow: [inbox("monitoring")] },
  };
}

/**
 * A leaf site's link into its hub, in `peels`. On the hub, a leaf connection's `publish` is what
 * the site may send in and its `subscribe` what the site may receive: what any of its peels may
 * do (in the domain forms, the only ones a leaf connection carries) and the peels' replies and
 * jobs. A DMZ server taken over reaches what the peels' account holds, never the app's.
 */
function leafLink(): Permissions {
  const reach = peelReach("*");
  const crossing = reach.publish.filter((s) => !s.startsWith("$KV.") && !s.startsWith("$JS.API."));
  return { publish: { allow: crossing }, subscribe: { allow: [PEEL_SUBJECTS.jobs, "_INBOX.>"] } };
}

/** The users whose permissions are the same whatever the topology. */
export function fixedRolePermissions(): { monitoring: Permissions; leafLink: Permissions } {
  return { monitoring: monitoring(), leafLink: leafLink() };
}

/**
 * The permissions of each user the stack issues; `system` has none (it is the operator's, in
 * the system account), a region link none either (other regions' masters work across it).
 */
export function rolePermissions(t: Topology): Record<Exclude<ClientRole, "system">, Permissions> & {
  leafLink: Permissions;
} {
  return { master: master(), reconcile: reconcile(t), ...fixedRolePermissions() };
}
