/**
 * A fault at every step of every move of leaf sites and regions (see fault-chain.ts): from the leaf
 * tier down to cluster-5 (its site removed), back up (a site added), and on to the supercluster (a
 * region added next to the running one); the first step of each kind fails in every way that kind
 * can, every other step is killed as it begins and resumed.
 *
 * @servers @long
 */
import { faultChain } from "./fault-chain";

test("every step of the site and region moves fails safe and resumes, nothing acknowledged lost", async () => {
  await faultChain("transition-faults-sites", 60_000, [
    { peels: 12_000 }, // leaf → cluster-5: the site removed
    { peels: 60_000 }, // cluster-5 → leaf: a site added
    { peels: 150_000 }, // leaf → supercluster: a region added
  ]);
}, 1_800_000);
