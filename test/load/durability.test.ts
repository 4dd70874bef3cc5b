/** @servers */
import { measureKvPuts, startDurabilityTier, syncsAlways } from "../../load/durability";
import { loadState } from "../../load/servers";
import { fetchFromDebian } from "../../local/nats-binary";

describe("the durability measurement", () => {
  test("a 3-node tier is switched to sync_interval: always, every server reports it, and puts are measured", async () => {
    const tier = await startDurabilityTier(fetchFromDebian("sid"), 2_000, "always");
    try {
      for (const s of loadState(tier.stateDir).servers) expect(await syncsAlways(s.monitorUrl)).toBe(true);
      const figures = await measureKvPuts(tier, { bucket: "facts", seconds: 1, inFlight: 4, bytes: 2_000 });
      expect(figures.puts).toBeGreaterThan(0);
      expect(figures.p99Ms).toBeGreaterThanOrEqual(figures.p50Ms);
    } finally {
      await tier.stop();
    }
  }, 120_000);

  test("a single server, rendered with sync always, runs with NATS's default when asked", async () => {
    const tier = await startDurabilityTier(fetchFromDebian("sid"), 50, "default");
    try {
      const [server] = loadState(tier.stateDir).servers;
      expect(await syncsAlways(server?.monitorUrl ?? "")).toBe(false);
    } finally {
      await tier.stop();
    }
  }, 120_000);

  test("2.9 has no sync_interval: asking for it is refused, naming the version", async () => {
    await expect(startDurabilityTier(fetchFromDebian("bookworm"), 50, "always")).rejects.toThrow(
      "nats-server 2.9.10 has no sync_interval (2.10+)",
    );
  });
});
