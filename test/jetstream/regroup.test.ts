/**
 * A stream's raft group made again on a real 3-node cluster of nats-server 2.10 (the line whose
 * server removal leaves removed voters in a group): every message is kept with its sequence, the
 * stream ends with a leader and two current followers, no group counts more voters than its
 * stream has replicas, and it takes writes at R3 afterwards.
 *
 * @servers
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectAdmin } from "../../jetstream/connect";
import { regroup } from "../../jetstream/regroup";
import { whole } from "../../jetstream/stream-whole";
import { clientAuth } from "../../local/identities";
import { groupSizes, oversizedGroups } from "../../local/transition-health";
import { boot } from "../helpers/local";

test("regroup keeps every message and ends whole at its replicas, also when run again on a stream left at one", async () => {
  const run = await boot(2_000, "trixie");
  const nc = await connectAdmin(
    run.state.servers.map((s) => s.clientUrl),
    clientAuth(run.state, "master"),
  );
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 200; i++) await js.publish(`$KV.facts.regroup-${String(i)}`, `value ${String(i)}`);
    const before = await jsm.streams.info("KV_facts");
    expect(before.state.messages).toBeGreaterThanOrEqual(200);
    // Every stream's group is read, at its size: what finds a group that counts a removed server.
    const sizes = await groupSizes(run.topology.servers);
    expect([...sizes.keys()].sort()).toEqual(run.topology.plan.kv.map((b) => b.stream).sort());
    for (const [stream, g] of sizes) expect([stream, g.size]).toEqual([stream, g.replicas]);
    expect(await oversizedGroups(run.topology.servers)).toEqual([]);

    await regroup(nc, "KV_facts", 3, 60_000);

    const after = await jsm.streams.info("KV_facts");
    expect(whole(after, 3)).toBe(true);
    expect([after.state.messages, after.state.first_seq, after.state.last_seq]).toEqual([
      before.state.messages,
      before.state.first_seq,
      before.state.last_seq,
    ]);
    expect((await js.publish("$KV.facts.regroup-after", "after")).seq).toBe(before.state.last_seq + 1);
    const kept = await jsm.streams.getMessage("KV_facts", { last_by_subj: "$KV.facts.regroup-7" });
    expect(kept?.string()).toBe("value 7");
    expect((await groupSizes(run.topology.servers)).get("KV_facts")).toEqual({ size: 3, replicas: 3 });

    // Run again after it stopped half way (the stream left at one replica), it raises the stream.
    const secrets = await jsm.streams.info("KV_secrets");
    await jsm.streams.update("KV_secrets", { ...secrets.config, num_replicas: 1 });
    await regroup(nc, "KV_secrets", 3, 60_000);
    expect(whole(await jsm.streams.info("KV_secrets"), 3)).toBe(true);
    expect(await oversizedGroups(run.topology.servers)).toEqual([]);
  } finally {
    await nc.close();
    await run.stop();
  }
}, 180_000);
