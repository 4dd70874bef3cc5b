/**
 * What a running nats-server takes on a reload (SIGHUP) and what needs a restart, so a change
 * that only touches the first is applied without taking a server down. nats-server refuses a
 * reload whole when one changed key is not reloadable, and which keys are differs by version
 * (JetStream's store limits reload from 2.12.7 on, and then only upwards): the list below holds
 * only what reloads on every version this project renders for (2.9 on), and
 * test/topology/reload.test.ts proves each entry on a real 2.9.10 and the current release.
 */
import { createHash } from "node:crypto";
import type { ConfBlock, ConfValue } from "./nats-conf-format";

/** Paths into a nats-server config that every supported version reloads. */
export const RELOADABLE: readonly (readonly string[])[] = [
  ["max_connections"],
  ["max_payload"],
  ["write_deadline"],
  // The accounts' JWTs: a revoked peel, permissions that follow the topology (its domains).
  ["resolver_preload"],
  ["server_tags"],
  ["cluster", "authorization"],
  ["cluster", "routes"],
];

function without(block: ConfBlock, path: readonly string[]): ConfBlock {
  const [head, ...rest] = path;
  if (head === undefined || !(head in block)) return block;
  if (rest.length === 0) return Object.fromEntries(Object.entries(block).filter(([k]) => k !== head));
  const inner = block[head];
  if (typeof inner !== "object" || Array.isArray(inner)) return block;
  return { ...block, [head]: without(inner, rest) };
}

/** The config with everything a reload applies left out. */
export function restartPart(config: ConfBlock): ConfBlock {
  return RELOADABLE.reduce(without, config);
}

const canonical = (value: ConfValue | undefined): string => JSON.stringify(value, Object.keys(flatKeys(value)).sort());

function flatKeys(value: ConfValue | undefined, keys: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(value)) for (const v of value) flatKeys(v, keys);
  else if (typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      keys[k] = true;
      flatKeys(v, keys);
    }
  return keys;
}

/** A short digest of values (hashing only: no I/O), for keys that say "this changed". */
export function digest(...parts: (ConfValue | undefined)[]): string {
  const h = createHash("sha256");
  for (const part of parts) h.update(canonical(part)).update("\0");
  return h.digest("hex").slice(0, 16);
}
