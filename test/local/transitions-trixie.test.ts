/**
 * The local target's tier transitions on nats-server from Debian trixie's 2.10: from 60,000 peels down to
 * 50 and up to 150,000, each under writes with `facts` filled with 100,000 entries first (see
 * transitions.ts). One file per nats-server line: at one worker the chains run one after another, with more
 * workers side by side. A 2 s lame-duck grace period (SHORT_LAME_DUCK); the bookworm and sid chains
 * keep the production 10 s.
 *
 * @servers @long
 */
import { SHORT_LAME_DUCK } from "../helpers/local";
import { chain } from "./transitions";

test(
  "Debian trixie: 60,000 → 12,000 → 2,000 → 500 → 50 → 500 → 2,000 → 12,000 → 60,000 → 150,000 peels, then 150,000 → 60,000 refused",
  () => chain("trixie", SHORT_LAME_DUCK),
  2_400_000,
);
