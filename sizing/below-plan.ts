/**
 * Overrides that lower a value below what the plan computes the tier needs (a need, not a
 * preference: connections the peels will open, copies a bucket must keep to survive a server).
 * Such an override is refused, saying what it breaks, unless the operator names it in
 * `overrides.confirmBelowPlan`; a confirmed one is recorded in the plan. Confirming what is not
 * below the plan is refused too, so a confirmation never silently outlives its override.
 */
import { fmt } from "./format";
import { NATS_SERVER } from "./guide";
import { SpecError, type Overrides, type Problem } from "./spec";
import type { BelowPlan, Provenance } from "./types";

export const CONFIRM_KEY = "overrides.confirmBelowPlan";

/** The provenance of a value overridden below the plan (only ever seen once confirmed). */
export function belowPlanProvenance(found: BelowPlan): Provenance {
  return {
    source: "override",
    why: `set by overrides.${found.path} below the ${fmt(found.needed)} the plan needs, confirmed in ${CONFIRM_KEY}: ${found.breaks}`,
  };
}

/** `max_connections` below the guide's 2 × the peels one server may have to hold. */
export function maxConnectionsBelowPlan(
  value: number,
  expectedPeels: number,
  holder: "server" | "cluster" | "cluster with leaf sites",
): BelowPlan {
  const perPeel = NATS_SERVER.above10k.maxConnectionsPerPeel;
  const leafs = holder === "cluster with leaf sites" ? " (leaf sites' included: they may fall back to it)" : "";
  const peels =
    holder === "server"
      ? `the server has ${fmt(expectedPeels)} peels`
      : `the busiest cluster has ${fmt(expectedPeels)} peels${leafs} and any of its servers may get them all`;
  const breaks =
    value < expectedPeels
      ? `max_connections ${fmt(value)} holds ${fmt(value)} connections; ${peels}, so up to ${fmt(expectedPeels - value)} would be refused`
      : `max_connections ${fmt(value)} leaves ${fmt(value - expectedPeels)} connections to spare: ${peels}, and the guide asks ${perPeel} × that, as in a reconnect wave a server still counts a dropped peel's old connection until its pings time out; past ${fmt(value)} peels, masters and tools are refused`;
  return { path: "natsServer.maxConnections", value, needed: perPeel * expectedPeels, breaks };
}

/** Server failures a stream with `replicas` copies survives and still takes writes (a Raft majority). */
const survives = (replicas: number): number => Math.floor((replicas - 1) / 2);

/** A bucket's replicas below the plan's on a cluster. */
export function replicasBelowPlan(bucket: string, value: number, planned: number, servers: number): BelowPlan {
  const quorum = value - survives(value);
  const fails = survives(value) + 1;
  const keeps =
    value === 1
      ? `replicas 1 keeps the ${bucket} bucket on one of the cluster's ${servers} servers: it is lost with that server's disk and unavailable while that server restarts`
      : `replicas ${value} needs ${quorum} of its ${value} copies for a quorum, so writes to the ${bucket} bucket stop as soon as ${fails === 1 ? "one of its servers is" : `${fails} of its servers are`} down (a rolling restart takes each down in turn)`;
  const down = survives(planned);
  return {
    path: `kv.${bucket}.replicas`,
    value,
    needed: planned,
    breaks: `${keeps}; the planned ${planned} replicas survive ${down} server${down === 1 ? "" : "s"} down`,
  };
}

/** The number an override path holds (every confirmable path is a number), if it is set. */
function overriddenValue(overrides: Overrides, path: string): number | undefined {
  let at: unknown = overrides;
  for (const key of path.split("."))
    at = typeof at === "object" && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  return typeof at === "number" ? at : undefined;
}

/**
 * Throws a SpecError for every override below the plan that `overrides.confirmBelowPlan` does
 * not name, and for every name there that confirms nothing.
 */
export function checkBelowPlan(found: BelowPlan[], overrides: Overrides): void {
  const confirmed = overrides.confirmBelowPlan ?? [];
  const problems: Problem[] = [];
  for (const below of found) {
    if (confirmed.includes(below.path)) continue;
    problems.push({
      path: ["overrides", ...below.path.split(".")],
      message: `${fmt(below.value)} is below the ${fmt(below.needed)} the plan needs: ${below.breaks}. If that is what you mean, confirm it by adding "${below.path}" to ${CONFIRM_KEY}`,
    });
  }
  confirmed.forEach((path, index) => {
    if (found.some((below) => below.path === path)) return;
    const value = overriddenValue(overrides, path);
    problems.push({
      path: ["overrides", "confirmBelowPlan", index],
      message:
        value === undefined
          ? `"${path}" confirms nothing: overrides.${path} is not set. Remove it from ${CONFIRM_KEY}`
          : `"${path}" confirms nothing: overrides.${path} (${fmt(value)}) is not below what the plan needs. Remove it from ${CONFIRM_KEY}`,
    });
  });
  if (problems.length > 0) throw new SpecError(problems);
}
