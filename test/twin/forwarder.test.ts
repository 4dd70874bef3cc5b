/**
 * The load-balancer forwarder: targets take connections once their health checks pass, an
 * unhealthy one stops taking new ones, none healthy fails open (NLB) or refuses (a Service
 * without endpoints), the client's address reaches the target unless translated, and probes pass
 * through the targets' own packet filter.
 *
 * @servers
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Forwarders, nextHealth, renderForwarding, routable, type ForwarderSpec } from "../../twin/host/forwarder";
import { Sandbox } from "../../twin/host/sandbox";
import { nftTool } from "../helpers/tools";

const CHECK = {
  protocol: "http" as const,
  path: "/healthz",
  port: 8222,
  intervalMs: 200,
  timeoutMs: 150,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};
const NLB: ForwarderSpec = {
  name: "nlb",
  listen: { address: "10.0.1.200", port: 4222 },
  targets: [
    { address: "10.0.1.10", port: 4222 },
    { address: "10.0.2.10", port: 4222 },
  ],
  healthCheck: CHECK,
  clientAddress: "preserved",
  whenNoneHealthy: "all-targets",
};

/** Answers `<host>:<client address>` on 4222; /healthz is 200 unless /run/sick exists. */
const SERVER = `const net=require("net"),http=require("http"),fs=require("fs"),os=require("os");
net.createServer(s=>s.end(os.hostname()+":"+s.remoteAddress)).listen(4222,"0.0.0.0");
http.createServer((q,r)=>{r.statusCode=fs.existsSync("/run/sick")?503:200;r.end();}).listen(8222,"0.0.0.0");`;
const CONNECT = (address: string, port: number, times: number) =>
  `const net=require("net");const out=[];let n=0;const one=()=>{const s=net.connect(${String(port)},"${address}");let d="";s.setTimeout(800,()=>{s.destroy();next("timeout")});s.on("data",x=>d+=x);s.on("end",()=>next(d));s.on("error",e=>next(e.code))};const next=r=>{out.push(r);if(++n<${String(times)})one();else{console.log(JSON.stringify(out));process.exit(0)}};one();`;

describe("the load-balancer forwarder", () => {
  let sandbox: Sandbox;
  let forwarders: Forwarders;

  const connect = async (address: string, port: number, times = 16): Promise<string[]> =>
    JSON.parse((await sandbox.run("peel", ["node", "-e", CONNECT(address, port, times)])).stdout) as string[];
  const until = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(forwarders.list())}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const states = (name: string) => forwarders.state(name).targets.map((t) => t.state);

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    const nft = nftTool();
    sandbox = await Sandbox.start({ dir, nft });
    await sandbox.addHost({ name: "core-0", address: "10.0.1.10", prefix: 24 });
    await sandbox.addHost({ name: "core-1", address: "10.0.2.10", prefix: 24 });
    await sandbox.addClient({ name: "peel", address: "10.0.3.10", prefix: 24 });
    for (const host of ["core-0", "core-1"])
      sandbox.spawn(host, ["node", "-e", SERVER], sandbox.logFile(host, "server"));
    forwarders = new Forwarders(sandbox, nft);
  }, 30_000);

  afterAll(async () => {
    forwarders.close();
    await sandbox.stop();
  });

  test("targets take connections once healthy, with the client's own address", async () => {
    await forwarders.set(NLB);
    expect(states("nlb")).toEqual(["initial", "initial"]);
    await until("both targets healthy", () => states("nlb").every((s) => s === "healthy"));
    const answers = await connect("10.0.1.200", 4222);
    expect(new Set(answers)).toEqual(new Set(["core-0:10.0.3.10", "core-1:10.0.3.10"]));
  }, 20_000);

  test("an unhealthy target takes no new connection; none healthy fails open", async () => {
    await sandbox.run("core-1", ["touch", "/run/sick"]);
    await until("core-1 unhealthy", () => states("nlb")[1] === "unhealthy");
    expect(forwarders.state("nlb").targets[1]).toMatchObject({
      reason: "Target.ResponseCodeMismatch 503",
      routable: false,
    });
    expect(new Set(await connect("10.0.1.200", 4222))).toEqual(new Set(["core-0:10.0.3.10"]));

    await sandbox.run("core-0", ["touch", "/run/sick"]);
    await until("both unhealthy", () => states("nlb").every((s) => s === "unhealthy"));
    expect(forwarders.state("nlb").targets.map((t) => t.routable)).toEqual([true, true]);
    expect(new Set(await connect("10.0.1.200", 4222))).toEqual(new Set(["core-0:10.0.3.10", "core-1:10.0.3.10"]));
    for (const host of ["core-0", "core-1"]) await sandbox.run(host, ["rm", "/run/sick"]);
    await until("both healthy again", () => states("nlb").every((s) => s === "healthy"));
  }, 30_000);

  test("a Service without ready endpoints refuses; a translated one hides the client's address", async () => {
    await forwarders.set({
      ...NLB,
      name: "svc",
      listen: { address: "10.0.1.201", port: 4222 },
      targets: [],
      healthCheck: undefined,
      whenNoneHealthy: "reject",
    });
    expect(await connect("10.0.1.201", 4222, 2)).toEqual(["ECONNREFUSED", "ECONNREFUSED"]);
    await forwarders.set({
      ...NLB,
      name: "svc",
      listen: { address: "10.0.1.201", port: 4222 },
      targets: [NLB.targets[0] ?? { address: "", port: 0 }],
      healthCheck: undefined,
      whenNoneHealthy: "reject",
      clientAddress: "translated",
    });
    expect(await connect("10.0.1.201", 4222, 2)).toEqual(["core-0:10.0.1.201", "core-0:10.0.1.201"]);
  }, 20_000);

  test("probes come from the listener's address through the target's packet filter", async () => {
    // core-1 lets the peel in on 4222 but not the load balancer on 8222: its checks time out.
    await sandbox.setPolicy("10.0.2.10", {
      ingress: [{ cidrs: ["10.0.3.10/32"], protocol: "tcp", ports: [4222, 4222] }],
      egress: "any",
    });
    await until("core-1 unhealthy behind its filter", () => states("nlb")[1] === "unhealthy");
    expect(forwarders.state("nlb").targets[1]?.reason).toBe("Target.Timeout");
    await sandbox.setPolicy("10.0.2.10", undefined);
    await until("core-1 healthy again", () => states("nlb")[1] === "healthy");
  }, 20_000);
});

test("health counts passes and failures in a row, as AWS's thresholds do", () => {
  let tally = { state: "initial" as const, passes: 0, fails: 0, reason: "" } as Parameters<typeof nextHealth>[0];
  tally = nextHealth(tally, true, "200", CHECK);
  expect(tally.state).toBe("initial");
  tally = nextHealth(tally, true, "200", CHECK);
  expect(tally.state).toBe("healthy");
  tally = nextHealth(nextHealth(tally, false, "503", CHECK), true, "200", CHECK);
  expect(tally.state).toBe("healthy");
  tally = nextHealth(nextHealth(tally, false, "503", CHECK), false, "503", CHECK);
  expect(tally).toMatchObject({ state: "unhealthy", reason: "503" });
  expect(routable(NLB, ["unhealthy", "unhealthy"])).toEqual([true, true]);
  expect(routable({ ...NLB, whenNoneHealthy: "reject" }, ["unhealthy", "initial"])).toEqual([false, false]);
  expect(routable(NLB, ["healthy", "initial"])).toEqual([true, false]);
  expect(renderForwarding([{ spec: NLB, routable: [true, true] }])).toContain(
    "ip daddr 10.0.1.200 tcp dport 4222 dnat ip to numgen random mod 2 map { 0 : 10.0.1.10 . 4222, 1 : 10.0.2.10 . 4222 }",
  );
});
