/**
 * The tier transitions of the local target on real nats-server of each line the transitions are
 * proven on (Debian bookworm's 2.9.10, trixie's 2.10, the current release): from 60,000 peels down
 * to 50 and up to 150,000, each transition under writes with `facts` filled with 100,000 entries
 * first (see transitions.ts). The chains run at once: most of their time is servers in lame duck
 * waiting out their grace period, which overlaps.
 *
 * @servers @long
 */
import { TRANSITION_SUITES } from "../helpers/tools";
import { chain } from "./transitions";

describe("tier transitions under writes, at data size, nothing acknowledged lost", () => {
  test.concurrent.each(TRANSITION_SUITES)(
    "Debian %s: 60,000 → 12,000 → 2,000 → 500 → 50 → 500 → 2,000 → 12,000 → 60,000 → 150,000 peels, then 150,000 → 60,000 refused",
    (suite) => chain(suite),
    2_400_000,
  );
});
