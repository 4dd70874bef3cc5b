/**
 * Lost acknowledged writes: every acknowledged KV write is read back from its stream's leader by
 * the sequence number its ack gave. A write is there when the stored message has its subject and
 * starts with its write id. One that is not there is lost, unless the stream's own limits
 * removed it: a newer revision of the key pushed it out of the bucket's history, or its TTL passed.
 */
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { AckedWrite } from "./ledger";
import { writeIdOf } from "./peel";

export interface LossReport {
  /** Acknowledged writes looked up. */
  checked: number;
  /** Present, with their subject and payload. */
  found: number;
  /** Removed by the bucket's history limit (newer revisions of the key, also acknowledged). */
  superseded: number;
  /** Removed by the bucket's TTL. */
  expired: number;
  lost: number;
  /** The first lost writes, for the report. */
  examples: AckedWrite[];
}

const CONCURRENCY = 32;
const ATTEMPTS = 5;

/** Retries a read that failed for a reason a settling cluster gives (a timeout, no leader yet). */
async function patiently<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

async function checkStream(
  jsm: JetStreamManager,
  stream: string,
  writes: AckedWrite[],
  report: LossReport,
): Promise<void> {
  const info = await patiently(() => jsm.streams.info(stream));
  const history = info.config.max_msgs_per_subject;
  const ttlMs = info.config.max_age / 1e6;
  // For each subject, the acknowledged sequence numbers, to tell "pushed out of history" apart.
  const seqsBySubject = new Map<string, number[]>();
  for (const w of writes) {
    const seqs = seqsBySubject.get(w.subject);
    if (seqs === undefined) seqsBySubject.set(w.subject, [w.seq]);
    else seqs.push(w.seq);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < writes.length; i = next++) {
      const w = writes[i];
      if (w === undefined) continue;
      const stored = await patiently(() => jsm.streams.getMessage(stream, { seq: w.seq }));
      report.checked++;
      if (stored !== null && stored.subject === w.subject && writeIdOf(stored.data) === w.writeId) {
        report.found++;
        continue;
      }
      const newer = (seqsBySubject.get(w.subject) ?? []).filter((s) => s > w.seq).length;
      if (stored === null && history > 0 && newer >= history) report.superseded++;
      else if (stored === null && ttlMs > 0 && Date.now() - w.ackedAt >= ttlMs) report.expired++;
      else {
        report.lost++;
        if (report.examples.length < 10) report.examples.push(w);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/**
 * Reads every write in `acked` back. `connectionFor(domain)` gives a connection that reaches the
 * domain's JetStream (e.g. one to that region's core).
 */
export async function countLost(
  acked: readonly AckedWrite[],
  connectionFor: (domain: string | undefined) => NatsConnection,
): Promise<LossReport> {
  const report: LossReport = { checked: 0, found: 0, superseded: 0, expired: 0, lost: 0, examples: [] };
  const groups = new Map<string, { domain: string | undefined; stream: string; writes: AckedWrite[] }>();
  for (const w of acked) {
    const id = `${w.domain ?? ""}\u0000${w.stream}`;
    const group = groups.get(id) ?? { domain: w.domain, stream: w.stream, writes: [] };
    group.writes.push(w);
    groups.set(id, group);
  }
  for (const g of groups.values()) {
    const nc = connectionFor(g.domain);
    const jsm = await jetstreamManager(nc, {
      timeout: 5_000,
      checkAPI: false,
      ...(g.domain === undefined ? {} : { domain: g.domain }),
    });
    await checkStream(jsm, g.stream, g.writes, report);
  }
  return report;
}

/**
 * What a peel behind a leaf server can check through its site's link: a peel may read a stream's
 * info but not another peel's entries, so each written stream's state is looked up instead, and a
 * write counts as lost there when the stream, seen through the leaf, ends before its sequence.
 */
export async function countReachable(
  acked: readonly AckedWrite[],
  connectionFor: (domain: string | undefined) => NatsConnection,
): Promise<LossReport> {
  const report: LossReport = { checked: 0, found: 0, superseded: 0, expired: 0, lost: 0, examples: [] };
  const lastSeq = new Map<string, number>();
  for (const w of acked) {
    const id = `${w.domain ?? ""}\u0000${w.stream}`;
    let last = lastSeq.get(id);
    if (last === undefined) {
      const jsm = await jetstreamManager(connectionFor(w.domain), {
        timeout: 5_000,
        checkAPI: false,
        ...(w.domain === undefined ? {} : { domain: w.domain }),
      });
      last = (await patiently(() => jsm.streams.info(w.stream))).state.last_seq;
      lastSeq.set(id, last);
    }
    report.checked++;
    if (w.seq <= last) report.found++;
    else {
      report.lost++;
      if (report.examples.length < 10) report.examples.push(w);
    }
  }
  return report;
}
