/**
 * The AWS servers' agent (components/aws/zester-apply.py), run for real with python3 as on a
 * server, against stand-ins on loopback for the instance metadata service (credentials), the
 * SSM API (parameters, signed requests), the server's peers (/healthz, /varz) and a download
 * server, in a directory standing in for `/`. systemctl is replaced by commands that log.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "../helpers/run";

const AGENT = path.join(ROOT, "components", "aws", "zester-apply.py");
const PREFIX = "/zester/zester-infra-staging/zester/core-1/";
const CREDS = { AccessKeyId: "ASIAEXAMPLE", SecretAccessKey: "secret-example", Token: "session-token-example" };

interface Peer {
  healthy: boolean;
  tags: string[];
  /** `/varz` config_load_time. @default none */
  loaded?: string;
}

interface World {
  parameters: Map<string, string>;
  peers: Map<string, Peer>;
  downloads: Map<string, Buffer>;
  /** Every SSM request's headers, to check they are signed. */
  ssmRequests: http.IncomingHttpHeaders[];
  /** Called after each SSM page is answered (a test changes the store between reads). */
  afterPage?: () => void;
}

function stand(world: World): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const url = req.url ?? "";
      if (req.method === "PUT" && url === "/latest/api/token") return res.end("token-1");
      if (url.startsWith("/latest/meta-data/iam/security-credentials/")) {
        if (req.headers["x-aws-ec2-metadata-token"] !== "token-1") return res.writeHead(401).end();
        return res.end(url.endsWith("/") ? "zester-core-1-agent\n" : JSON.stringify(CREDS));
      }
      if (req.method === "POST" && req.headers["x-amz-target"] === "AmazonSSM.GetParametersByPath") {
        world.ssmRequests.push(req.headers);
        const request = JSON.parse(body) as { Path: string; NextToken?: string; MaxResults: number };
        const names = [...world.parameters.keys()].filter((n) => n.startsWith(request.Path)).sort();
        const from = Number(request.NextToken ?? 0);
        const page = names.slice(from, from + request.MaxResults);
        const answer = res.end(
          JSON.stringify({
            Parameters: page.map((Name) => ({ Name, Value: world.parameters.get(Name) })),
            ...(from + request.MaxResults < names.length ? { NextToken: String(from + request.MaxResults) } : {}),
          }),
        );
        world.afterPage?.();
        return answer;
      }
      const peer = /^\/peer\/([^/]+)\/(healthz|varz)$/.exec(url);
      if (peer !== null) {
        const state = world.peers.get(peer[1] ?? "");
        if (state === undefined || !state.healthy) return res.writeHead(503).end("{}");
        return res.end(
          peer[2] === "varz" ? JSON.stringify({ tags: state.tags, config_load_time: state.loaded }) : '{"status":"ok"}',
        );
      }
      const file = world.downloads.get(url);
      if (file !== undefined) return res.end(file);
      res.writeHead(404).end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${String(port)}`,
        close: () =>
          new Promise((r) =>
            server.close(() => {
              r();
            }),
          ),
      });
    });
  });
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

interface Report {
  changed: string[];
  installed: string[];
  "nats-server": string;
}

describe("zester-apply", () => {
  // A test runs the agent as a python3 process up to four times, each answered from this process:
  // with every core busy (the suite runs several workers a core) that outlasts jest's default 5 s.
  jest.setTimeout(30_000);

  let dir = "";
  let root = "";
  let log = "";
  let world: World;
  let base = "";
  let close: () => Promise<void> = () => Promise.resolve();

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "zester-agent-"));
    root = path.join(dir, "root");
    log = path.join(dir, "commands.log");
    mkdirSync(path.join(root, "etc", "zester"), { recursive: true });
    world = { parameters: new Map(), peers: new Map(), downloads: new Map(), ssmRequests: [] };
    const started = await stand(world);
    base = started.url;
    close = started.close;
    writeFileSync(
      path.join(root, "etc", "zester", "agent.json"),
      JSON.stringify({ region: "eu-west-1", path: PREFIX }),
    );
    world.downloads.set("/nats-server", Buffer.from("#!/bin/sh\necho nats-server v1\n"));
  });

  afterEach(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Puts the manifest and file parameters of core-1 (order 1, peers core-0 and core-2). */
  function publish(opts: {
    generation: string;
    conf: string;
    peers?: { generation: string; pending: boolean; joining?: true }[];
    big?: string;
    /** Give the manifest this server's own monitor (`/peer/core-1`). */
    monitored?: boolean;
  }) {
    const files = [
      {
        name: "nats-server.conf",
        path: "/etc/nats/nats-server.conf",
        mode: "0640",
        owner: "root:nats",
        service: "nats-server",
      },
      { name: "sysctl.conf", path: "/etc/sysctl.d/99-zester.conf", mode: "0644", owner: "root:root" },
      ...(opts.big === undefined
        ? []
        : [{ name: "big", path: "/usr/local/sbin/big", mode: "0755", owner: "root:root", encoding: "gzip+base64" }]),
    ];
    const peers = ["core-0", "core-2"].map((name, i) => ({
      name,
      monitor: `${base}/peer/${name}`,
      order: i === 0 ? 0 : 2,
      generation: opts.peers?.[i]?.generation ?? "g1",
      pending: opts.peers?.[i]?.pending ?? false,
      ...(opts.peers?.[i]?.joining === true ? { joining: true } : {}),
    }));
    const manifest = {
      version: 1,
      generation: opts.generation,
      order: 1,
      ...(opts.monitored === true ? { monitor: `${base}/peer/core-1` } : {}),
      files,
      pins: {
        "nats-server": {
          url: `${base}/nats-server`,
          sha256: sha256(world.downloads.get("/nats-server") ?? Buffer.alloc(0)),
          dest: "/usr/local/bin/nats-server",
        },
      },
      services: ["nats-server.service"],
      peers,
    };
    world.parameters.set(`${PREFIX}manifest`, JSON.stringify(manifest));
    world.parameters.set(`${PREFIX}files/nats-server.conf`, opts.conf);
    world.parameters.set(`${PREFIX}files/sysctl.conf`, "net.core.somaxconn = 65535\n");
    if (opts.big !== undefined) world.parameters.set(`${PREFIX}files/big`, gzipSync(opts.big).toString("base64"));
    // Parameters of another server: the agent asks for its own path only.
    for (let i = 0; i < 12; i++)
      world.parameters.set(`/zester/zester-infra-staging/zester/core-2/files/x${String(i)}`, "x");
  }

  /** Runs the agent (asynchronously: the stand-ins answer from this process). */
  async function agent(
    active: boolean,
  ): Promise<{ status: number | null; report: Report | undefined; commands: string[]; stderr: string }> {
    const logged = (name: string) => ["sh", "-c", `echo "${name} $*" >> ${log}`, "sh"];
    const child = spawn("python3", [AGENT], {
      env: {
        ...process.env,
        ZESTER_ROOT: root,
        ZESTER_IMDS: base,
        ZESTER_SSM_ENDPOINT: `${base}/`,
        ZESTER_COMMANDS: JSON.stringify({
          "daemon-reload": logged("daemon-reload"),
          sysctl: logged("sysctl"),
          "is-active": ["sh", "-c", active ? "exit 0" : "exit 3", "sh"],
          start: logged("start"),
          reload: logged("reload"),
          restart: logged("restart"),
          "install-package": logged("install-package"),
          "grow-data-disk": logged("grow-data-disk"),
        }),
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const commands = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
    rmSync(log, { force: true });
    return { status, report: status === 0 ? (JSON.parse(stdout) as Report) : undefined, commands, stderr };
  }

  const file = (p: string) => readFileSync(path.join(root, p), "utf8");

  test("first boot: installs the pinned binary, writes every file, starts nats-server; requests are signed", async () => {
    publish({ generation: "g1", conf: "max_connections: 4000\n", big: "x".repeat(6_000) });
    const r = await agent(false);
    expect(r.stderr).toBe("");
    expect(r.report).toEqual({
      changed: ["/etc/nats/nats-server.conf", "/etc/sysctl.d/99-zester.conf", "/usr/local/sbin/big"],
      installed: ["nats-server"],
      "nats-server": "started",
    });
    expect(r.commands).toEqual(["sysctl ", "start nats-server.service"]);
    expect(file("/etc/nats/nats-server.conf")).toBe("max_connections: 4000\n");
    expect(file("/usr/local/sbin/big")).toBe("x".repeat(6_000));
    expect(file("/usr/local/bin/nats-server")).toContain("nats-server v1");
    // Two pages of its own path, each signed with the instance profile's session credentials.
    expect(world.ssmRequests.length).toBeGreaterThanOrEqual(1);
    for (const h of world.ssmRequests) {
      expect(h.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE\/\d{8}\/eu-west-1\/ssm\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
      );
      expect(h["x-amz-security-token"]).toBe(CREDS.Token);
    }
  });

  test("nothing changed: nothing is written or signalled; a peel-count change: the config is written and reloaded", async () => {
    publish({ generation: "g1", conf: "max_connections: 4000\n" });
    await agent(false);
    expect((await agent(true)).report).toEqual({ changed: [], installed: [], "nats-server": "none" });
    publish({ generation: "g1", conf: "max_connections: 24000\n" });
    const r = await agent(true);
    expect(r.report).toEqual({ changed: ["/etc/nats/nats-server.conf"], installed: [], "nats-server": "reloaded" });
    expect(r.commands).toEqual(["reload nats-server.service"]);
  });

  test("a restart waits its turn: peers healthy, the one before it running its new generation; only then the config is written", async () => {
    publish({ generation: "g1", conf: "lame_duck_duration: 120s\n" });
    await agent(false);
    world.peers.set("core-0", { healthy: true, tags: ["zester-gen:g1"] });
    world.peers.set("core-2", { healthy: true, tags: ["zester-gen:g1"] });
    const restart = {
      generation: "g2",
      conf: "lame_duck_duration: 60s\n",
      peers: [{ generation: "g2-core-0", pending: true }],
    };
    publish(restart);

    const waiting = await agent(true);
    expect(waiting.report?.["nats-server"]).toBe("waiting: core-0 does not run generation g2-core-0 yet");
    expect(waiting.commands).toEqual([]);
    expect(file("/etc/nats/nats-server.conf")).toBe("lame_duck_duration: 120s\n");

    world.peers.set("core-0", { healthy: true, tags: ["zester-gen:g2-core-0"] });
    world.peers.set("core-2", { healthy: false, tags: [] });
    expect((await agent(true)).report?.["nats-server"]).toBe("waiting: core-2 is not healthy");

    world.peers.set("core-2", { healthy: true, tags: ["zester-gen:g1"] });
    const turn = await agent(true);
    expect(turn.report).toEqual({ changed: ["/etc/nats/nats-server.conf"], installed: [], "nats-server": "restarted" });
    expect(turn.commands).toEqual(["restart nats-server.service"]);
    // Done: the next run has nothing pending.
    expect((await agent(true)).report?.["nats-server"]).toBe("none");
  });

  test("a peer the update adds (joining) is not waited for: it starts after the deployed ones", async () => {
    publish({ generation: "g1", conf: "lame_duck_duration: 120s\n" });
    await agent(false);
    world.peers.set("core-0", { healthy: true, tags: ["zester-gen:g1"] });
    // core-2 does not exist yet: it is created after this server's turn.
    world.peers.set("core-2", { healthy: false, tags: [] });
    publish({
      generation: "g2",
      conf: "lame_duck_duration: 60s\n",
      peers: [
        { generation: "g1", pending: false },
        { generation: "g1", pending: false, joining: true },
      ],
    });
    const turn = await agent(true);
    expect(turn.report?.["nats-server"]).toBe("restarted");
    expect(turn.commands).toEqual(["restart nats-server.service"]);
  });

  test("with a data disk, every run grows its file system to the volume's size (and mounts nothing)", async () => {
    publish({ generation: "g1", conf: "x: 1\n" });
    mkdirSync(path.join(root, "usr", "local", "sbin"), { recursive: true });
    writeFileSync(path.join(root, "usr", "local", "sbin", "zester-data-disk"), "#!/bin/sh\n", { mode: 0o755 });
    const r = await agent(true);
    expect(r.commands).toContain(`grow-data-disk ${path.join(root, "usr", "local", "sbin", "zester-data-disk")}`);
  });

  test("a configuration that changes between its pages is not applied: the next run applies it whole", async () => {
    publish({ generation: "g1", conf: "x: 1\n" });
    let pages = 0;
    world.afterPage = () => {
      pages += 1;
      // After the first read's first page, a new generation lands.
      if (pages === 1) publish({ generation: "g2", conf: "x: 2\n" });
    };
    const r = await agent(false);
    expect(r.report?.["nats-server"]).toBe("read again at the next run");
    expect(existsSync(path.join(root, "etc/nats/nats-server.conf"))).toBe(false);
    world.afterPage = undefined;
    expect((await agent(false)).report?.["nats-server"]).toBe("started");
    expect(file("/etc/nats/nats-server.conf")).toBe("x: 2\n");
  });

  test("a reload nats-server did not take (its config_load_time did not move) is reported and asked for again", async () => {
    world.peers.set("core-1", { healthy: true, tags: ["zester-gen:g1"], loaded: "2026-12-07T10:00:00Z" });
    publish({ generation: "g1", conf: "max_connections: 4000\n", monitored: true });
    await agent(false);
    publish({ generation: "g1", conf: "max_connections: 8000\n", monitored: true });
    const reload = await agent(true);
    expect([reload.status, reload.report?.["nats-server"]]).toEqual([0, "reloaded"]);
    // The server kept its old configuration: the next run says so, exits 1, and reloads again.
    const again = await agent(true);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("nats-server did not load its configuration at the last reload");
    expect(again.commands).toEqual(["reload nats-server.service"]);
    // Once it took, all is well.
    world.peers.set("core-1", { healthy: true, tags: ["zester-gen:g1"], loaded: "2026-12-07T10:05:00Z" });
    const took = await agent(true);
    expect([took.status, took.report?.["nats-server"], took.commands]).toEqual([0, "none", []]);
  });

  test("a restart that did not bring the new generation up is not recorded: the next run restarts again in turn", async () => {
    world.peers.set("core-0", { healthy: true, tags: ["zester-gen:g1"] });
    world.peers.set("core-2", { healthy: true, tags: ["zester-gen:g1"] });
    world.peers.set("core-1", { healthy: true, tags: ["zester-gen:g1"], loaded: "t1" });
    publish({ generation: "g1", conf: "a: 1\n", monitored: true });
    await agent(false);
    publish({ generation: "g2", conf: "a: 2\n", monitored: true });
    expect((await agent(true)).report?.["nats-server"]).toBe("restarted");
    // It still runs g1 (the restart failed): asked again.
    const again = await agent(true);
    expect([again.report?.["nats-server"], again.commands]).toEqual(["restarted", ["restart nats-server.service"]]);
    world.peers.set("core-1", { healthy: true, tags: ["zester-gen:g2"], loaded: "t2" });
    expect((await agent(true)).report?.["nats-server"]).toBe("none");
  });

  test("a pinned Debian package (the SSM Agent, for Session Manager) is checked, then installed with dpkg", async () => {
    publish({ generation: "g1", conf: "x: 1\n" });
    const deb = Buffer.from("!<arch>\ndebian-binary stand-in\n");
    world.downloads.set("/amazon-ssm-agent.deb", deb);
    const manifest = JSON.parse(world.parameters.get(`${PREFIX}manifest`) ?? "{}") as { pins: Record<string, unknown> };
    manifest.pins["amazon-ssm-agent"] = {
      url: `${base}/amazon-ssm-agent.deb`,
      sha256: sha256(deb),
      dest: "/var/lib/zester/amazon-ssm-agent.deb",
      package: true,
    };
    world.parameters.set(`${PREFIX}manifest`, JSON.stringify(manifest));
    const r = await agent(false);
    expect(r.report?.installed).toEqual(["amazon-ssm-agent", "nats-server"]);
    expect(r.commands).toContain(`install-package ${path.join(root, "var/lib/zester/amazon-ssm-agent.deb")}`);
    // Installed once: the next run finds the same checksum and does nothing.
    expect((await agent(true)).commands).toEqual([]);
  });

  test("a download whose SHA-256 differs from the pin installs nothing and fails", async () => {
    publish({ generation: "g1", conf: "x: 1\n" });
    world.downloads.set("/nats-server", Buffer.from("tampered"));
    const r = await agent(false);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nats-server: .* has SHA-256 [0-9a-f]{64}, not [0-9a-f]{64}; nothing installed/);
    expect(existsSync(path.join(root, "usr/local/bin/nats-server"))).toBe(false);
  });

  test("the Signature Version 4 signer gives AWS's own documented example signature", () => {
    const script = `
import datetime, importlib.util
spec = importlib.util.spec_from_file_location("agent", ${JSON.stringify(AGENT)})
agent = importlib.util.module_from_spec(spec); spec.loader.exec_module(agent)
h = agent.sign("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", "us-east-1", "iam",
    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, b"",
    {"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc))
print(h["authorization"])`;
    const r = spawnSync("python3", ["-c", script], { encoding: "utf8" });
    // AWS General Reference, "Signature Version 4 signing process", the worked IAM ListUsers example.
    expect(r.stdout.trim()).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    );
  });

  test("is a real Python program: it compiles", () => {
    const r = spawnSync("python3", ["-c", `compile(open(${JSON.stringify(AGENT)}).read(), "zester-apply", "exec")`], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
