/**
 * The stream copy (jetstream/stream-copy.ts) between two bare nats-servers of each supported line
 * (Debian bookworm's 2.9.10, trixie's 2.10, the current release): no TLS, no tier, only what the
 * copy itself needs. The target syncs every write (`sync_interval: always`, 2.10+), as a single
 * tier does: a restore on 2.14+ stores the snapshot message by message, and before the copy sent
 * it in small frames, a block of small KV entries outlasted the server's 5 s stall watchdog
 * ("restore failed: io: read/write on closed pipe"). Every sequence number must survive, gaps
 * included, while writes go on during the copy.
 *
 * @servers
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { catchUp, gapSubject } from "../../jetstream/catch-up";
import { copyStreams, freeze, liveSubjects, thaw } from "../../jetstream/stream-copy";
import { connectNode } from "../../load/connect";
import { fetchFromDebian, type DebianSuite } from "../../local/nats-binary";
import { freePorts } from "../../local/ports";
import { plan } from "../../sizing";
import { serializeNatsConf } from "../../topology/render/nats-conf-format";
import { TRANSITION_SUITES } from "../helpers/tools";

interface Bare {
  nc: NatsConnection;
  stop: () => Promise<void>;
}

/** A bare nats-server with JetStream on loopback; `syncAlways` where the version has it. */
async function bare(suite: DebianSuite, dir: string, name: string, syncAlways: boolean): Promise<Bare> {
  const binary = fetchFromDebian(suite);
  const [port] = await freePorts(1);
  const store = path.join(dir, name);
  const sync = syncAlways && !binary.version.startsWith("2.9.");
  const conf = path.join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    serializeNatsConf({
      server_name: name,
      listen: `127.0.0.1:${String(port)}`,
      jetstream: { store_dir: store, ...(sync ? { sync_interval: "always" } : {}) },
    }),
  );
  const child: ChildProcess = spawn(binary.path, ["-c", conf], { stdio: "ignore" });
  let nc: NatsConnection | undefined;
  for (let i = 0; nc === undefined; i++) {
    nc = await connectNode({ servers: `nats://127.0.0.1:${String(port)}`, timeout: 1_000 }).catch(() => undefined);
    if (nc === undefined) {
      if (i > 100) throw new Error(`${name} (${binary.version}) did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // JetStream answers a moment after the client port opens.
  for (let i = 0; ; i++) {
    const ok = await jetstreamManager(nc, { timeout: 1_000 }).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (i > 50) throw new Error(`${name}: JetStream did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const connection = nc;
  return {
    nc: connection,
    stop: async () => {
      await connection.close();
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

const facts = plan({ peels: 500 }).kv.filter((b) => b.name === "facts" || b.name === "enroll-challenges");

/** Every message of `stream` in [first, last] as "subject data", or undefined where there is none. */
async function messages(jsm: JetStreamManager, stream: string, first: number, last: number) {
  const out: (string | undefined)[] = [];
  for (let seq = first; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    out.push(m === null ? undefined : `${m.subject} ${Buffer.from(m.data).toString("base64")}`);
  }
  return out;
}

describe.each(TRANSITION_SUITES)("copying streams between nats-servers of Debian %s", (suite) => {
  let dir: string;
  let source: Bare;
  let target: Bare;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), `zester-copy-${suite}-`));
    [source, target] = await Promise.all([bare(suite, dir, "source", false), bare(suite, dir, "target", true)]);
    const kvm = new Kvm(jetstream(source.nc));
    await kvm.create("facts", { history: 5 });
    await kvm.create("enroll-challenges", { history: 1, storage: "memory" as never, ttl: 300_000 });
  });

  afterEach(async () => {
    await Promise.all([source.stop(), target.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("15,000 small entries restore into a server that syncs every write, and writes made during the copy follow", async () => {
    const js = jetstream(source.nc, { timeout: 20_000 });
    for (let i = 0; i < 15_000; i += 500)
      await Promise.all(
        Array.from({ length: 500 }, (_, k) => js.publish(`$KV.facts.peel-${String(i + k)}`, randomBytes(40))),
      );
    // Writes go on while the copy runs (a few hundred a second, what 10,000 peels' fact syncs
    // make), each key rewritten past its history (gaps in the source).
    const writing = { on: true };
    const writer = (async () => {
      for (let n = 0; writing.on; n++) {
        await js.publish(`$KV.facts.hot-${String(n % 3)}`, randomBytes(40));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const phases = new Set<string>();
    let stopped = false;
    const result = await copyStreams(
      source.nc,
      target.nc,
      facts.map((bucket) => ({ bucket, replicas: 1 })),
      {
        stopWrites: async () => {
          writing.on = false;
          await writer;
          await freeze(source.nc, facts);
          stopped = true;
        },
        onProgress: (p) => phases.add(p.phase),
      },
    );
    expect(stopped).toBe(true);
    expect([...phases]).toEqual(expect.arrayContaining(["snapshot", "restore", "catch-up", "final"]));
    const [from, into] = await Promise.all([jetstreamManager(source.nc), jetstreamManager(target.nc)]);
    const original = await from.streams.info("KV_facts");
    const copy = await into.streams.info("KV_facts");
    expect(original.state.messages).toBeGreaterThan(15_000);
    expect(copy.state.last_seq).toBe(original.state.last_seq);
    expect(copy.state.messages).toBe(original.state.messages);
    expect(copy.config.subjects).toEqual(liveSubjects({ kind: "kv", name: "facts" }));
    // The last stretch, written during the copy with keys past their history: the same messages
    // under the same sequence numbers, and the same gaps.
    const tail = Math.max(1, original.state.last_seq - 200);
    expect(await messages(into, "KV_facts", tail, original.state.last_seq)).toEqual(
      await messages(from, "KV_facts", tail, original.state.last_seq),
    );
    expect(result.streams.find((s) => s.stream === "KV_facts")?.how).toBe("snapshot");
    // The source takes writes again once thawed; the copy is not reachable through it.
    await thaw(source.nc, facts);
    await js.publish("$KV.facts.after", randomBytes(8));
  }, 180_000);

  test("a catch-up keeps every sequence number: gaps the source left, trailing ones too, none of its placeholders", async () => {
    const js = jetstream(source.nc);
    for (let n = 0; n < 30; n++) await js.publish(`$KV.facts.k-${String(n % 4)}`, randomBytes(16));
    const result = await copyStreams(
      source.nc,
      target.nc,
      facts.map((bucket) => ({ bucket, replicas: 1 })),
      {
        stopWrites: () => Promise.resolve(),
        maxRounds: 1,
      },
    );
    expect(result.streams.map((s) => s.how)).toEqual(["snapshot", "empty"]);
    // More rewrites (each past the 5-revision history removes an older one), then a newest
    // message removed outright (as an expired one is): the copy must end at the same sequence.
    for (let n = 0; n < 40; n++) await js.publish(`$KV.facts.k-${String(n % 2)}`, randomBytes(16));
    const last = (await js.publish("$KV.facts.expired", randomBytes(16))).seq;
    const from = await jetstreamManager(source.nc);
    await from.streams.deleteMessage("KV_facts", last);
    const round = await catchUp({ source: source.nc, target: target.nc }, "KV_facts", ["$KV.facts.>"]);
    expect(round.lastSeq).toBe(last);
    expect(round.gaps).toBeGreaterThan(0);
    const into = await jetstreamManager(target.nc);
    expect((await into.streams.info("KV_facts")).state.last_seq).toBe(last);
    expect(await messages(into, "KV_facts", 1, last)).toEqual(await messages(from, "KV_facts", 1, last));
    const placeholders = await into.streams.info("KV_facts", { subjects_filter: gapSubject(["$KV.facts.>"]) });
    expect(placeholders.state.subjects ?? {}).toEqual({});
    // The next write to the copy gets the sequence after the source's last.
    expect((await jetstream(target.nc).publish("$KV.facts.next", randomBytes(4))).seq).toBe(last + 1);
  }, 120_000);

  test("a memory-backed stream starts at the source's first sequence and keeps its numbers", async () => {
    const js = jetstream(source.nc);
    for (let n = 0; n < 12; n++) await js.publish(`$KV.enroll-challenges.c-${String(n)}`, randomBytes(8));
    const from = await jetstreamManager(source.nc);
    await from.streams.purge("KV_enroll-challenges", { seq: 8 });
    await copyStreams(
      source.nc,
      target.nc,
      facts.map((bucket) => ({ bucket, replicas: 1 })),
      {
        stopWrites: () => Promise.resolve(),
      },
    );
    const into = await jetstreamManager(target.nc);
    const copy = await into.streams.info("KV_enroll-challenges");
    expect(copy.state.first_seq).toBe(8);
    expect(copy.state.last_seq).toBe(12);
    expect(await messages(into, "KV_enroll-challenges", 8, 12)).toEqual(
      await messages(from, "KV_enroll-challenges", 8, 12),
    );
  }, 60_000);
});
