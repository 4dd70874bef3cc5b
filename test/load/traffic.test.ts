import { describeTraffic, modelMessagesPerSecond, trafficModel } from "../../load/traffic";
import { BANDWIDTH } from "../../sizing/guide";

describe("the fleet's traffic model", () => {
  test("takes the guide's per-peel figures: 100 B/s of heartbeat, 2 KB fact syncs every 60 s, 10 KB job returns", () => {
    const t = trafficModel();
    expect((t.heartbeatBytes * 1000) / t.heartbeatIntervalMs).toBe(BANDWIDTH.heartbeatBytesPerSecond);
    expect(t.factBytes).toBe(2_000);
    expect(t.factIntervalMs).toBe(60_000);
    expect(t.jobReturnBytes).toBe(10_000);
    expect(describeTraffic(t)).toMatch(/fact sync 2000 B every 60 s/);
  });

  test("the fact interval is a parameter", () => {
    expect(trafficModel(300).factIntervalMs).toBe(300_000);
  });

  test("1,000 peels ask for a heartbeat each a second, a sixtieth of a fact sync each, and a job to 10 peels every 5 s", () => {
    // 1,000 heartbeats + 16.7 fact syncs + (10 job messages + 10 returns + 1 job entry) / 5 s.
    expect(modelMessagesPerSecond(trafficModel(), 1_000)).toBeCloseTo(1_000 + 1_000 / 60 + 21 / 5, 5);
  });
});
