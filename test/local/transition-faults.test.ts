/**
 * A fault at every step of every move between a single server and the clusters (see
 * fault-chain.ts): each step of the moves that copy data (single → cluster, cluster → single) and
 * of a single server's restart fails in every way its kind can; the first member restart, members
 * added and removed, limits, replicas and stores deleted likewise; every other step of every move
 * is killed as it begins and resumed.
 *
 * @servers @long
 */
import { faultChain } from "./fault-chain";

test("every step fails safe and resumes through `up --peels N`, nothing acknowledged lost", async () => {
  await faultChain("transition-faults", 500, [
    { peels: 2_000, variants: true }, // single → cluster-3: a copy
    { peels: 12_000 }, // cluster-3 → cluster-5: members restart, join
    { peels: 2_000 }, // cluster-5 → cluster-3: members leave
    { peels: 500, variants: true, intoSingle: true }, // cluster-3 → single: a copy
    { peels: 50, variants: true, intoSingle: true }, // single → single-small: its one server restarts
    { peels: 500 }, // and back
  ]);
}, 1_800_000);
