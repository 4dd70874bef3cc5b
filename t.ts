import { up, down } from "./local/runner";
import { fetchFromDebian } from "./local/nats-binary";
(async () => {
  for (const suite of ["bookworm", "sid"] as const) for (const peels of [50, 2000, 20000, 60000, 150000]) {
    const bin = fetchFromDebian(suite);
    const dir = `/tmp/zl-${suite}-${peels}`;
    const t0 = Date.now();
    try {
      const r = await up({ peels, stateDir: dir, natsServer: bin, healthTimeoutMs: 30000 });
      console.log(suite, peels, r.report.tier, "healthy", r.report.healthy, Date.now() - t0, "ms", JSON.stringify(r.report.metaLeaders));
    } catch (e) { console.log(suite, peels, "FAILED", String(e).slice(0, 1500)); }
    const t1 = Date.now(); await down(dir, { purge: true }); console.log("  down", Date.now() - t1, "ms");
  }
})();
