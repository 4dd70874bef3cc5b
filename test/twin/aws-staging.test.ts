/**
 * The AWS twin carries the staging stack's `pulumi up` out from nothing: three instances boot from
 * their user data (cloud-init), each agent reads its own parameters from the twin's Systems
 * Manager with its instance profile's credentials from IMDSv2, installs the pinned nats-server
 * from the mirror, prepares and mounts its EBS volume, and starts nats-server; the three form a
 * JetStream cluster over TLS and the load balancer's name resolves. A server's role reads no other
 * server's parameters; its security group admits a peel to the client port, not to monitoring. The reconcile function, run as its schedule would, creates the buckets;
 * peels write through the load balancer with their own credentials; then 2,000 → 4,000 peels (the
 * same tier) reloads every server's config and stops none, the peels writing all along, every
 * acknowledged write found again. Then 2,000 → 12,000 (cluster-3 → cluster-5): the update that
 * stops each server in turn for its new type and adds two no longer waits for the ones it adds,
 * and every volume that grew in place has a file system of its new size. A rehearsal on this
 * machine, never a claim that AWS ran.
 *
 * @servers
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { TwinClient } from "../../twin/daemon/client";
import { runCommand } from "../../twin/host/namespaces";
import { eventually } from "../helpers/local";
import { ROOT } from "../helpers/run";
import { mirrorNatsServer, mirroredSettings, parameterValue, serveAwsTwin, twinWriters } from "../helpers/twin-aws";

interface Status {
  tier: string;
  peels: number;
  servers: { name: string; host: string | null; address: string | null; healthy: boolean; monitorUrl: string }[];
  connect: Record<string, { servers: string[]; jetstreamDomain: string | null }>;
}

const PEELS = ["peel-1", "peel-2", "peel-3"];

const STACK_ID = "zester-infra-staging";
const staging = parseYaml(readFileSync(path.join(ROOT, "stacks", "Pulumi.staging.yaml"), "utf8")) as {
  config: Record<string, Record<string, unknown>>;
};

/** The agent's own request code, run on a host: what its role may read under `prefix`. */
const READ_AS_AGENT = (prefix: string) => `python3 - <<'EOF'
import importlib.machinery, importlib.util, json, urllib.error
loader = importlib.machinery.SourceFileLoader("agent", "/usr/local/sbin/zester-apply")
agent = importlib.util.module_from_spec(importlib.util.spec_from_loader("agent", loader))
loader.exec_module(agent)
try:
    print(json.dumps({"read": len(agent.parameters("eu-west-1", "${prefix}"))}))
except urllib.error.HTTPError as error:
    print(json.dumps({"status": error.code, "type": json.loads(error.read())["__type"]}))
EOF`;

/** `status` once it shows `count` servers, every one healthy. */
async function allHealthy(client: TwinClient, count: number): Promise<Status> {
  let status: Status | undefined;
  await eventually(
    `${String(count)} servers, every one healthy`,
    async () => {
      status = (await client.status()) as Status;
      return status.servers.length === count && status.servers.every((s) => s.healthy);
    },
    180_000,
  );
  if (status === undefined) throw new Error("no status");
  return status;
}

/** The server's `/varz` config_load_time, read on the host. */
async function configLoaded(machine: { sh(script: string): Promise<{ stdout: string }> }): Promise<string> {
  const varz = await machine.sh(
    `python3 -c 'import json, urllib.request; print(json.load(urllib.request.urlopen("http://127.0.0.1:8222/varz"))["config_load_time"])'`,
  );
  return varz.stdout.trim();
}

test("staging on the AWS twin: from nothing, the same tier with more peels, then cluster-3 → cluster-5, peels writing", async () => {
  const twin = await serveAwsTwin("aws-staging");
  try {
    const pin = mirrorNatsServer(twin.dir);
    const client = new TwinClient(twin.dir);
    const printed: string[] = [];
    const io = { out: (t: string) => printed.push(t), err: (t: string) => printed.push(t) };
    const started = Date.now();
    const set = mirroredSettings({ ...staging.config["zester:aws"], peelCredentials: PEELS }, pin);
    expect([await client.up({ stack: "staging", set }, io), printed.join("")]).toEqual([0, expect.any(String)]);
    const output = printed.join("");
    expect(output).toContain("nothing was created on AWS");
    expect(output).not.toContain("warning:");
    expect(output).toMatch(/recorded, not run: zester-backups: the twin takes no EBS snapshot/);

    let status = await allHealthy(client, 3);
    const upSeconds = (Date.now() - started) / 1000;
    expect(status.tier).toBe("cluster-3");
    expect(status.peels).toBe(2_000);
    expect(status.connect.core?.servers[0]).toMatch(
      /^nats:\/\/zester-clients-[0-9a-f-]+\.elb\.eu-west-1\.amazonaws\.com:4222$/,
    );

    for (const s of status.servers) {
      const machine = twin.served.twin.machine(s.host ?? "");
      const sh = async (script: string) => (await machine.sh(script)).stdout.trim();
      // The mirrored binary, the EBS volume at its size, the data on it.
      expect(await sh("systemctl is-active nats-server.service; /usr/local/bin/nats-server --version")).toBe(
        `active\nnats-server: v${pin.version}`,
      );
      const [source, size] = (await sh("findmnt -bno SOURCE,SIZE /var/lib/nats/jetstream")).split(/\s+/);
      expect(source).toBe("/dev/nvme1n1");
      expect(Number(size)).toBeGreaterThan(199 * 1024 ** 3);
      // A meta group of three with a leader, seen from this server, and routes to both peers.
      const jsz = JSON.parse(
        await sh(
          `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8222/jsz").read().decode())'`,
        ),
      ) as { meta_cluster?: { cluster_size?: number; leader?: string } };
      expect(jsz.meta_cluster?.cluster_size).toBe(3);
      expect(jsz.meta_cluster?.leader ?? "").not.toBe("");
      // Its role reads its own parameters, and not another server's (IAM as the plan wrote it).
      const own = s.name;
      const other = own === "core-0" ? "core-1" : "core-0";
      expect(JSON.parse(await sh(READ_AS_AGENT(`/zester/${STACK_ID}/zester/${own}/`)))).toEqual({ read: 11 });
      expect(JSON.parse(await sh(READ_AS_AGENT(`/zester/${STACK_ID}/zester/${other}/`)))).toEqual({
        status: 400,
        type: "AccessDeniedException",
      });
    }
    console.log(`AWS twin, staging from nothing: every server healthy ${upSeconds.toFixed(1)} s after up began`);

    // The security groups, enforced: a peel reaches a server's client port, not its monitoring
    // port (open to the monitoring CIDRs and the stack's own groups only).
    const peel = await twin.served.twin.openExec(await twin.served.target.execSubnet("core"));
    try {
      const reach = async (port: number) => {
        const probe = `import socket; socket.create_connection(("core-0.zester.internal", ${String(port)}), timeout=2); print("open")`;
        const r = await runCommand(peel.command(["python3", "-c", probe]), { timeoutMs: 10_000 });
        return r.stdout.trim() === "open";
      };
      expect([await reach(4222), await reach(8222)]).toEqual([true, false]);
    } finally {
      await peel.release();
    }

    // The reconcile function, as its schedule runs it: the buckets at the planned replicas.
    const job: string[] = [];
    const ran = await client.runJob({ out: (t) => job.push(t), err: (t) => job.push(t) });
    expect([ran, job.join("")]).toEqual([
      0,
      expect.stringMatching(/"stream":"KV_facts","action":"created","replicas":3/),
    ]);

    // Peels through the load balancer, each with the credentials the stack issued it.
    const path = (p: string) => `/zester/${STACK_ID}/zester/${p}`;
    const outputs = JSON.parse(readFileSync(`${twin.dir}/stack.json`, "utf8")) as {
      outputs: { sizing: { client: { peel: Record<string, number> } } };
    };
    const writersSpec = {
      servers: status.connect.core?.servers ?? [],
      ...(status.connect.core?.jetstreamDomain == null ? {} : { domain: status.connect.core.jetstreamDomain }),
      ca: parameterValue(twin.dir, path("core-0/files/ca.pem")),
      peels: PEELS.map((id) => ({ id, creds: parameterValue(twin.dir, path(`peels/${id}`)) })),
      client: outputs.outputs.sizing.client.peel as never,
      paceMs: 20,
      bytes: 256,
      reader: { creds: parameterValue(twin.dir, path("kv-reconcile/seed")), role: "reconcile" as const },
    };
    const writers = await twinWriters(twin.served.twin, await twin.served.target.execSubnet("core"), writersSpec);

    // The same tier with more peels: each server reloads its config; no host stops, no server restarts.
    const before = await Promise.all(
      status.servers.map(async (s) => {
        const machine = twin.served.twin.machine(s.host ?? "");
        const pid = (await machine.sh("systemctl show -p MainPID --value nats-server.service")).stdout.trim();
        return { host: s.host ?? "", boots: machine.boots, pid, loaded: await configLoaded(machine) };
      }),
    );
    const more = mirroredSettings({ ...staging.config["zester:aws"], peelCredentials: PEELS }, pin);
    printed.length = 0;
    const again = await client.up({ stack: "staging", set: [...more, "zester:peels=4000"] }, io);
    expect([again, printed.join("")]).toEqual([0, expect.stringContaining("nothing was created on AWS.")]);
    expect(printed.join("")).not.toMatch(/aws:ec2\/instance:Instance .* (update|replace)/);
    for (const b of before) {
      const machine = twin.served.twin.machine(b.host);
      // The agent looks every 30 s.
      await eventually("the new config loaded", async () => (await configLoaded(machine)) !== b.loaded, 120_000);
      expect(machine.boots).toBe(b.boots);
      expect((await machine.sh("systemctl show -p MainPID --value nats-server.service")).stdout.trim()).toBe(b.pid);
      expect((await machine.sh("grep -E 'max_connections *[:=] *8000' /etc/nats/nats-server.conf")).stdout).toMatch(
        /max_connections/,
      );
    }
    const report = await writers.stop();
    console.log(`AWS twin, staging 2,000 → 4,000 peels with peels writing: ${JSON.stringify(report)}`);
    expect(report.acknowledged).toBeGreaterThan(100);
    expect([report.lost, report.found]).toEqual([0, report.acknowledged]);

    // cluster-3 → cluster-5: each server stops for its new type, one at a time behind its health
    // gate, which waits only for the servers deployed before (core-3 and core-4 come after it).
    const moving = await twinWriters(twin.served.twin, await twin.served.target.execSubnet("core"), writersSpec);
    printed.length = 0;
    const moveStarted = Date.now();
    const moved = await client.up({ stack: "staging", set: [...more, "zester:peels=12000"] }, io);
    const moveSeconds = (Date.now() - moveStarted) / 1000;
    expect([moved, printed.join("")]).toEqual([0, expect.stringContaining("nothing was created on AWS.")]);
    expect(printed.join("")).toMatch(/zester-core-2-healthy create-replacement done/);
    status = await allHealthy(client, 5);
    expect(status.tier).toBe("cluster-5");
    for (const s of status.servers) {
      const machine = twin.served.twin.machine(s.host ?? "");
      // Every volume is 500 GiB now: the three that grew in place have a file system of that size too.
      const size = Number((await machine.sh("findmnt -bno SIZE /var/lib/nats/jetstream")).stdout.trim());
      expect([s.name, size > 499 * 1024 ** 3]).toEqual([s.name, true]);
    }
    const rejob: string[] = [];
    expect(await client.runJob({ out: (t) => rejob.push(t), err: (t) => rejob.push(t) })).toBe(0);
    const afterMove = await moving.stop();
    console.log(
      `AWS twin, staging cluster-3 → cluster-5: the up took ${moveSeconds.toFixed(1)} s; peels writing: ${JSON.stringify(afterMove)}`,
    );
    expect(afterMove.acknowledged).toBeGreaterThan(100);
    expect([afterMove.lost, afterMove.found]).toEqual([0, afterMove.acknowledged]);
  } finally {
    await twin.remove();
  }
}, 600_000);
