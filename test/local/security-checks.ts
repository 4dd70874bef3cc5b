/**
 * The security model on real nats-server, bookworm's and the current release: TLS refused in
 * plaintext, servers of another CA (or with the wrong certificate) kept out of routes and leaf
 * links, and each identity able to do its job and nothing past it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect as tcp } from "node:net";
import path from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectAdmin } from "../../jetstream/connect";
import { foreignIssuer, issue } from "../../local/certificates";
import { clientAuth, ensurePeelCreds } from "../../local/identities";
import { readState, writeState } from "../../local/state";
import { fetchFromDebian } from "../../local/nats-binary";
import { freePorts } from "../../local/ports";
import { localConfInput } from "../../local/server-auth";
import { CERT_SUBJECTS, type ClientRole } from "../../topology/auth";
import { natsServerConfig } from "../../topology/render/nats-server-conf";
import { serializeNatsConf, type ConfBlock } from "../../topology/render/nats-conf-format";
import { PEEL_SUBJECTS } from "../../topology/zester-assumptions";
import { atLeast } from "../../topology/render/version";
import type { DebianSuite } from "../../local/nats-binary";
import { boot, monitor } from "../helpers/local";
import { peelSession } from "../helpers/peel-session";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a plaintext client hears after its CONNECT. */
function plaintext(port: number): Promise<string> {
  return new Promise((resolve) => {
    let heard = "";
    const socket = tcp(port, "127.0.0.1", () => socket.write('CONNECT {"verbose":false}\r\nPING\r\n'));
    socket.on("data", (d: Buffer) => (heard += d.toString()));
    socket.on("close", () => {
      resolve(heard);
    });
    socket.on("error", () => {
      resolve(heard);
    });
    setTimeout(() => socket.destroy(), 3_000);
  });
}

/** Resolves to the error the promise rejects with, or fails if it succeeds. */
async function refused(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e: unknown) => String(e),
  );
}

/** Publishes and waits for the server's permission error (nats.js reports it on the status stream). */
async function publishDenied(nc: NatsConnection, subject: string): Promise<boolean> {
  const seen = (async () => {
    for await (const s of nc.status()) if (s.type === "error" && String(s.error).includes(subject)) return true;
    return false;
  })();
  nc.publish(subject, "x");
  return Promise.race([seen, sleep(3_000).then(() => false)]);
}

/** Shared by one test file per version (each its own process, as boot-tiers.ts). */
export function securityChecks(suite: DebianSuite): void {
  describe(`security on Debian ${suite}'s nats-server`, () => {
    let run: Awaited<ReturnType<typeof boot>>;
    const extra: ChildProcess[] = [];
    const conns: NatsConnection[] = [];
    const core = () => run.state.servers.filter((s) => s.role === "core").map((s) => s.clientUrl);
    const as = async (role: ClientRole, servers = core()) => {
      const nc = await connectAdmin(servers, clientAuth(run.state, role));
      conns.push(nc);
      return nc;
    };

    beforeAll(async () => {
      run = await boot(60_000, suite);
    }, 120_000);

    afterAll(async () => {
      await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
      for (const child of extra) if (child.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
      await run.stop();
    }, 60_000);

    test("a plaintext client is refused: told TLS is required, then cut off without an answer", async () => {
      const port = Number(new URL(core()[0] ?? "").port);
      const heard = await plaintext(port);
      expect(heard).toMatch(/"tls_required":true/);
      expect(heard).not.toMatch(/PONG/);
    });

    /**
     * A server of our own making, with `cert` as its certificate (and link certificate) and, on a
     * leaf, `link.creds` as the link's credentials (a copy of the site's link's by default) and,
     * with `link.noCertificate`, no certificate on its leaf connection at all.
     */
    async function intruder(
      name: string,
      cert: { cert: string; key: string },
      ca: string,
      leaf: boolean,
      link: { creds?: string; noCertificate?: boolean } = {},
    ) {
      const dir = path.join(run.stateDir, "intruders", name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, "cert.pem"), cert.cert);
      writeFileSync(path.join(dir, "key.pem"), cert.key);
      writeFileSync(path.join(dir, "ca.pem"), ca);
      const [client, monitorPort, cluster] = await freePorts(3);
      const t = run.topology;
      const template = leaf ? "leaf-edge-0" : "core-0";
      const conf: ConfBlock = natsServerConfig(localConfInput(run.stateDir, run.state, t, template));
      const files = {
        cert_file: path.join(dir, "cert.pem"),
        key_file: path.join(dir, "key.pem"),
        ca_file: path.join(dir, "ca.pem"),
      };
      conf.server_name = name;
      conf.listen = `127.0.0.1:${String(client)}`;
      conf.http = `127.0.0.1:${String(monitorPort)}`;
      conf.tls = { ...(conf.tls as ConfBlock), ...files };
      delete conf.jetstream;
      if (leaf) {
        const remotes = (conf.leafnodes as ConfBlock).remotes as ConfBlock[];
        (conf.leafnodes as ConfBlock).remotes = remotes.map((r) => ({
          ...r,
          ...(link.creds === undefined ? {} : { credentials: link.creds }),
          tls:
            link.noCertificate === true
              ? { ca_file: files.ca_file, timeout: (r.tls as ConfBlock).timeout }
              : { ...(r.tls as ConfBlock), ...files },
        }));
      } else {
        delete conf.leafnodes;
        const c = conf.cluster as ConfBlock;
        c.listen = `127.0.0.1:${String(cluster)}`;
        c.tls = { ...(c.tls as ConfBlock), ...files };
      }
      const file = path.join(dir, "nats-server.conf");
      writeFileSync(file, serializeNatsConf(conf));
      const child = spawn(fetchFromDebian(suite).path, ["-c", file], { stdio: "ignore" });
      extra.push(child);
      return `http://127.0.0.1:${String(monitorPort)}`;
    }

    test("a server with a certificate from another CA, or without the route subject, joins no route", async () => {
      const other = await foreignIssuer("another stack");
      const names = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] };
      const foreign = await issue(other, { name: "x", subject: CERT_SUBJECTS.route, ...names });
      const ours = await import("node:fs").then((fs) => ({
        cert: fs.readFileSync(path.join(run.stateDir, "tls", "leaf-edge-0.pem"), "utf8"),
        key: fs.readFileSync(path.join(run.stateDir, "tls", "leaf-edge-0-key.pem"), "utf8"),
      }));
      const urls = [
        await intruder("rogue-core", foreign, other.cert.toString("pem"), false),
        await intruder("leaf-as-core", ours, run.state.auth.ca, false),
      ];
      await sleep(4_000);
      for (const url of urls) expect((await monitor<{ num_routes: number }>(url, "/routez")).num_routes).toBe(0);
      const first = run.state.servers.find((s) => s.name === "core-0");
      const routez = await monitor<{ routes: { remote_name?: string }[] | null }>(first?.monitorUrl ?? "", "/routez");
      expect((routez.routes ?? []).map((r) => r.remote_name)).not.toContain("rogue-core");
    }, 60_000);

    test("a leaf server whose link certificate is from another CA, or that has none and a peel's credentials, gets no leaf link", async () => {
      const other = await foreignIssuer("another stack");
      const foreign = await issue(other, {
        name: "x",
        subject: CERT_SUBJECTS.leafLink,
        dnsNames: [],
        ipAddresses: ["127.0.0.1"],
      });
      const fs = await import("node:fs");
      const own = await issue(
        { cert: new (await import("@peculiar/x509")).X509Certificate(run.state.auth.ca), key: await caKey() },
        { name: "y", subject: "CN=leaf-edge-9", dnsNames: [], ipAddresses: ["127.0.0.1"] },
      );
      async function caKey() {
        const pem = fs.readFileSync(path.join(run.stateDir, "tls", "ca-key.pem"), "utf8");
        const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
        const { webcrypto } = await import("node:crypto");
        return webcrypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
      }
      // What a peel holds: its credentials, the CA, no certificate (the leaf port asks for one of the CA's).
      const state = readState(run.stateDir) ?? run.state;
      const peelCreds = ensurePeelCreds(run.stateDir, state, "would-be-link").credsFile;
      writeState(run.stateDir, state);
      const urls = [
        await intruder("rogue-leaf", foreign, other.cert.toString("pem"), true),
        await intruder("certless-leaf", own, run.state.auth.ca, true, { creds: peelCreds, noCertificate: true }),
      ];
      // With a certificate of the stack's CA (a server's) and a peel's credentials: the peels'
      // issuer allows client connections only, which nats-server honours from 2.11.0 (nats-io/
      // nats-server#5789 fixed scoped keys' connection types); on 2.9.10 the certificate is what
      // keeps a peel off the leaf port, and only the stack's servers have one.
      const honoursScopedTypes = atLeast(fetchFromDebian(suite).version, "2.11.0");
      const withCertificate = await intruder("peel-as-leaf", own, run.state.auth.ca, true, { creds: peelCreds });
      await sleep(4_000);
      for (const url of urls) expect((await monitor<{ leafnodes: number }>(url, "/leafz")).leafnodes).toBe(0);
      expect((await monitor<{ leafnodes: number }>(withCertificate, "/leafz")).leafnodes).toBe(
        honoursScopedTypes ? 0 : 1,
      );
      // The site's own leaf servers are linked.
      const leaf = run.state.servers.find((s) => s.name === "leaf-edge-0");
      expect((await monitor<{ leafnodes: number }>(leaf?.monitorUrl ?? "", "/leafz")).leafnodes).toBe(1);
    }, 60_000);

    test("a peel's identity does a peel's work, behind a leaf server too, and nothing past it", async () => {
      const session = peelSession(run);
      const master = await as("master");
      const behindLeaf = await session.peel("peel-1", "leaf");
      const peel = behindLeaf.nc;
      const kvm = new Kvm(jetstream(peel, behindLeaf.js()));
      // What a peel must: write its facts, read what is rendered for it, get its jobs.
      expect(await (await kvm.open("facts")).put("peel-1", "os=debian")).toBeGreaterThan(0);
      await (await new Kvm(master).open("settings-files")).put("peel-1", "x: 1");
      expect((await (await kvm.open("settings-files")).get("peel-1"))?.string()).toBe("x: 1");
      const got = new Promise<string>((resolve) => {
        peel.subscribe(PEEL_SUBJECTS.job("peel-1"), {
          max: 1,
          callback: (_e, m) => {
            resolve(m.string());
          },
        });
      });
      await peel.flush();
      await sleep(500);
      master.publish(PEEL_SUBJECTS.job("peel-1"), "state.apply");
      expect(await got).toBe("state.apply");
      // And nothing past it.
      await (await new Kvm(master).open("secrets")).put("peel-1", "s3cret");
      expect(await refused((async () => (await kvm.open("secrets")).get("peel-1"))())).toMatch(
        /permission|denied|timeout/i,
      );
      const onCore = (await session.peel("peel-1", "core")).nc;
      const jsm = await jetstreamManager(onCore, { checkAPI: false });
      expect(await refused(jsm.streams.delete("KV_facts"))).toMatch(/permission|timeout/i);
      const info = await (await jetstreamManager(master)).streams.info("KV_facts");
      expect(await refused(jsm.streams.update("KV_facts", { ...info.config, max_msgs_per_subject: 1 }))).toMatch(
        /permission|timeout/i,
      );
      expect(await publishDenied(onCore, PEEL_SUBJECTS.job("peel-2"))).toBe(true);
      await session.close();
    }, 60_000);

    test("the master runs Zester's KV and job flows; the reconcile job raises replicas and nothing else", async () => {
      const master = await as("master");
      const jobs = await new Kvm(master).open("jobs");
      await jobs.put("job-1", "state.apply");
      expect((await jobs.get("job-1"))?.string()).toBe("state.apply");
      const jsmMaster = await jetstreamManager(master);
      const info = await jsmMaster.streams.info("KV_jobs");
      await jsmMaster.streams.update("KV_jobs", { ...info.config, num_replicas: 1 });

      const reconcile = await as("reconcile");
      const jsm = await jetstreamManager(reconcile);
      const now = await jsm.streams.info("KV_jobs");
      await jsm.streams.update("KV_jobs", { ...now.config, num_replicas: 3 });
      expect((await jsm.streams.info("KV_jobs")).config.num_replicas).toBe(3);
      expect(await refused(jsm.streams.delete("KV_jobs"))).toMatch(/permission|timeout/i);
      expect(await refused(jsm.streams.add({ name: "unplanned", subjects: ["unplanned.>"] }))).toMatch(
        /permission|timeout/i,
      );
      expect(await refused((async () => (await new Kvm(reconcile).open("jobs")).get("job-1"))())).toMatch(
        /permission|timeout/i,
      );
      expect(await publishDenied(await as("reconcile"), "zester.anything")).toBe(true);
    }, 60_000);
  });
}
