/**
 * Peels that keep writing while a fault happens: each writes a job return (a unique key, so
 * every acknowledged write must still be there afterwards) at a steady pace, and keeps the time
 * of every ack so the write gap can be measured.
 */
import { PEEL_KV } from "../jetstream/zester-assumptions";
import type { ClientSettings } from "../sizing/types";
import type { ClientIdentity } from "./identity";
import { WriteLedger } from "./ledger";
import { SimPeel, type PeelAddress } from "./peel";

export interface WriterOptions {
  /** Pause between one write's ack (or failure) and the next write. */
  paceMs: number;
  bytes: number;
  /** One attempt with this timeout instead of the plan's retries (a load model's own). @default the plan's */
  writeTimeoutMs?: number;
}

export class WriterGroup {
  readonly ledger = new WriteLedger();
  readonly peels: SimPeel[];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    readonly name: string,
    addresses: { id: string; address: PeelAddress }[],
    /** Each writer's identity, by its peel id. */
    identity: (peel: string) => ClientIdentity,
    client: ClientSettings,
    private readonly options: WriterOptions,
  ) {
    this.peels = addresses.map(
      ({ id, address }) =>
        new SimPeel(id, address, identity(id), client, this.ledger, {
          ...(options.writeTimeoutMs === undefined ? {} : { writeTimeoutMs: options.writeTimeoutMs }),
          keepAckTimes: true,
        }),
    );
  }

  /** Connects every peel and starts writing; resolves once each has had one write acknowledged. */
  async start(): Promise<void> {
    try {
      await Promise.all(this.peels.map((p) => p.connect()));
      this.running = true;
      this.loops = this.peels.map((p) => this.loop(p));
      const deadline = Date.now() + 30_000;
      while (this.peels.some((p) => p.ackTimes.length === 0)) {
        if (Date.now() > deadline) throw new Error(`${this.name}: not every writer got a write acknowledged in 30 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } catch (error) {
      // Connections left open keep the process (a test run: Jest) from ever exiting.
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  private async loop(peel: SimPeel): Promise<void> {
    let job = 0;
    while (this.running) {
      const key = PEEL_KV.jobReturns.key(`fault-${String(++job)}`, peel.id);
      await peel.put(PEEL_KV.jobReturns.bucket, key, this.options.bytes);
      await new Promise((r) => setTimeout(r, this.options.paceMs));
    }
  }

  /** Stops writing (waits for writes in flight) and closes every connection. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.peels.map((p) => p.close()));
  }

  /** Every writer has had a write acknowledged after `t` (performance.now() time). */
  allAckedAfter(t: number): boolean {
    return this.peels.every((p) => (p.ackTimes.at(-1) ?? -Infinity) > t);
  }

  /**
   * The longest time one writer went without an acknowledged write, over intervals that reach
   * into [from, to]: what a peel experienced.
   */
  gapMs(from: number, to: number): number {
    return Math.max(0, ...this.peels.map((p) => longestGap(p.ackTimes, from, to)));
  }

  /** The longest time no writer at all got a write acknowledged, within [from, to]. */
  outageMs(from: number, to: number): number {
    const all = this.peels.flatMap((p) => p.ackTimes).sort((a, b) => a - b);
    return longestGap(all, from, to);
  }
}

/**
 * The longest interval between consecutive times in `sorted` that overlaps [from, to]; an
 * interval still open at `to` counts up to `to`.
 */
export function longestGap(sorted: readonly number[], from: number, to: number): number {
  let longest = 0;
  let previous: number | undefined;
  for (const t of sorted) {
    if (previous !== undefined && t > from && previous < to) longest = Math.max(longest, t - previous);
    previous = t;
  }
  if (previous !== undefined && previous < to) longest = Math.max(longest, to - previous);
  return longest;
}
