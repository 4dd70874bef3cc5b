/** nats-server versions as numbers to compare, and the keys each version line introduced. */
import { z } from "zod";

export type Version = [number, number, number];

export function parseVersion(text: string): Version {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (m === null) throw new Error(`not a nats-server version: "${text}" (expected e.g. 2.10.27)`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function atLeast(version: string, minimum: string): boolean {
  const [a, b] = [parseVersion(version), parseVersion(minimum)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** Keys that older servers reject as "unknown field": each with the first version that knows it. */
export const KEY_SINCE: Record<string, string> = {
  "jetstream.sync_interval": "2.10.0",
};

/** The oldest line the renderer supports (Debian bookworm's). */
export const OLDEST_SUPPORTED = "2.9.0";

/**
 * A nats-server version a target's settings may name: the renderer writes its config, so the
 * version must be one it supports (a stack naming an older one is refused at the config edge,
 * naming the key, rather than when the config is rendered).
 */
const VERSION = /^\d+\.\d+\.\d+$/;
export const natsServerVersion = z
  .string({ invalid_type_error: `must be a string: a nats-server version, ${OLDEST_SUPPORTED} or newer` })
  .regex(VERSION, { message: `must be a version like 2.14.6 (${OLDEST_SUPPORTED} or newer)` })
  .refine(
    // zod runs every check; a malformed version has its message from the regex already.
    (version) => !VERSION.test(version) || atLeast(version, OLDEST_SUPPORTED),
    (version) => ({
      message: `nats-server ${version} is older than ${OLDEST_SUPPORTED}, the oldest line the config renderer supports: use ${OLDEST_SUPPORTED} or newer, e.g. 2.14.6`,
    }),
  );
