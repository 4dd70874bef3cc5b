/**
 * The health gate a rollout waits at (run by the deployed function) against a real 3-node
 * cluster: it passes while every server answers /healthz, and fails naming the one that does not.
 *
 * @servers
 */
import { awaitHealthy } from "../../jetstream/health-gate";
import { handler } from "../../jetstream/reconcile-job";
import { monitorUrl } from "../../topology/types";
import { boot } from "../helpers/local";

test("passes a healthy cluster; after one server is killed, fails within its timeout naming it", async () => {
  const run = await boot(2_000, "sid");
  try {
    const servers = run.topology.servers.map(monitorUrl);
    const passed = await awaitHealthy({ action: "await-healthy", servers, timeoutSeconds: 30 }, 100);
    expect(passed.healthy).toEqual(servers);

    const victim = run.state.servers.find((s) => s.name === "core-2");
    if (victim?.pid === undefined) throw new Error("core-2 is not running");
    process.kill(victim.pid, "SIGKILL");
    // The others may be behind too for a while (a new meta leader is elected in 4–9 s): the gate
    // names every server that is not healthy, the killed one among them.
    const core2 = run.topology.servers.find((s) => s.name === "core-2");
    if (core2 === undefined) throw new Error("a 2,000-peel topology has core-2");
    const killed = monitorUrl(core2);
    await expect(awaitHealthy({ action: "await-healthy", servers, timeoutSeconds: 2 }, 100)).rejects.toThrow(
      new RegExp(`^not healthy after 2 s: (\\S+, )*${killed.replace(/[.]/g, "\\.")}(, \\S+)*; the rollout stops here`),
    );
  } finally {
    await run.stop();
  }
}, 60_000);

test("the deployed function: a request that names an action and gets it wrong is refused, never reconciles instead", async () => {
  await expect(handler({ action: "await-healthy", servers: [] })).rejects.toThrow(/servers|timeoutSeconds/);
  await expect(handler({ action: "restart-everything" })).rejects.toThrow(/await-healthy/);
});
