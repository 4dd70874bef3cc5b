/** One peel count inside each tier, for tests that go over every tier. */
export const TIER_EXAMPLES: [tier: string, peels: number][] = [
  ["single-small", 50],
  ["single", 500],
  ["cluster-3", 2_000],
  ["cluster-5", 20_000],
  ["leaf", 60_000],
  ["supercluster", 150_000],
];
