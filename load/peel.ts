/**
 * One simulated peel: a real NATS connection with a peel's identity and the plan's client
 * settings, writing into KV the way nats.js's KV client does, and recording every write in a
 * ledger. A write is retried as the plan says (`ackTimeoutSeconds`, `publishAttempts`), every
 * attempt with the same `Nats-Msg-Id`; an attempt whose connection drops, or that finds no
 * stream leader (a 503), is made again on the next connection instead of waiting out its timeout.
 */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { nuid, TimeoutError, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { connectNode } from "./connect";
import { performance } from "node:perf_hooks";
import type { ClientSettings } from "../sizing/types";
import type { ClientIdentity } from "./identity";
import type { WriteLedger } from "./ledger";

/** Where a peel connects: its servers in the order its rendered config lists them, and its domain. */
export interface PeelAddress {
  region: string;
  site?: string;
  servers: string[];
  domain?: string;
}

/**
 * The subject a KV put is published to. nats.js's KV client (like nats.go's) prefixes puts with
 * the JetStream API prefix whenever a domain is set, and the server maps it back onto the
 * bucket's subject; a test holds this equal to what `Kvm` itself publishes.
 */
export function kvPutSubject(domain: string | undefined, bucket: string, key: string): string {
  return domain === undefined ? `$KV.${bucket}.${key}` : `$JS.${domain}.API.$KV.${bucket}.${key}`;
}

/**
 * Names this process's writes apart from any earlier run's: a write id is its `Nats-Msg-Id`, and a
 * stream acknowledges a second write under an id it saw within its duplicate window (2 minutes)
 * as a duplicate of the first, naming that one's sequence, stored or since removed.
 */
const RUN = nuid.next().slice(-8);

/** A write's payload: its id, a newline, then filler up to `bytes`. */
export function payload(writeId: string, bytes: number): Uint8Array {
  const head = Buffer.from(`${writeId}\n`);
  const body = Buffer.alloc(Math.max(bytes, head.length), 0x2e);
  head.copy(body);
  return body;
}

/** The write id a stored payload starts with. */
export function writeIdOf(data: Uint8Array): string {
  const end = data.indexOf(0x0a);
  return Buffer.from(data.subarray(0, end < 0 ? data.length : end)).toString();
}

export function isTimeout(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e instanceof TimeoutError) return true;
  return false;
}

export class SimPeel {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private writes = 0;
  private up = false;
  /** Wall-clock times (performance.now()) of this peel's acknowledged writes, when asked for. */
  readonly ackTimes: number[] = [];

  constructor(
    readonly id: string,
    readonly address: PeelAddress,
    private readonly identity: ClientIdentity,
    private readonly client: ClientSettings,
    private readonly ledger: WriteLedger,
    private readonly options: {
      /** One attempt with this timeout, no retry: a load model's own (the fleet's latency figures). */
      writeTimeoutMs?: number;
      keepAckTimes?: boolean;
    },
  ) {}

  private drops = 0;
  private dropWaiters: (() => void)[] = [];
  private reconnectWaiters: (() => void)[] = [];

  async connect(): Promise<void> {
    const nc = await connectNode({
      ...this.identity,
      servers: this.address.servers,
      name: this.id,
      maxReconnectAttempts: this.client.maxReconnects,
      reconnectTimeWait: this.client.reconnectWaitSeconds * 1000,
      reconnectJitter: this.client.reconnectJitterSeconds * 1000,
      reconnectJitterTLS: this.client.reconnectJitterSeconds * 1000,
      pingInterval: this.client.pingIntervalSeconds * 1000,
      maxPingOut: this.client.maxPingsOut,
      timeout: 10_000,
    });
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.options.writeTimeoutMs ?? this.client.ackTimeoutSeconds * 1000 });
    this.up = true;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") {
          this.up = false;
          this.drops++;
          for (const wake of this.dropWaiters.splice(0)) wake();
        } else if (s.type === "reconnect") {
          this.up = true;
          for (const wake of this.reconnectWaiters.splice(0)) wake();
        }
      }
    })();
  }

  /** Connected right now (not closed, not between a disconnect and a reconnect). */
  get connected(): boolean {
    return this.nc !== undefined && this.up && !this.nc.isClosed();
  }

  /** The server it is connected to, by name. */
  get serverName(): string | undefined {
    return this.connected ? this.nc?.info?.server_name : undefined;
  }

  /** Resolves when the connection drops next. */
  private dropped(): { promise: Promise<"dropped">; cancel: () => void } {
    let wake: () => void = () => undefined;
    const promise = new Promise<"dropped">((resolve) => {
      wake = () => {
        resolve("dropped");
      };
      this.dropWaiters.push(wake);
    });
    return {
      promise,
      cancel: () => {
        this.dropWaiters = this.dropWaiters.filter((w) => w !== wake);
      },
    };
  }

  /** Waits until connected again, at most `ms`. */
  private async reconnected(ms: number): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.reconnectWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Puts `bytes` under `key` in `bucket`; true once acknowledged. Never throws. */
  async put(bucket: string, key: string, bytes: number): Promise<boolean> {
    const js = this.js;
    if (js === undefined) throw new Error(`${this.id} is not connected`);
    const writeId = `${this.id}:${RUN}:${String(++this.writes)}`;
    const subject = kvPutSubject(this.address.domain, bucket, key);
    const data = payload(writeId, bytes);
    const started = performance.now();
    const single = this.options.writeTimeoutMs !== undefined;
    const attempts = single ? 1 : this.client.publishAttempts;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const timeout = single
        ? (this.options.writeTimeoutMs ?? 0)
        : Math.min(2_000, this.client.ackTimeoutSeconds * 1000 * 2 ** (attempt - 1));
      // A write made while disconnected would wait in the reconnect buffer: wait for the connection.
      if (!single && !this.connected) await this.reconnected(timeout);
      const drop = this.dropped();
      try {
        const sent = js.publish(subject, data, { msgID: writeId, timeout });
        // The attempt's promise may still settle after a drop: nothing waits for it then.
        sent.catch(() => undefined);
        const outcome = single ? await sent : await Promise.race([sent, drop.promise]);
        if (outcome === "dropped") {
          lastError = new Error("connection dropped with the write in flight");
          await this.reconnected(timeout);
          continue;
        }
        if (outcome.seq === 0) {
          // A retry that met its original still being stored (a clustered stream acknowledges such a
          // duplicate with sequence 0, seen on 2.10): asked again, it names the original's sequence.
          lastError = new Error("acknowledged as a duplicate of a write not yet stored");
          await new Promise((r) => setTimeout(r, Math.min(100, timeout)));
          continue;
        }
        const now = performance.now();
        this.ledger.ack(
          {
            ...(outcome.domain === undefined || outcome.domain === "" ? {} : { domain: outcome.domain }),
            stream: outcome.stream,
            seq: outcome.seq,
            subject: `$KV.${bucket}.${key}`,
            writeId,
            ackedAt: Date.now(),
          },
          now - started,
        );
        if (this.options.keepAckTimes === true) this.ackTimes.push(now);
        return true;
      } catch (error) {
        lastError = error;
        // No stream leader answered (a hand-off, a frozen stream): a moment, then again.
        if (!isTimeout(error) && attempt < attempts) await new Promise((r) => setTimeout(r, Math.min(100, timeout)));
      } finally {
        drop.cancel();
      }
    }
    this.ledger.fail(lastError, performance.now() - started, isTimeout(lastError));
    return false;
  }

  /** A core NATS publish (no ack): heartbeats. */
  publish(subject: string, bytes: number): void {
    if (this.connected) this.nc?.publish(subject, payload(this.id, bytes));
  }

  /** A core NATS publish of a short text (a job message). */
  publishData(subject: string, text: string): void {
    if (this.connected) this.nc?.publish(subject, text);
  }

  subscribe(subject: string, onMessage: (msg: Msg) => void): void {
    this.nc?.subscribe(subject, {
      callback: (error, msg) => {
        if (error === null) onMessage(msg);
      },
    });
  }

  async close(): Promise<void> {
    this.up = false;
    await this.nc?.close().catch(() => undefined);
  }
}
