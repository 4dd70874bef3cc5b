/**
 * Stream leaders handed off a member before it stops, on a real 3-node cluster: every stream it
 * led gets a leader on another member while it still runs, and what it did not lead is left alone.
 *
 * @servers
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connectAdmin } from "../../jetstream/connect";
import { handOffLeaders } from "../../jetstream/hand-off";
import { clientAuth } from "../../local/identities";
import { boot } from "../helpers/local";

test("every stream a member leads moves to another member; the others keep theirs", async () => {
  const run = await boot(2_000, "sid");
  const nc = await connectAdmin(
    run.state.servers.map((s) => s.clientUrl),
    clientAuth(run.state, "master"),
  );
  try {
    const streams = run.topology.plan.kv.map((b) => b.stream);
    const jsm = await jetstreamManager(nc);
    const leaders = async (): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      for (const s of streams) out[s] = (await jsm.streams.info(s)).cluster?.leader ?? "";
      return out;
    };
    const before = await leaders();
    // The member leading the most streams (R3 streams, spread over three servers).
    const counts = new Map<string, number>();
    for (const l of Object.values(before)) counts.set(l, (counts.get(l) ?? 0) + 1);
    const [server = ""] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
    const led = streams.filter((s) => before[s] === server);
    expect(led.length).toBeGreaterThan(0);

    const handOff = await handOffLeaders(nc, streams, server, 20_000);
    expect(handOff).toEqual({ moved: led, stillLed: [] });
    const after = await leaders();
    for (const s of streams) {
      expect([s, after[s]]).not.toEqual([s, server]);
      expect([s, after[s]]).not.toEqual([s, ""]);
      if (!led.includes(s)) expect([s, after[s]]).toEqual([s, before[s]]);
    }
    // Asked again, it leads nothing: nothing to move.
    expect(await handOffLeaders(nc, streams, server, 1_000)).toEqual({ moved: [], stillLed: [] });
  } finally {
    await nc.close();
    await run.stop();
  }
}, 120_000);
