import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchFromDebian, type DebianSuite } from "../../local/nats-binary";
import { down, up, type Running } from "../../local/runner";
import type { LocalSizing } from "../../local/state";
import { NATS_SERVER_SUITES } from "./tools";

/** The nats-server lines every behaviour test runs against (tools.ts lists what is fetched). */
export const SUITES = NATS_SERVER_SUITES;

/**
 * For tests that stop servers many times over: a lame-duck grace period of 2 s instead of NATS's
 * 10 s. The grace period is only how long a server in lame duck keeps its clients before closing
 * them (stream leaders are handed off before, and clients are closed one by one after it, as in
 * production), so what a transition proves is the same; each member's stop is 8 s shorter. The
 * bookworm and sid chains and the bench keep the production values.
 */
export const SHORT_LAME_DUCK: LocalSizing = { overrides: { natsServer: { lameDuckGracePeriodSeconds: 2 } } };

export function tempStateDir(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `zester-${label}-`));
}

/** Boots `peels` on loopback with Debian `suite`'s nats-server; `stop()` removes everything. */
export async function boot(
  peels: number,
  suite: DebianSuite,
  stateDir = tempStateDir(`${suite}-${peels}`),
): Promise<Running & { stateDir: string; stop: () => Promise<void> }> {
  // A failed up keeps its state directory (the logs are the diagnosis); a test removes it.
  const running = await up({ peels, stateDir, natsServer: fetchFromDebian(suite), healthTimeoutMs: 60_000 }).catch(
    (error: unknown) => {
      rmSync(stateDir, { recursive: true, force: true });
      throw error;
    },
  );
  return {
    ...running,
    stateDir,
    stop: async () => {
      await down(stateDir, { purge: true });
    },
  };
}

/** GETs a monitoring endpoint of a running server. */
export async function monitor<T = Record<string, unknown>>(base: string, endpoint: string): Promise<T> {
  const r = await fetch(`${base}${endpoint}`);
  if (!r.ok) throw new Error(`${base}${endpoint}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** Polls `check` until it returns true; fails naming `what` if it never does within `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`not within ${String(timeoutMs)} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
