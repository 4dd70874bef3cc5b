import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runScript, type Run } from "./run";

/** `npm run -s plan -- --stack STACK --set … [--previous FILE] [--transition-report FILE] --json`, as its own process. */
export function runPlan(stack: string, sets: string[], previous?: string, report?: string): Run {
  return runScript("plan", [
    "--stack",
    stack,
    ...sets.flatMap((s) => ["--set", s]),
    ...(previous === undefined ? [] : ["--previous", previous]),
    ...(report === undefined ? [] : ["--transition-report", report]),
    "--json",
  ]);
}

/**
 * The same with what is deployed given as an earlier plan, and optionally the reconcile job's
 * transition report as the stack reads it back (each written to a temporary file).
 */
export function runPlanOver(previous: unknown, stack: string, sets: string[], report?: unknown): Run {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-previous-"));
  try {
    const file = path.join(dir, "previous.json");
    writeFileSync(file, JSON.stringify(previous));
    const reportFile = report === undefined ? undefined : path.join(dir, "report.json");
    if (reportFile !== undefined) writeFileSync(reportFile, JSON.stringify(report));
    return runPlan(stack, sets, file, reportFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same, parsed; a plan that fails throws with what it printed. */
export function planOf(stack: string, sets: string[]): unknown {
  const r = runPlan(stack, sets);
  if (r.status !== 0) throw new Error(`plan failed (${String(r.status)}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** `make` run once per key and kept: a plan is a process start of about 2 s. */
export function once<K, V>(make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    const kept = made.get(key);
    if (kept !== undefined) return kept;
    const value = make(key);
    made.set(key, value);
    return value;
  };
}
