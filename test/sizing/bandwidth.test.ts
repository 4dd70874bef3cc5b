import { plan } from "../../sizing";

/** Guide §3, as published (decimal units). */
const GUIDE = [
  { peels: 1_000, heartbeat: 100e3, factSync: 33e3, settingsPush: 5e6 },
  { peels: 10_000, heartbeat: 1e6, factSync: 330e3, settingsPush: 50e6 },
  { peels: 100_000, heartbeat: 10e6, factSync: 3.3e6, settingsPush: 500e6 },
];

/** The guide writes "~": two significant figures. */
const withinRounding = (actual: number, published: number) => Math.abs(actual - published) / published <= 0.02;

describe("bandwidth model", () => {
  test.each(GUIDE)("at a 60 s fact interval it reproduces the guide's row for $peels peels", (row) => {
    const bw = plan({ peels: row.peels, factIntervalSeconds: 60 }).bandwidth;
    expect(withinRounding(bw.heartbeatBytesPerSecond, row.heartbeat)).toBe(true);
    expect(withinRounding(bw.factSyncBytesPerSecond, row.factSync)).toBe(true);
    expect(withinRounding(bw.settingsPushBytesTotal, row.settingsPush)).toBe(true);
    expect(bw.stateApplyBytesPerJob).toBe(row.peels * 10_000);
  });

  test("60 s is the default interval, and the plan says which it used", () => {
    expect(plan({ peels: 1_000 }).bandwidth.factIntervalSeconds).toBe(60);
  });

  test("the guide's '5 min' label would give a fifth of its own figure (~6.7 KB/s at 1,000 peels)", () => {
    const bw = plan({ peels: 1_000, factIntervalSeconds: 300 }).bandwidth;
    expect(bw.factSyncBytesPerSecond).toBeCloseTo(6_666.67, 1);
    expect(withinRounding(bw.factSyncBytesPerSecond, 33e3)).toBe(false);
  });
});
