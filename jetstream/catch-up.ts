/**
 * Brings a copy of a stream up to its source, message by message, keeping every sequence number:
 * a KV entry's revision is its sequence number and masters compare-and-set on it, so the n-th
 * message of the source must be the n-th of the copy. Messages are read in order from the source
 * (an ordered consumer) and published into the copy, each expecting the copy's last sequence to be
 * the one before it. A sequence the source no longer holds (a revision past the bucket's history,
 * an expired entry) is filled in the copy by a placeholder on a subject of its own, and the
 * placeholders are purged at the end of the round: the copy then has the same gap.
 */
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type Consumer,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
} from "@nats-io/jetstream";
import { headers as newHeaders, nuid, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";

const API_TIMEOUT_MS = 10_000;
/** Publishes in flight into the copy at once. */
const WINDOW = 256;
/** A message the copy already had under its Nats-Msg-Id (an id reused after the source's window). */
class DuplicateInCopy extends Error {
  constructor(readonly sourceSeq: number) {
    super(`sequence ${String(sourceSeq)} was taken by the copy as a duplicate of an earlier message`);
  }
}

/** Where the placeholders of a stream whose subjects are `subjects` go (a subject no client uses). */
export function gapSubject(subjects: string[]): string {
  const first = subjects[0] ?? "";
  const base = first.endsWith(".>") || first.endsWith(".*") ? first.slice(0, -2) : first;
  return `${base}._zester_copy_gap`;
}

export interface CatchUpResult {
  /** The copy's last sequence afterwards (the source's, when the round reached its end). */
  lastSeq: number;
  /** Messages copied, and their payload bytes. */
  messages: number;
  bytes: number;
  /** Sequences the source no longer held, filled and purged. */
  gaps: number;
}

/** Headers that ask the server something at publish time; the copy asks its own (its last sequence). */
const isPrecondition = (key: string): boolean => /^nats-expected-/i.test(key);

function copiedHeaders(msg: JsMsg, keepMsgId: boolean): MsgHdrs | undefined {
  const from = msg.headers as MsgHdrs | undefined;
  if (from === undefined) return undefined;
  const to = newHeaders();
  let any = false;
  for (const key of from.keys()) {
    if (isPrecondition(key) || (!keepMsgId && key.toLowerCase() === "nats-msg-id")) continue;
    for (const value of from.values(key)) {
      to.append(key, value);
      any = true;
    }
  }
  return any ? to : undefined;
}

/** The first message of `stream` at or after `seq`, or undefined when it holds none. */
async function firstFrom(nc: NatsConnection, stream: string, seq: number): Promise<number | undefined> {
  const reply = await nc.request(`$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ seq, next_by_subj: ">" }), {
    timeout: API_TIMEOUT_MS,
  });
  const answer = reply.json<{ message?: { seq: number }; error?: { code?: number; description?: string } }>();
  if (answer.message !== undefined) return answer.message.seq;
  if (answer.error?.code === 404) return undefined;
  throw new Error(
    `${stream}: reading from sequence ${String(seq)} failed: ${answer.error?.description ?? reply.string()}`,
  );
}

/** How long a round tries to get its consumer made, over every attempt. */
const CONSUMER_DEADLINE_MS = 60_000;
/** How often a pending create asks whether its consumer was placed on a server that is offline. */
const PROBE_MS = 1_000;
/** JetStream's "consumer is offline" (JSConsumerOfflineErr). */
const CONSUMER_OFFLINE = 10119;

/** Resolves once the meta leader reports `name` offline (placed on servers that are all down). */
function reportedOffline(nc: NatsConnection, stream: string, name: string, settled: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const probe = async (): Promise<void> => {
      while (!settled()) {
        await new Promise((r) => setTimeout(r, PROBE_MS));
        if (settled()) return;
        const reply = await nc
          .request(`$JS.API.CONSUMER.INFO.${stream}.${name}`, "", { timeout: PROBE_MS })
          .catch(() => undefined);
        const code = reply?.json<{ error?: { err_code?: number } }>().error?.err_code;
        if (code === CONSUMER_OFFLINE) {
          resolve();
          return;
        }
      }
    };
    void probe();
  });
}

/**
 * The round's ordered consumer on the source, from `start`. Its create is answered by the server
 * it is placed on, so it may go unanswered: nats-server 2.9 places an R1 consumer on any of the
 * stream's peers, one that has left the cluster too (and the meta leader then reports it offline),
 * and no server answers while a meta leader is being elected. Each attempt has a name of its own;
 * one reported offline is given up at once (and deleted, as far as the cluster can), one
 * unanswered after the API timeout too; attempts stop at a deadline, with the last error.
 */
async function orderedConsumer(nc: NatsConnection, stream: string, start: number): Promise<Consumer> {
  const js = jetstream(nc, { timeout: API_TIMEOUT_MS });
  const deadline = Date.now() + CONSUMER_DEADLINE_MS;
  const failures: string[] = [];
  for (;;) {
    const prefix = nuid.next();
    const name = `${prefix}_1`;
    let settled = false;
    const created = js.consumers
      .get(stream, { name_prefix: prefix, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start })
      .finally(() => {
        settled = true;
      });
    const outcome = await Promise.race([
      created.then(
        (consumer) => ({ consumer }),
        (error: unknown) => ({ error }),
      ),
      reportedOffline(nc, stream, name, () => settled).then(() => ({ error: new Error(`${name} was placed offline`) })),
    ]);
    settled = true;
    if ("consumer" in outcome) return outcome.consumer;
    // The create may still be answered after all: that consumer is not used.
    created.catch(() => undefined);
    jetstreamManager(nc, { timeout: API_TIMEOUT_MS, checkAPI: false })
      .then((jsm) => jsm.consumers.delete(stream, name))
      .catch(() => undefined);
    const error = outcome.error;
    failures.push(String(error));
    const unanswered = /placed offline|timeout|no responders|temporarily unavailable/i.test(String(error));
    if (!unanswered) throw error;
    if (Date.now() > deadline)
      throw new Error(
        `${stream}: no consumer to read from sequence ${String(start)} within ${String(CONSUMER_DEADLINE_MS / 1000)} s (${String(failures.length)} attempts: ${failures.join("; ")})`,
      );
  }
}

class Publisher {
  private inFlight: Promise<void>[] = [];
  last: number;

  constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    start: number,
  ) {
    this.last = start;
  }

  /** Publishes the copy's next message, expecting it to land at `last + 1`. */
  async publish(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, sourceSeq: number): Promise<void> {
    const expected = this.last + 1;
    const sent = this.js.publish(subject, data, {
      expect: { lastSequence: this.last, streamName: this.stream },
      ...(headers === undefined ? {} : { headers }),
    });
    this.last = expected;
    this.inFlight.push(
      sent.then((ack: PubAck) => {
        this.check(ack, expected, sourceSeq);
      }),
    );
    if (this.inFlight.length >= WINDOW) await this.drain();
  }

  private check(ack: PubAck, expected: number, sourceSeq: number): void {
    if (ack.duplicate) throw new DuplicateInCopy(sourceSeq);
    if (ack.seq !== expected)
      throw new Error(`${this.stream}: the copy stored sequence ${String(sourceSeq)} as ${String(ack.seq)}`);
  }

  async drain(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = [];
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }
}

export interface CatchUpPeers {
  source: NatsConnection;
  target: NatsConnection;
}

/**
 * One round: copies every message of `stream` after the copy's last sequence, up to the source's
 * last sequence when the round began (or further, where the source has more by then). Run it again
 * for the writes that came in meanwhile; with writes stopped on the source, one round makes the copy
 * whole.
 */
export async function catchUp(peers: CatchUpPeers, stream: string, subjects: string[]): Promise<CatchUpResult> {
  const fromJsm = await jetstreamManager(peers.source, { timeout: API_TIMEOUT_MS });
  const intoJsm = await jetstreamManager(peers.target, { timeout: API_TIMEOUT_MS });
  const stripIds = new Set<number>();
  for (let attempt = 1; ; attempt++) {
    try {
      return await round(peers, fromJsm, intoJsm, stream, subjects, stripIds);
    } catch (error) {
      // A Nats-Msg-Id the copy had seen already (reused by a client after the source's duplicate
      // window): that message is copied again without it, the round resumes from the copy's end.
      if (!(error instanceof DuplicateInCopy) || attempt > 3) throw error;
      stripIds.add(error.sourceSeq);
    }
  }
}

async function round(
  peers: CatchUpPeers,
  fromJsm: JetStreamManager,
  intoJsm: JetStreamManager,
  stream: string,
  subjects: string[],
  stripIds: Set<number>,
): Promise<CatchUpResult> {
  const [source, copy] = await Promise.all([fromJsm.streams.info(stream), intoJsm.streams.info(stream)]);
  const upTo = source.state.last_seq;
  const start = copy.state.last_seq;
  const result: CatchUpResult = { lastSeq: start, messages: 0, bytes: 0, gaps: 0 };
  if (upTo <= start) return result;
  const publisher = new Publisher(jetstream(peers.target, { timeout: API_TIMEOUT_MS }), stream, start);
  const gap = gapSubject(subjects);
  const fill = async (until: number): Promise<void> => {
    while (publisher.last < until) {
      await publisher.publish(gap, new Uint8Array(0), undefined, publisher.last + 1);
      result.gaps++;
    }
  };
  const first = await firstFrom(peers.source, stream, start + 1);
  if (first !== undefined) {
    const consumer = await orderedConsumer(peers.source, stream, first);
    const messages = await consumer.consume({ max_messages: 1_000 });
    try {
      for await (const msg of messages) {
        await fill(msg.seq - 1);
        await publisher.publish(msg.subject, msg.data, copiedHeaders(msg, !stripIds.has(msg.seq)), msg.seq);
        result.messages++;
        result.bytes += msg.data.length;
        // At the source's end as the round began, or at its end now (nothing after this one).
        if (msg.seq >= upTo || msg.info.pending === 0) break;
      }
    } finally {
      await messages.close();
    }
  }
  // What lies between the last message and the source's end was removed there: a gap here too.
  await fill(upTo);
  await publisher.drain();
  if (result.gaps > 0) await intoJsm.streams.purge(stream, { filter: gap });
  result.lastSeq = publisher.last;
  return result;
}
