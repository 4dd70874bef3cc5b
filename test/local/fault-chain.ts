/**
 * Every step of every tier transition fails safe and resumes, through the command line an
 * operator uses (`npm run -s local -- up --peels N`), on the current nats-server, with peels
 * writing all along. A failure is injected at a step (ZESTER_TRANSITION_FAULT: the process carrying
 * the transition out killed with SIGKILL, a step failing, a restore failing, a server that does not
 * come back), the command must exit 1 saying which step failed, what it did and how to resume;
 * `status --json` must show the transition and the failed step; every peel must get writes
 * acknowledged again at once; then the next `up` resumes, failing at the next step, until one
 * without a fault completes. Afterwards every acknowledged write and filled entry is read back.
 * Used by transition-faults.test.ts (single and clusters) and transition-faults-sites.test.ts
 * (leaf sites and regions).
 */
import { existsSync } from "node:fs";
import { fillFacts, factsHeld } from "../../load/fill";
import { peelAddresses } from "../../load/addresses";
import { spread } from "../../load/fault-scenarios";
import { peelIdentity } from "../../load/identity";
import { countLost } from "../../load/readback";
import { connectNode } from "../../load/connect";
import { operatorIdentity } from "../../load/identity";
import { coreUrls } from "../../load/addresses";
import { TRANSITION_WRITER_OPTIONS } from "../../load/transition-load";
import { WriterGroup } from "../../load/writers";
import { down, topologyOf, up } from "../../local/runner";
import { fetchFromDebian } from "../../local/nats-binary";
import { readState } from "../../local/state";
import { FAULT_ENV, type TransitionFault } from "../../local/transition-faults";
import { SHORT_LAME_DUCK, tempStateDir } from "../helpers/local";
import { runScriptAsync } from "../helpers/run";

interface PlannedStep {
  id: string;
  kind: string;
}

/**
 * The faults a step gets: in a move that takes every variant, and at the first step of a kind,
 * every way that kind can fail that does something different; every other step, of every move,
 * has the process killed as it begins (the steps of one kind run the same code, and resuming each
 * one proves its bookkeeping). A step with nothing of its own to fail (limits, replicas, stores
 * deleted, servers removed) gets one fault: the first of its kind fails, the others are killed;
 * the recovery from the first may finish the step (a cluster's servers removed once a single
 * server holds its data), and then a second fault there would never fire.
 */
function faultsFor(step: PlannedStep, variants: boolean, first: boolean, intoSingle: boolean): TransitionFault[] {
  const f = (at: TransitionFault["at"], how: TransitionFault["do"]): TransitionFault => ({
    step: step.id,
    at,
    do: how,
  });
  if (!variants && !first) return [f("start", "kill")];
  switch (step.kind) {
    case "copy-data":
      // Into a single server, the copy ends with that server restarting on its own address.
      return [
        f("restore", "fail"),
        f("writes-stopped", "kill"),
        ...(intoSingle ? [f("server-stopped", "kill"), f("server-stopped", "keep-down")] : []),
      ];
    // Killed first: a server kept down has stopped already, and the step run again does not stop it twice.
    case "cut-over":
    case "restart":
      return [f("server-stopped", "kill"), f("server-stopped", "keep-down")];
    case "add-cluster":
    case "add-servers":
    case "add-leaf-site":
    case "add-region":
      return [f("start", "keep-down"), f("start", "kill")];
    case "move-replicas":
      return [f("server-stopped", "kill")];
    default:
      return [f("start", first ? "fail" : "kill")];
  }
}

async function plannedSteps(stateDir: string, peels: number): Promise<PlannedStep[]> {
  const r = await runScriptAsync("local", ["transition", "--peels", String(peels), "--json", "--state-dir", stateDir]);
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as { steps: PlannedStep[] }).steps;
}

interface StatusTransition {
  transition: { step: string | null; failed: { step: string } | null; holds: unknown; resume: string } | null;
}

/** Every writer has a write acknowledged within `ms` from now. */
async function writesAccepted(writers: WriterGroup, ms: number): Promise<void> {
  const since = performance.now();
  const deadline = Date.now() + ms;
  while (!writers.allAckedAfter(since)) {
    if (Date.now() > deadline) throw new Error(`not every peel had a write acknowledged within ${String(ms)} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A move the chain makes: every step of it gets a fault. `variants`: every step gets each way its
 * kind can fail (the moves that copy, where steps of one kind take different paths); otherwise only
 * the first step of a kind in the chain does, and the rest are killed as they begin.
 */
export interface FaultMove {
  peels: number;
  variants?: boolean;
  /** The move ends on a single server (a copy into it, or its own restart). */
  intoSingle?: boolean;
}

/**
 * From `start` peels, each move in turn with a fault at every step (then resumed), writers on
 * throughout, `facts` filled first; every acknowledged write and filled entry read back at the end.
 */
export async function faultChain(name: string, start: number, moves: FaultMove[]): Promise<void> {
  const natsServer = fetchFromDebian("sid");
  const stateDir = tempStateDir(name);
  let writers: WriterGroup | undefined;
  try {
    const running = await up({ peels: start, stateDir, natsServer, detach: true, sizing: SHORT_LAME_DUCK });
    const filled = await fillFacts(running.state, running.topology, 5_000, 200);
    writers = new WriterGroup(
      "faults",
      spread(peelAddresses(running.topology), 4, 1),
      (id) => peelIdentity(running.state, id),
      running.topology.plan.client.peel,
      TRANSITION_WRITER_OPTIONS,
    );
    await writers.start();
    const seen = new Set<string>();
    for (const move of moves) {
      const steps = await plannedSteps(stateDir, move.peels);
      const injected = steps.flatMap((s) => {
        const first = !seen.has(s.kind);
        seen.add(s.kind);
        return faultsFor(s, move.variants === true, first, move.intoSingle === true);
      });
      for (const fault of injected) {
        const r = await runScriptAsync("local", ["up", "--peels", String(move.peels), "--state-dir", stateDir], {
          [FAULT_ENV]: JSON.stringify(fault),
        });
        const context = `${fault.step} ${fault.at} ${fault.do}:\n${r.stdout}\n${r.stderr}`;
        console.log(context);
        // It fails where the fault was injected, not before.
        expect([context, r.status, r.stderr.includes(`step ${fault.step} failed: `)]).toEqual([context, 1, true]);
        expect(r.stderr).toContain(`Resume with \`npm run -s local -- up --peels ${String(move.peels)}\``);
        const st = await runScriptAsync("local", ["status", "--json", "--state-dir", stateDir]);
        const report = JSON.parse(st.stdout) as StatusTransition;
        expect(report.transition?.failed?.step).toMatch(/^\d\d-/);
        expect(report.transition?.holds).toBeNull();
        expect(report.transition?.resume).toBe(`npm run -s local -- up --peels ${String(move.peels)}`);
        // Writes go on right after the command exits.
        await writesAccepted(writers, 10_000);
      }
      const resumed = await runScriptAsync("local", ["up", "--peels", String(move.peels), "--state-dir", stateDir]);
      expect([resumed.status, resumed.stderr]).toEqual([0, ""]);
      expect(readState(stateDir)?.transition).toBeUndefined();
      await writesAccepted(writers, 10_000);
    }
    await writers.stop();
    const state = readState(stateDir);
    if (state === undefined) throw new Error("no state");
    const t = topologyOf(state);
    const nc = await connectNode({ ...operatorIdentity(state), servers: coreUrls(t, t.clusters[0]?.region ?? "") });
    try {
      const report = await countLost(writers.ledger.acked, () => nc);
      expect(report.checked).toBe(writers.ledger.acked.length);
      expect(report.examples).toEqual([]);
      expect(report.lost).toBe(0);
    } finally {
      await nc.close();
    }
    const facts = await factsHeld(state, t, filled.entries, 200, 97);
    expect(facts.missing).toEqual([]);
    expect(facts.messages).toBe(filled.entries);
  } finally {
    await writers?.stop().catch(() => undefined);
    await down(stateDir, { purge: true });
  }
  expect(existsSync(stateDir)).toBe(false);
}
