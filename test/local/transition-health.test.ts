/**
 * What a transition step reads from a stream's info before a member leaves: the quorum the
 * stream keeps without it (pure: stream infos as the server reports them).
 */
import type { StreamInfo } from "@nats-io/jetstream";
import { quorumProblem } from "../../local/transition-health";

function info(leader: string, replicas: { name: string; current: boolean; offline?: boolean }[], r = 3): StreamInfo {
  return {
    config: { name: "KV_facts", num_replicas: r },
    cluster: { leader, replicas: replicas.map((x) => ({ active: 0, ...x })) },
  } as unknown as StreamInfo;
}

describe("quorumProblem", () => {
  test("the members that stay current: a quorum, whether the one leaving is current, lagging or gone", () => {
    const core2 = { name: "core-2", current: true };
    const staying = [{ name: "core-1", current: true }, core2];
    expect(quorumProblem(info("core-1", [{ name: "core-0", current: true }, core2]), "core-0")).toBeUndefined();
    expect(quorumProblem(info("core-0", staying), "core-0")).toBeUndefined();
    expect(
      quorumProblem(info("core-1", [{ name: "core-0", current: false, offline: true }, core2]), "core-0"),
    ).toBeUndefined();
  });

  test("a member that stays but lags, or no leader: no quorum once it leaves", () => {
    expect(
      quorumProblem(
        info("core-1", [
          { name: "core-0", current: true },
          { name: "core-2", current: false },
        ]),
        "core-0",
      ),
    ).toBe("KV_facts has 1 replicas current besides core-0's, 2 needed");
    expect(quorumProblem(info("", []), "core-0")).toBe("KV_facts has no leader");
  });

  test("a stream of one replica: a problem only where that replica is the one leaving", () => {
    expect(quorumProblem(info("core-0", [], 1), "core-0")).toBe("KV_facts has its one replica on core-0");
    expect(quorumProblem(info("core-1", [], 1), "core-0")).toBeUndefined();
  });
});
