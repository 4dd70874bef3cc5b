/**
 * The local target's tier transitions on nats-server from Debian bookworm's 2.9.10: from 60,000 peels down to
 * 50 and up to 150,000, each under writes with `facts` filled with 100,000 entries first (see
 * transitions.ts). One file per nats-server line: at one worker the chains run one after another, with more
 * workers side by side. NATS's 10 s lame-duck grace period: with 2 s, 2.9.10's
 * writers found no server to take a write for 30 s after cluster-3 → cluster-5 (two runs of three).
 *
 * @servers @long
 */
import { chain } from "./transitions";

test(
  "Debian bookworm: 60,000 → 12,000 → 2,000 → 500 → 50 → 500 → 2,000 → 12,000 → 60,000 → 150,000 peels, then 150,000 → 60,000 refused",
  () => chain("bookworm"),
  2_400_000,
);
