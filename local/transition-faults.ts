/**
 * The one test seam of a tier transition: a failure injected at a named point of a named step, so
 * a test can prove that every step fails safe and resumes. It is read once, at the command line's
 * edge, from `ZESTER_TRANSITION_FAULT` (JSON, checked here), or handed to `runLocalTransition` by a
 * caller in the same process; nothing else in the code knows about tests. Unset, it does nothing.
 *
 *   ZESTER_TRANSITION_FAULT='{"step":"02-copy-data","at":"writes-stopped","do":"kill"}'
 *
 * `at`: `start` (before the step does anything), `restore` (a copy-data step, as its first restore
 * is under way), `writes-stopped` (a copy-data step, once the source refuses writes), `server-stopped`
 * (a step that restarts a server, once it has stopped). `do`: `kill` (the process carrying the
 * transition out ends at once, SIGKILL), `fail` (the step throws), `keep-down` (every server the
 * step starts after that point stays down, so the step's wait for it runs out: that step waits
 * KEEP_DOWN_WAIT_MS, not the transition's health timeout).
 */
import { z } from "zod";

export const FAULT_ENV = "ZESTER_TRANSITION_FAULT";

/** How long a step whose servers a fault keeps down waits for them. */
export const KEEP_DOWN_WAIT_MS = 5_000;

export const FAULT_POINTS = ["start", "restore", "writes-stopped", "server-stopped"] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export const TransitionFaultSchema = z.strictObject({
  step: z.string().regex(/^\d{2}-[a-z-]+$/, { message: 'must be a step id, e.g. "02-copy-data"' }),
  at: z.enum(FAULT_POINTS),
  do: z.enum(["kill", "fail", "keep-down"]),
});
export type TransitionFault = z.infer<typeof TransitionFaultSchema>;

/** The fault `ZESTER_TRANSITION_FAULT` names, or undefined; a value it cannot read is an error naming it. */
export function faultFromEnv(env: NodeJS.ProcessEnv = process.env): TransitionFault | undefined {
  const raw = env[FAULT_ENV];
  if (raw === undefined || raw === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${FAULT_ENV}: not JSON: ${raw}`);
  }
  const result = TransitionFaultSchema.safeParse(parsed);
  if (!result.success)
    throw new Error(
      `${FAULT_ENV}: ${result.error.issues.map((i) => `${i.path.join(".") || "(value)"}: ${i.message}`).join("; ")}`,
    );
  return result.data;
}

/** A step's view of the fault: where it fires, and whether the servers it starts stay down. */
export class StepFaults {
  private down = false;

  constructor(
    private readonly fault: TransitionFault | undefined,
    private readonly step: string,
  ) {}

  /** Called by the step at `point`: ends the process, throws, or from now on keeps servers down. */
  at(point: FaultPoint): void {
    const f = this.fault;
    if (f === undefined || f.step !== this.step || f.at !== point) return;
    if (f.do === "kill") {
      process.kill(process.pid, "SIGKILL");
      throw new Error("unreachable: SIGKILL did not end the process");
    }
    if (f.do === "fail") throw new Error(`injected failure (${FAULT_ENV}) in ${this.step} at ${point}`);
    this.down = true;
  }

  /** How long this step waits for a server: `normal`, or briefly where the fault keeps servers down. */
  waitMs(normal: number): number {
    const f = this.fault;
    return f?.step === this.step && f.do === "keep-down" ? Math.min(normal, KEEP_DOWN_WAIT_MS) : normal;
  }

  /** Whether a server this step starts now stays down. */
  get keepsDown(): boolean {
    return this.down;
  }
}
