/**
 * Children are named `${component}-…` now; stacks created before that keep every resource: each
 * URN they had (recorded in test/fixtures/urns-before-prefix.json from the example stacks' plans
 * of that time) is a resource's URN or one of its aliases, so `pulumi up` updates, never replaces.
 * A resource that is removed on purpose is removed from the fixture on purpose.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { planOf } from "../helpers/plans";

const before = JSON.parse(
  readFileSync(path.join(__dirname, "..", "fixtures", "urns-before-prefix.json"), "utf8"),
) as Record<string, string[]>;

interface PlanJson {
  resources: { urn: string; aliases: string[] }[];
}

test.each(Object.keys(before))("stack %s: every resource it had keeps its URN or is aliased to it", (stack) => {
  const now = planOf(stack, []) as PlanJson;
  const known = new Set(now.resources.flatMap((r) => [r.urn, ...r.aliases]));
  // The passwords are gone on purpose: every identity is a key (a JWT user) or a certificate now (topology/auth.ts).
  const retired = (urn: string): boolean => urn.includes("random:index/randomPassword:RandomPassword");
  expect((before[stack] ?? []).filter((urn) => !known.has(urn) && !retired(urn))).toEqual([]);
  // The names themselves changed: the check above is not vacuous.
  expect(now.resources.filter((r) => r.aliases.length > 0).length).toBeGreaterThan(10);
});
