/** The one reading of "which server lacks a route" and "formed short" the restart paths act on. */
import { formedShort, lackingRoute, shortOf } from "../../jetstream/health";

test("names the server a transition's meta-group wait or a rollout's health wait says lacks a route", () => {
  expect(
    lackingRoute(
      new Error("a meta group of 3 (core-0, core-1, core-2): not so after 20 s (core-1 routes to 1 of 2 peers)"),
    ),
  ).toBe("core-1");
  expect(
    lackingRoute(
      new Error("topology not healthy after 20 s:\n  core-3: routes to 2 of 4 peers\n  core-4: routes to 3 of 4 peers"),
    ),
  ).toBe("core-3");
  expect(lackingRoute(new Error("a meta group of 3 (core-0): not so after 5 s (core-0 does not answer)"))).toBe(
    undefined,
  );
  expect(lackingRoute("topology not healthy after 20 s:\n  core-1: no JetStream meta leader")).toBe(undefined);
});

test("a cluster formed short of its plan, as status and the meta-group wait say it, and nothing else", () => {
  expect(formedShort(new Error("topology not healthy after 20 s:\n  core-0: meta group of 3, planned 5"))).toBe(true);
  expect(formedShort(new Error("a meta group of 5: not so after 20 s (core-0 sees a meta group of 4, not 5)"))).toBe(
    true,
  );
  expect(formedShort("topology not healthy after 20 s:\n  core-3: routes to 2 of 4 peers")).toBe(true);
  expect(formedShort(new Error("topology not healthy after 60 s:\n  core-1: no JetStream meta leader"))).toBe(false);
  expect(formedShort(new Error("core-2 does not answer"))).toBe(false);
});

test("names the members a short meta group lacks, as the meta-group wait says them", () => {
  expect(
    shortOf(
      new Error(
        "a meta group of 5 (core-0, core-1, core-2, core-3, core-4): not so after 20 s (core-0 sees a meta group of 3, not 5 (without core-3, core-4))",
      ),
    ),
  ).toEqual(["core-3", "core-4"]);
  expect(shortOf(new Error("a meta group of 5: not so after 20 s (core-0 sees a meta group of 4, not 5)"))).toEqual([]);
  expect(shortOf("core-1 routes to 1 of 2 peers")).toEqual([]);
});
