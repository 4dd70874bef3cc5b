/**
 * An attacker holding one peel's credentials, on real nats-server: every route it would try to
 * read `KV_secrets` or another peel's replies, write another peel's key, delete or change another
 * client's consumer, or answer another client's request; and a revoked peel cut off. Shared by
 * one test file per version (security-bookworm/-sid.test.ts run it next to security-checks.ts).
 */
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { DebianSuite } from "../../local/nats-binary";
import { PEEL_SUBJECTS } from "../../topology/zester-assumptions";
import { revokePeel } from "../../local/revocation";
import { waitStreamsWhole } from "../../load/servers";
import { boot } from "../helpers/local";
import { peelSession, type PeelSession } from "../helpers/peel-session";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = "s3cret-of-peel-2";
const SETTINGS = "settings-only-for-peel-2";

/** Every message a connection gets on `subjects`, each its own subscription (a refused one gets nothing). */
function listen(nc: NatsConnection, subjects: string[]): { got: Msg[]; subs: Subscription[] } {
  const got: Msg[] = [];
  const subs = subjects.map((subject) =>
    nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error === null) got.push(msg);
      },
    }),
  );
  return { got, subs };
}

const text = (m: Msg): string => `${m.subject} ${m.string()}`;

/** What a request gets: its answer's text, or why it got none (refused, timed out). */
async function ask(nc: NatsConnection, subject: string, body = "", reply?: string): Promise<string> {
  if (reply !== undefined) {
    nc.publish(subject, body, { reply });
    await nc.flush();
    return "published";
  }
  return nc.request(subject, body, { timeout: 2_000 }).then(
    (m) => m.string(),
    (e: unknown) => `refused: ${String(e)}`,
  );
}

export function attacks(suite: DebianSuite): void {
  describe(`an attacker holding one peel's credentials, Debian ${suite}'s nats-server`, () => {
    let run: Awaited<ReturnType<typeof boot>>;
    let session: PeelSession;
    let master: NatsConnection;
    const domain = () => run.topology.servers.find((s) => s.role === "core")?.domain ?? "";

    beforeAll(async () => {
      run = await boot(60_000, suite);
      // Healthy servers can still be electing their streams' leaders: a write then goes unanswered.
      await waitStreamsWhole(run.stateDir, 60_000);
      session = peelSession(run);
      master = await session.master();
      const kvm = new Kvm(master);
      await (await kvm.open("secrets")).put("peel-2", SECRET);
      await (await kvm.open("settings-files")).put("peel-2", SETTINGS);
      await (await kvm.open("jobs")).put("job-1", "state.apply for peel-1");
    }, 180_000);

    afterAll(async () => {
      await session.close();
      await run.stop();
    }, 60_000);

    test.each(["core", "leaf"] as const)(
      "on a %s server, it reads no KV_secrets value and no other client's reply by any route",
      async (where) => {
        const attacker = await session.peel("peel-1", where);
        const victim = await session.peel("peel-2", "core");
        // Every wildcard it might hold, each its own subscription.
        const wild = listen(attacker.nc, [
          ">",
          "_INBOX.>",
          "_INBOX.*.>",
          "_INBOX.master.>",
          "_INBOX.peel-2.>",
          "$JS.>",
          "$KV.>",
          "_R_.>",
          "zester.>",
          "zester.peel.*.job",
        ]);
        await attacker.nc.flush().catch(() => undefined);
        await sleep(500);
        // The master reads and watches secrets; the victim reads what is rendered for it.
        const secrets = await new Kvm(master).open("secrets");
        for (let i = 0; i < 3; i++) expect((await secrets.get("peel-2"))?.string()).toBe(SECRET);
        const watch = await secrets.watch({ key: "peel-2" });
        const seen = (async () => {
          for await (const e of watch) if (e.string() === SECRET) return true;
          return false;
        })();
        expect(await seen).toBe(true);
        const victimKv = await new Kvm(jetstream(victim.nc, victim.js())).open("settings-files");
        expect((await victimKv.get("peel-2"))?.string()).toBe(SETTINGS);
        await sleep(500);

        // Its own reads of secrets: every API form, as a direct get, a message get, a consumer, a watch.
        const prefixes = ["$JS.API", `$JS.${domain()}.API`];
        const answers: string[] = [];
        for (const p of prefixes) {
          answers.push(await ask(attacker.nc, `${p}.DIRECT.GET.KV_secrets.$KV.secrets.peel-2`));
          answers.push(
            await ask(
              attacker.nc,
              `${p}.DIRECT.GET.KV_secrets`,
              JSON.stringify({ last_by_subj: "$KV.secrets.peel-2" }),
            ),
          );
          answers.push(
            await ask(
              attacker.nc,
              `${p}.STREAM.MSG.GET.KV_secrets`,
              JSON.stringify({ last_by_subj: "$KV.secrets.peel-2" }),
            ),
          );
          answers.push(
            await ask(
              attacker.nc,
              `${p}.CONSUMER.CREATE.KV_secrets`,
              JSON.stringify({
                stream_name: "KV_secrets",
                config: { deliver_subject: attacker.inbox("c"), ack_policy: "none", deliver_policy: "all" },
              }),
            ),
          );
          // A copy of its own: a mirror or a source of KV_secrets, by name or across the domain.
          answers.push(
            await ask(
              attacker.nc,
              `${p}.STREAM.CREATE.stolen`,
              JSON.stringify({
                name: "stolen",
                mirror: { name: "KV_secrets", external: { api: `$JS.${domain()}.API` } },
              }),
            ),
          );
          answers.push(
            await ask(
              attacker.nc,
              `${p}.STREAM.CREATE.stolen2`,
              JSON.stringify({ name: "stolen2", sources: [{ name: "KV_secrets" }] }),
            ),
          );
        }
        const kv = await new Kvm(jetstream(attacker.nc, attacker.js())).open("secrets");
        answers.push(
          await kv.get("peel-2").then(
            (e) => e?.string() ?? "nothing",
            (e: unknown) => `refused: ${String(e)}`,
          ),
        );
        const stolenWatch = await kv.watch().then(
          async (w) => {
            const first = await Promise.race([
              (async () => {
                for await (const e of w) return e.string();
                return "closed";
              })(),
              sleep(2_000).then(() => "nothing"),
            ]);
            w.stop();
            return first;
          },
          (e: unknown) => `refused: ${String(e)}`,
        );
        answers.push(stolenWatch);
        await sleep(500);

        expect(answers.filter((a) => a.includes(SECRET))).toEqual([]);
        expect(wild.got.map(text).filter((m) => m.includes(SECRET) || m.includes(SETTINGS))).toEqual([]);
        // Nothing but its own traffic reached it: no reply, delivery or job meant for another client.
        expect(wild.got.filter((m) => !attacker.owns(m.subject)).map(text)).toEqual([]);
        const streams = await (await jetstreamManager(master)).streams.names().next();
        expect(streams.filter((s) => s.startsWith("stolen"))).toEqual([]);
        for (const s of wild.subs) s.unsubscribe();
      },
      90_000,
    );

    test.each(["core", "leaf"] as const)(
      "on a %s server, it writes no other peel's key (not directly, not as a reply, not as a consumer's delivery) and speaks for no other peel",
      async (where) => {
        const victim = await session.peel("peel-2", "core");
        const facts = await new Kvm(jetstream(victim.nc, victim.js())).open("facts");
        const own = await facts.put("peel-2", "os=peel-2's own");
        const attacker = await session.peel("peel-1", where);
        const js = jetstream(attacker.nc, attacker.js());
        const p = attacker.domain === undefined ? "$JS.API" : `$JS.${domain()}.API`;
        const kvPut = (key: string) => (attacker.domain === undefined ? `$KV.facts.${key}` : `${p}.$KV.facts.${key}`);
        const target = kvPut("peel-2");
        // What masters hear of peel-2: its heartbeat and its job events, which the attacker may not speak for.
        const heard = listen(master, [PEEL_SUBJECTS.heartbeat("peel-2"), "zester.job-events.peel-2.>"]);
        await master.flush();
        attacker.nc.publish(PEEL_SUBJECTS.heartbeat("peel-2"), "forged heartbeat");
        attacker.nc.publish("zester.job-events.peel-2.done", "forged event");
        const tries = [
          await js.publish(target, "forged").then(
            () => "written",
            (e: unknown) => `refused: ${String(e)}`,
          ),
          // A reply subject is never checked: every answer the servers send it goes there.
          await ask(attacker.nc, kvPut("peel-1"), "its own facts", "$KV.facts.peel-2"),
          await ask(attacker.nc, `${p}.STREAM.INFO.KV_facts`, "", "$KV.facts.peel-2"),
          await ask(
            attacker.nc,
            `${p}.STREAM.MSG.GET.KV_jobs`,
            JSON.stringify({ last_by_subj: "$KV.jobs.job-1" }),
            "$KV.facts.peel-2",
          ),
          await ask(
            attacker.nc,
            `${p}.CONSUMER.CREATE.KV_jobs`,
            JSON.stringify({
              stream_name: "KV_jobs",
              config: { deliver_subject: "$KV.facts.peel-2", ack_policy: "none", deliver_policy: "all" },
            }),
          ),
        ];
        await sleep(1_500);
        const now = await (await new Kvm(master).open("facts")).get("peel-2");
        expect({ value: now?.string(), revision: now?.revision, tries, heard: heard.got.map(text) }).toEqual({
          value: "os=peel-2's own",
          revision: own,
          tries,
          heard: [],
        });
        for (const sub of heard.subs) sub.unsubscribe();
      },
      60_000,
    );

    test("it deletes or changes no other client's consumer", async () => {
      const jsm = await jetstreamManager(master);
      const config = {
        durable_name: "master-jobs",
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: "$KV.jobs.>",
        description: "the master's",
      };
      await jsm.consumers.add("KV_jobs", config);
      const ephemeral = await jsm.consumers.add("KV_jobs", {
        ack_policy: AckPolicy.None,
        inactive_threshold: 60_000_000_000,
      });
      const attacker = await session.peel("peel-1", "core");
      const changed = { ...config, filter_subject: "$KV.jobs.job-1", description: "hijacked" };
      const tries = [
        await ask(attacker.nc, "$JS.API.CONSUMER.DELETE.KV_jobs.master-jobs"),
        await ask(attacker.nc, `$JS.API.CONSUMER.DELETE.KV_jobs.${ephemeral.name}`),
        await ask(
          attacker.nc,
          "$JS.API.CONSUMER.CREATE.KV_jobs",
          JSON.stringify({ stream_name: "KV_jobs", config: changed }),
        ),
        await ask(
          attacker.nc,
          "$JS.API.CONSUMER.DURABLE.CREATE.KV_jobs.master-jobs",
          JSON.stringify({ stream_name: "KV_jobs", config: changed }),
        ),
        await ask(
          attacker.nc,
          "$JS.API.CONSUMER.CREATE.KV_jobs.master-jobs.$KV.jobs.job-1",
          JSON.stringify({ stream_name: "KV_jobs", config: { ...changed, name: "master-jobs" } }),
        ),
      ];
      const info = await jsm.consumers.info("KV_jobs", "master-jobs");
      expect({ description: info.config.description, filter: info.config.filter_subject, tries }).toEqual({
        description: "the master's",
        filter: "$KV.jobs.>",
        tries,
      });
      expect((await jsm.consumers.info("KV_jobs", ephemeral.name)).name).toBe(ephemeral.name);
    }, 60_000);

    test("it answers no other client's request, and sees no other peel's job", async () => {
      const victim = await session.peel("peel-2", "core");
      const attacker = await session.peel("peel-1", "core");
      const seenByVictim: string[] = [];
      victim.nc.subscribe(PEEL_SUBJECTS.job("peel-2"), {
        callback: (_e, m) => {
          seenByVictim.push(m.string());
        },
      });
      // It answers whatever request it sees on any job subject.
      const seenByAttacker: string[] = [];
      for (const subject of [PEEL_SUBJECTS.job("peel-2"), PEEL_SUBJECTS.jobs, "zester.>"])
        attacker.nc.subscribe(subject, {
          callback: (error, m) => {
            if (error !== null) return;
            seenByAttacker.push(m.string());
            if (m.reply !== undefined) m.respond("forged answer");
          },
        });
      // And it may publish to no inbox but its own: not the master's, not another peel's.
      const refusals = (async () => {
        const denied: string[] = [];
        for await (const st of attacker.nc.status())
          if (st.type === "error" && /Permissions Violation for Publish/.test(String(st.error)))
            denied.push(String(st.error));
        return denied;
      })();
      attacker.nc.publish("_INBOX.master.guessed", "forged answer");
      attacker.nc.publish("_INBOX.peel-2.guessed", "forged answer");
      await victim.nc.flush();
      await attacker.nc.flush().catch(() => undefined);
      await sleep(500);
      const answer = await master.request(PEEL_SUBJECTS.job("peel-2"), "state.apply", { timeout: 2_000 }).then(
        (m) => m.string(),
        () => "no answer",
      );
      master.publish(PEEL_SUBJECTS.job("peel-2"), "the job for peel-2");
      await master.flush();
      await sleep(500);
      expect(answer).not.toBe("forged answer");
      expect(seenByVictim).toContain("the job for peel-2");
      expect(seenByAttacker).toEqual([]);
      await attacker.nc.close();
      const denied = (await refusals).join("\n");
      expect(denied).toContain("_INBOX.master.guessed");
      expect(denied).toContain("_INBOX.peel-2.guessed");
    }, 60_000);

    test("a revoked peel is cut off, on a core and on a leaf server, and cannot connect again; no other client is", async () => {
      const onCore = await session.peel("peel-7", "core", { reconnect: true });
      const onLeaf = await session.peel("peel-8", "leaf", { reconnect: true });
      const bystander = await session.peel("peel-9", "leaf", { reconnect: true });
      // What each revoked peel's client went through, for a failure to say (seen once in a full
      // suite on 2.9.10: the core's peel still connected after 20 s).
      const closed = (p: { nc: NatsConnection }) => {
        const events: string[] = [];
        void (async () => {
          for await (const st of p.nc.status()) events.push(`${st.type} ${JSON.stringify(st).slice(0, 120)}`);
        })();
        // A revoked client is refused by each server it tries before it gives up: several reconnect waits.
        return Promise.race([
          p.nc.closed().then(() => "closed"),
          sleep(40_000).then(() => `still connected to ${String(p.nc.info?.server_name)} after: ${events.join("; ")}`),
        ]);
      };
      const watching = [closed(onCore), closed(onLeaf)];
      // Not even disconnected: 2.9.10 closed, at each reload, every client naming an nkey (jetstream/connect.ts).
      const disconnects: string[] = [];
      for (const nc of [bystander.nc, master])
        void (async () => {
          for await (const st of nc.status()) if (st.type === "disconnect") disconnects.push(JSON.stringify(st));
        })();
      await revokePeel(run.stateDir, "peel-7");
      await revokePeel(run.stateDir, "peel-8");
      expect(await Promise.all(watching)).toEqual(["closed", "closed"]);
      for (const [peel, where] of [
        ["peel-7", "core"],
        ["peel-8", "leaf"],
      ] as const)
        expect(await refusal(session.peel(peel, where))).toMatch(/authorization|revoked|permission/i);
      // Everyone else carries on: a peel on the same leaf server, and the master.
      await (await new Kvm(jetstream(bystander.nc, bystander.js())).open("facts")).put("peel-9", "still here");
      expect((await (await new Kvm(master).open("facts")).get("peel-9"))?.string()).toBe("still here");
      expect(disconnects).toEqual([]);
    }, 90_000);
  });
}

/** The error a connection attempt fails with, or a failure of the test if it connects. */
async function refusal(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "connected",
    (e: unknown) => String(e),
  );
}
