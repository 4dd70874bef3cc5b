/**
 * Every step of a tier transition fails safe and resumes, through the command line an operator
 * uses (`npm run -s local -- up --peels N`), on the current nats-server, with peels writing all
 * along. A failure is injected at a step (ZESTER_TRANSITION_FAULT: the process carrying the
 * transition out killed with SIGKILL, a restore failing, a server that does not come back), the
 * command must exit 1 saying which step failed, what it did and how to resume; `status --json`
 * must show the transition and the failed step; every peel must get writes acknowledged again at
 * once; then the next `up` resumes, failing at the next step, until one without a fault completes.
 * Every step of the moves that copy data (single → cluster, cluster → single) and of a single
 * server's restart is failed, each in several ways, and one step of each other kind (a member's
 * restart, members added, a member removed, limits and replicas set, stores deleted): the steps
 * of one kind run the same code. Afterwards every acknowledged write is read back.
 *
 * @servers @long
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
import { tempStateDir } from "../helpers/local";
import { runScriptAsync } from "../helpers/run";

interface PlannedStep {
  id: string;
  kind: string;
}

/** The faults each kind of step gets: every way it can fail that does something different. */
function faultsFor(step: PlannedStep, everyStep: boolean, intoSingle: boolean): TransitionFault[] {
  const f = (at: TransitionFault["at"], how: TransitionFault["do"]): TransitionFault => ({
    step: step.id,
    at,
    do: how,
  });
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
      return [f("start", "keep-down"), f("start", "kill")];
    case "move-replicas":
      return [f("server-stopped", "kill")];
    default:
      return everyStep ? [f("start", "kill")] : [f("start", "fail")];
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

const MOVES: { peels: number; everyStep: boolean; intoSingle?: boolean; only?: string[] }[] = [
  { peels: 2_000, everyStep: true }, // single → cluster-3: a copy
  { peels: 12_000, everyStep: false, only: ["restart", "add-servers", "set-limits"] }, // members restart, join
  { peels: 2_000, everyStep: false, only: ["move-replicas", "delete-data"] }, // members leave
  { peels: 500, everyStep: true, intoSingle: true }, // cluster-3 → single: a copy
  { peels: 50, everyStep: true, intoSingle: true }, // a single server's restart
];

test("every step fails safe and resumes through `up --peels N`, nothing acknowledged lost", async () => {
  const natsServer = fetchFromDebian("sid");
  const stateDir = tempStateDir("transition-faults");
  let writers: WriterGroup | undefined;
  try {
    const running = await up({ peels: 500, stateDir, natsServer, detach: true });
    const filled = await fillFacts(running.state, running.topology, 5_000, 200);
    writers = new WriterGroup(
      "faults",
      spread(peelAddresses(running.topology), 4, 1),
      (id) => peelIdentity(running.state, id),
      running.topology.plan.client.peel,
      TRANSITION_WRITER_OPTIONS,
    );
    await writers.start();
    for (const move of MOVES) {
      const steps = await plannedSteps(stateDir, move.peels);
      const injected = steps
        .filter((s) => move.only === undefined || move.only.includes(s.kind))
        .filter((s, i, all) => move.everyStep || all.findIndex((x) => x.kind === s.kind) === i)
        .flatMap((s) => faultsFor(s, move.everyStep, move.intoSingle === true));
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
}, 1_200_000);
