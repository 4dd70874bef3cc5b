/**
 * `zester-apply` run for real (python3, as on a server) against a stand-in metadata service and
 * download server on loopback, in a directory standing in for `/`.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { APPLY_SCRIPT, applyScript, applyUnit, PINS_FILE } from "../../topology/render/apply-config";
import { renderCloudInit } from "../../topology/render/cloud-init";
import { verifyUnits } from "../helpers/systemd";

const SECRETS = { system: "s", app: "a", leaf: "l", route: "r" };

interface Served {
  userData: string;
  files: Map<string, Buffer>;
}

/** IMDSv2 (a token first, then user data with it) and plain file downloads. */
function startServer(served: Served): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (
      req.method === "PUT" &&
      req.url === "/latest/api/token" &&
      req.headers["x-aws-ec2-metadata-token-ttl-seconds"]
    ) {
      res.end("token-1");
    } else if (req.method === "GET" && req.url === "/latest/user-data") {
      if (req.headers["x-aws-ec2-metadata-token"] !== "token-1") res.writeHead(401).end();
      else res.end(served.userData);
    } else {
      const file = served.files.get(req.url ?? "");
      if (file === undefined) res.writeHead(404).end();
      else res.end(file);
    }
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

/** A release-like tarball holding `nats-server-vX-linux-amd64/nats-server`. */
function tarball(dir: string, body: string): Buffer {
  const top = path.join(dir, "pkg", "nats-server-v9.9.9-linux-amd64");
  mkdirSync(top, { recursive: true });
  writeFileSync(path.join(top, "nats-server"), body);
  const out = path.join(dir, "nats.tar.gz");
  const r = spawnSync("tar", ["-czf", out, "-C", path.join(dir, "pkg"), "nats-server-v9.9.9-linux-amd64"]);
  expect(r.status).toBe(0);
  return readFileSync(out);
}

interface Report {
  changed: string[];
  installed: string[];
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** core-0's user data for `peels`, its pins pointed at the loopback download server. */
function userData(peels: number, base: string, sha: string): string {
  const text = renderCloudInit({
    topology: build(plan({ peels }), standardAddressing("zester.internal")),
    server: "core-0",
    natsVersion: "2.10.27",
    natsServer: { url: "https://downloads.example/nats.tar.gz", sha256: sha },
    secrets: SECRETS,
  });
  const doc = parse(text) as { write_files: { path: string; content: string }[] };
  for (const f of doc.write_files)
    if (f.path === PINS_FILE) f.content = f.content.replace("https://downloads.example", base);
  return `#cloud-config\n${stringify(doc, { blockQuote: "literal", lineWidth: 0 })}`;
}

describe("zester-apply", () => {
  let dir: string;
  let root: string;
  let script: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "zester-apply-"));
    root = path.join(dir, "root");
    mkdirSync(root);
    script = path.join(dir, "zester-apply");
    writeFileSync(script, applyScript());
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronous: the stand-in servers live in this process, so a synchronous spawn would block them.
  const run = (imds: string): Promise<{ status: number | null; stderr: string; report?: Report }> =>
    new Promise((resolve) => {
      const child = spawn("python3", [script], { env: { ...process.env, ZESTER_IMDS: imds, ZESTER_ROOT: root } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => {
        resolve({ status, stderr, ...(status === 0 ? { report: JSON.parse(stdout) as Report } : {}) });
      });
    });
  const inRoot = (p: string) => path.join(root, p);

  test("installs the pinned binary, writes every file; then does nothing; then applies a tier change", async () => {
    const tar = tarball(dir, "#!/bin/sh\necho 9.9.9\n");
    const served: Served = { userData: "", files: new Map([["/nats.tar.gz", tar]]) };
    const server = await startServer(served);
    try {
      served.userData = userData(2_000, server.url, sha256(tar));
      const first = await run(server.url);
      expect(first.stderr).toBe("");
      expect(first.report?.installed).toEqual(["nats-server"]);
      expect(first.report?.changed).toContain("/etc/nats/nats-server.conf");
      expect(readFileSync(inRoot("usr/local/bin/nats-server"), "utf8")).toBe("#!/bin/sh\necho 9.9.9\n");
      const doc = parse(served.userData) as { write_files: { path: string; content: string }[] };
      for (const f of doc.write_files) expect(readFileSync(inRoot(f.path), "utf8")).toBe(f.content);

      expect((await run(server.url)).report).toEqual({ changed: [], installed: [] });

      // 2,000 → 12,000 peels: the same server's user data now carries the cluster-5 tuning.
      served.userData = userData(12_000, server.url, sha256(tar));
      const grown = await run(server.url);
      expect(grown.report?.installed).toEqual([]);
      expect(grown.report?.changed).toContain("/etc/nats/nats-server.conf");
      expect(readFileSync(inRoot("etc/nats/nats-server.conf"), "utf8")).toMatch(/max_connections: 24000\n/);
    } finally {
      await server.close();
    }
  });

  test("a download whose checksum does not match installs nothing and fails the unit", async () => {
    const tar = tarball(dir, "#!/bin/sh\necho 9.9.9\n");
    const served: Served = { userData: "", files: new Map([["/nats.tar.gz", tar]]) };
    const server = await startServer(served);
    try {
      served.userData = userData(2_000, server.url, "0".repeat(64));
      const r = await run(server.url);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/nats-server: .* has SHA-256 [0-9a-f]{64}, not 0{64}; nothing installed/);
      expect(() => readFileSync(inRoot("usr/local/bin/nats-server"))).toThrow();
    } finally {
      await server.close();
    }
  });
});

test("zester-apply.service passes `systemd-analyze verify` and is ordered before nats-server", () => {
  const unit = applyUnit();
  expect(unit).toMatch(/^Before=nats-server\.service$/m);
  expect(verifyUnits({ "zester-apply.service": unit }, [APPLY_SCRIPT])).toEqual({ status: 0, stderr: "" });
});
