/**
 * The tier transitions of the local target on real nats-server, Debian bookworm's (2.9.10) and
 * the current one: up from 50 peels to 150,000 and down from 60,000 to 50, each transition under
 * writes (see transitions.ts). The four chains run at once: most of their time is servers in lame
 * duck waiting out their grace period, which overlaps.
 */
import type { DebianSuite } from "../../local/nats-binary";
import { NATS_SERVER_SUITES } from "../helpers/tools";
import { chain, DOWN, UP } from "./transitions";

const CHAINS: [string, DebianSuite, number, [number, string][]][] = NATS_SERVER_SUITES.flatMap(
  (suite): [string, DebianSuite, number, [number, string][]][] => [
    [
      `Debian ${suite}: 50 → 500 → 2,000 → 12,000 → 60,000 → 150,000 peels, then 150,000 → 60,000 refused`,
      suite,
      50,
      UP,
    ],
    [`Debian ${suite}: 60,000 → 12,000 → 2,000 → 500 → 50 peels`, suite, 60_000, DOWN],
  ],
);

describe("tier transitions under writes, nothing acknowledged lost", () => {
  test.concurrent.each(CHAINS)("%s", (_name, suite, start, steps) => chain(suite, start, steps), 900_000);
});
