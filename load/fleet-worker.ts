/**
 * A fleet worker process: holds its share of the simulated peels (each a real connection),
 * connects and enrolls them, then runs the traffic model for the steady phase and reports its
 * ledger. Started by the coordinator (`fleet.ts`) with an IPC channel.
 */
import { PEEL_KV, PEEL_SUBJECTS } from "../jetstream/zester-assumptions";
import { topologyOf } from "../local/runner";
import { peelAddresses, peelId } from "./addresses";
import { FromWorkerSchema, ToWorkerSchema, type FromWorker, type ToWorker } from "./fleet-protocol";
import { peelIdentity } from "./identity";
import { failureReason, WriteLedger } from "./ledger";
import { SimPeel } from "./peel";
import { loadState } from "./servers";
import type { TrafficModel } from "./traffic";

type Start = Extract<ToWorker, { type: "start" }>;

function send(message: FromWorker): void {
  process.send?.(FromWorkerSchema.parse(message));
}

const random = (maxMs: number): number => Math.random() * maxMs;

class Worker {
  private readonly ledger = new WriteLedger();
  private readonly peels: SimPeel[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<boolean>>();
  private running = false;
  private published = 0;
  private steadyAcked = 0;
  private jobsReceived = 0;
  private traffic: TrafficModel | undefined;

  async start(message: Start): Promise<void> {
    const state = loadState(message.stateDir);
    const topology = topologyOf(state);
    const addresses = peelAddresses(topology);
    this.traffic = message.traffic;
    // Every peel its own identity, as enrollment issues a real one: measured, it is part of the start.
    const issuing = performance.now();
    for (let i = message.first; i < message.first + message.count; i++) {
      const address = addresses[(i - 1) % addresses.length];
      if (address === undefined) throw new Error("the topology has no home for peels");
      this.peels.push(
        new SimPeel(peelId(i), address, peelIdentity(state, peelId(i)), topology.plan.client.peel, this.ledger, {
          writeTimeoutMs: message.traffic.writeTimeoutMs,
        }),
      );
    }
    const issueMs = performance.now() - issuing;
    // The connect ramp: a few at a time per worker, each peel enrolling once it is connected.
    this.ledger.measuring = false;
    const connectFailures: Record<string, number> = {};
    let next = 0;
    const ramp = async (): Promise<void> => {
      for (let i = next++; i < this.peels.length; i = next++) {
        const peel = this.peels[i];
        if (peel === undefined) continue;
        try {
          await peel.connect();
        } catch (error) {
          const reason = failureReason(error);
          connectFailures[reason] = (connectFailures[reason] ?? 0) + 1;
          continue;
        }
        peel.subscribe(PEEL_SUBJECTS.job(peel.id), (msg) => {
          this.onJob(peel, msg.string());
        });
        await peel.put(PEEL_KV.enrollments.bucket, PEEL_KV.enrollments.key(peel.id), message.traffic.enrollmentBytes);
      }
    };
    await Promise.all(Array.from({ length: message.connectConcurrency }, ramp));
    send({ type: "ready", issueMs, connected: this.peels.filter((p) => p.connected).length, connectFailures });
  }

  private track(write: Promise<boolean>): void {
    this.inFlight.add(write);
    void write.then((acked) => {
      this.inFlight.delete(write);
      if (acked && this.running) this.steadyAcked++;
    });
  }

  private put(peel: SimPeel, bucket: string, key: string, bytes: number): void {
    if (!this.running || !peel.connected) return;
    this.published++;
    this.track(peel.put(bucket, key, bytes));
  }

  private onJob(peel: SimPeel, job: string): void {
    const traffic = this.traffic;
    if (!this.running || traffic === undefined) return;
    this.jobsReceived++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.put(peel, PEEL_KV.jobReturns.bucket, PEEL_KV.jobReturns.key(job, peel.id), traffic.jobReturnBytes);
    }, random(traffic.jobRunMaxMs));
    this.timers.add(timer);
  }

  /** Runs `tick` after a random phase within `periodMs`, then every `periodMs`, while running. */
  private every(periodMs: number, tick: () => void): void {
    const first = setTimeout(() => {
      this.timers.delete(first);
      tick();
      const repeat = setInterval(tick, periodMs);
      this.timers.add(repeat);
    }, random(periodMs));
    this.timers.add(first);
  }

  async go(startAt: number, durationMs: number): Promise<void> {
    const traffic = this.traffic;
    if (traffic === undefined) throw new Error("go before start");
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
    const cpuBefore = process.cpuUsage();
    this.ledger.measuring = true;
    this.running = true;
    for (const peel of this.peels) {
      this.every(traffic.heartbeatIntervalMs, () => {
        if (peel.connected) {
          peel.publish(PEEL_SUBJECTS.heartbeat(peel.id), traffic.heartbeatBytes);
          this.published++;
        }
      });
      this.every(traffic.factIntervalMs, () => {
        this.put(peel, PEEL_KV.facts.bucket, PEEL_KV.facts.key(peel.id), traffic.factBytes);
      });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, startAt + durationMs - Date.now())));
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const connected = this.peels.filter((p) => p.connected).length;
    // Writes still in flight finish (acknowledged or timed out) before the ledger is sent.
    await Promise.all(this.inFlight);
    this.running = false;
    const cpu = process.cpuUsage(cpuBefore);
    send({
      type: "done",
      ledger: this.ledger.data(),
      published: this.published,
      steadyAcked: this.steadyAcked,
      connected,
      jobsReceived: this.jobsReceived,
      cpuMs: (cpu.user + cpu.system) / 1000,
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.peels.map((p) => p.close()));
  }
}

function main(): void {
  const worker = new Worker();
  const fail = (error: unknown): void => {
    send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  };
  process.on("message", (raw) => {
    const parsed = ToWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      fail(new Error(`unexpected message: ${parsed.error.message}`));
      return;
    }
    const message = parsed.data;
    if (message.type === "start") worker.start(message).catch(fail);
    else if (message.type === "go") worker.go(message.startAt, message.durationMs).catch(fail);
    else
      void worker.close().finally(() => {
        process.disconnect();
        process.exit(0);
      });
  });
}

if (require.main === module) main();
