import { failureReason, mergeLedgers, quantile, WriteLedger } from "../../load/ledger";
import { kvPutSubject, payload, writeIdOf } from "../../load/peel";
import { longestGap } from "../../load/writers";

describe("the write ledger", () => {
  test("acknowledged and unacknowledged writes are counted apart; a timeout enters the latencies, a refusal does not", () => {
    const ledger = new WriteLedger();
    ledger.ack({ stream: "KV_facts", seq: 1, subject: "$KV.facts.a", writeId: "p:1", ackedAt: 0 }, 3);
    ledger.fail(new Error("timeout"), 5_000, true);
    ledger.fail(new Error("no responders: '$KV.facts.b'"), 1, false);
    ledger.measuring = false;
    ledger.ack({ stream: "KV_facts", seq: 2, subject: "$KV.facts.a", writeId: "p:2", ackedAt: 0 }, 7);
    const data = ledger.data();
    expect(data.acked).toHaveLength(2);
    expect(data.unacked).toBe(2);
    expect(data.latenciesMs).toEqual([3, 5_000]);
    expect(data.failures).toEqual({ "Error: timeout": 1, "Error: no responders: '…'": 1 });
  });

  test("ledgers of several processes merge into one", () => {
    const a = new WriteLedger();
    const b = new WriteLedger();
    a.fail(new Error("x"), 1, false);
    b.fail(new Error("x"), 1, false);
    b.ack({ stream: "S", seq: 9, subject: "s", writeId: "w", ackedAt: 0 }, 2);
    const merged = mergeLedgers([a.data(), b.data()]);
    expect(merged.unacked).toBe(2);
    expect(merged.failures).toEqual({ "Error: x": 2 });
    expect(merged.acked.map((w) => w.seq)).toEqual([9]);
  });

  test("quantiles are nearest-rank over the values", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 1)).toBe(100);
    expect(quantile([], 0.5)).toBeUndefined();
  });

  test("failure reasons drop what varies per write", () => {
    expect(failureReason(new Error("no responders: '$JS.zester.API.$KV.facts.sim-000001'"))).toBe(
      "Error: no responders: '…'",
    );
  });
});

describe("write payloads and subjects", () => {
  test("a payload has the requested size and starts with its write id", () => {
    const data = payload("sim-000001:7", 2_000);
    expect(data.length).toBe(2_000);
    expect(writeIdOf(data)).toBe("sim-000001:7");
  });

  test("with a JetStream domain a KV put goes through the domain's API prefix, as nats.js's KV client does", () => {
    expect(kvPutSubject("zester", "facts", "sim-000001")).toBe("$JS.zester.API.$KV.facts.sim-000001");
    expect(kvPutSubject(undefined, "facts", "sim-000001")).toBe("$KV.facts.sim-000001");
  });
});

describe("the write gap", () => {
  test("is the longest interval between acks that reaches into the window", () => {
    // Acks every 50 ms, a 6-second hole from 1,000 to 7,000, then acks again.
    const acks = [900, 950, 1_000, 7_000, 7_050];
    expect(longestGap(acks, 1_020, 7_100)).toBe(6_000);
    // Intervals entirely before the window do not count.
    expect(longestGap(acks, 7_010, 7_100)).toBe(50);
  });

  test("a writer with no ack since the fault counts until the end of the window", () => {
    expect(longestGap([100, 150], 200, 5_000)).toBe(4_850);
  });
});
