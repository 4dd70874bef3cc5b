/**
 * Every key RELOADABLE names reloads on a real nats-server of each line the project renders for
 * (bookworm's 2.9.10 and the current release): a server of a running 3-node cluster gets a config
 * that differs in that key only, a SIGHUP, and must log a reload, not a refusal. A key left out
 * of the list (lame_duck_duration) is refused on both, so the check can tell the two apart.
 *
 * @servers
 */
import { localConfInput } from "../../local/server-auth";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchFromDebian } from "../../local/nats-binary";
import { freePorts } from "../../local/ports";
import { GENERATION_TAG } from "../../topology/render/server-files";
import { natsServerConfig } from "../../topology/render/nats-server-conf";
import { serializeNatsConf, type ConfBlock } from "../../topology/render/nats-conf-format";
import { RELOADABLE, restartPart, digest } from "../../topology/render/reload";
import { stackSeeds } from "../../local/identities";
import { serverIdentities } from "../../topology/identities";
import { boot } from "../helpers/local";
import { NATS_SERVER_SUITES } from "../helpers/tools";

/** A value different from `value`, of the same kind. */
function changed(path: readonly string[], value: unknown): unknown {
  switch (path.join(".")) {
    case "max_connections":
    case "max_payload":
      return Number(value) + 1;
    case "write_deadline":
      return "7s";
    case "server_tags":
      return [...((value as string[] | undefined) ?? []), "zester-test:reloaded"];
    case "cluster.routes":
      return (value as string[]).slice(0, 1);
    case "cluster.authorization":
      // The route identity kept (routes stay up), its authentication timeout changed.
      return { ...(value as Record<string, unknown>), timeout: 3 };
    default:
      throw new Error(`the test has no changed value for ${path.join(".")}`);
  }
}

/** The accounts' JWTs with a peel revoked (what `revoke` reloads). */
function withRevocation(run: Awaited<ReturnType<typeof boot>>): unknown {
  const { accounts } = serverIdentities(stackSeeds(run.state), run.topology, { [REVOKED_KEY]: 1_800_000_000 });
  return Object.fromEntries(Object.values(accounts).map((a) => [a.key, a.jwt]));
}
const REVOKED_KEY = "UAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

function setAt(config: ConfBlock, path: readonly string[], value: unknown): ConfBlock {
  const [head, ...rest] = path;
  if (head === undefined) return config;
  if (rest.length === 0) return { ...config, [head]: value as ConfBlock };
  return { ...config, [head]: setAt(config[head] as ConfBlock, rest, value) };
}

function getAt(config: ConfBlock, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], config);
}

async function reload(pid: number, log: string, since: number): Promise<"reloaded" | "refused"> {
  process.kill(pid, "SIGHUP");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const tail = readFileSync(log, "utf8").slice(since);
    if (/Failed to reload server configuration/.test(tail)) return "refused";
    if (/Reloaded server configuration/.test(tail)) return "reloaded";
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server ${String(pid)} logged no reload outcome in 10 s`);
}

describe.each(NATS_SERVER_SUITES)("on Debian %s's nats-server", (suite) => {
  test("each reloadable key reloads; lame_duck_duration does not; restartPart leaves only the latter", async () => {
    const run = await boot(2_000, suite);
    try {
      const server = run.state.servers.find((s) => s.name === "core-0");
      if (server?.pid === undefined) throw new Error("core-0 is not running");
      let config = natsServerConfig({
        topology: run.topology,
        server: "core-0",
        version: run.state.natsServer.version,
        storeDir: `${run.stateDir}/servers/core-0/jetstream`,
        auth: localConfInput(run.stateDir, run.state, run.topology, "core-0").auth,
      });
      const before = digest(restartPart(config));
      const outcomes: Record<string, string> = {};
      for (const path of RELOADABLE) {
        const value = path.join(".") === "resolver_preload" ? withRevocation(run) : changed(path, getAt(config, path));
        expect(value).not.toEqual(getAt(config, path));
        config = setAt(config, path, value);
        const since = readFileSync(server.logPath, "utf8").length;
        writeFileSync(server.confPath, serializeNatsConf(config));
        outcomes[path.join(".")] = await reload(server.pid, server.logPath, since);
      }
      expect(Object.values(outcomes).every((o) => o === "reloaded")).toBe(true);
      expect(Object.keys(outcomes)).toHaveLength(RELOADABLE.length);
      // Everything above changed, and none of it is in the part that needs a restart.
      expect(digest(restartPart(config))).toBe(before);

      const lameDuck = setAt(config, ["lame_duck_duration"], "45s");
      expect(digest(restartPart(lameDuck))).not.toBe(before);
      const since = readFileSync(server.logPath, "utf8").length;
      writeFileSync(server.confPath, serializeNatsConf(lameDuck));
      expect(await reload(server.pid, server.logPath, since)).toBe("refused");
    } finally {
      await run.stop();
    }
  }, 60_000);
});

describe.each(NATS_SERVER_SUITES)("the generation tag on Debian %s's nats-server", (suite) => {
  // The AWS agents take turns by reading each other's /varz tags after a restart: a fresh
  // process must report the tags of the config it started with, on every version.
  test("a started server reports the zester-gen tag of its config in /varz", async () => {
    const binary = fetchFromDebian(suite).path;
    const [client, monitor] = await freePorts(2);
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-gen-"));
    const conf = path.join(dir, "nats.conf");
    const start = (generation: string) => {
      writeFileSync(
        conf,
        serializeNatsConf({
          server_name: "gen",
          listen: `127.0.0.1:${String(client)}`,
          http: `127.0.0.1:${String(monitor)}`,
          server_tags: ["az:x", `${GENERATION_TAG}${generation}`],
        }),
      );
      return spawn(binary, ["-c", conf], { stdio: "ignore" });
    };
    const tags = async (): Promise<string[]> => {
      for (let i = 0; i < 100; i++) {
        const varz = await fetch(`http://127.0.0.1:${String(monitor)}/varz`).then(
          (r) => r.json() as Promise<{ tags?: string[] }>,
          () => undefined,
        );
        if (varz !== undefined) return varz.tags ?? [];
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("the server never answered /varz");
    };
    const stop = (child: ReturnType<typeof spawn>) =>
      new Promise<void>((resolve) => {
        child.once("exit", () => {
          resolve();
        });
        child.kill("SIGTERM");
      });
    try {
      const first = start("aaaa");
      expect(await tags()).toContain(`${GENERATION_TAG}aaaa`);
      await stop(first);
      const second = start("bbbb");
      expect(await tags()).toEqual(["az:x", `${GENERATION_TAG}bbbb`]);
      await stop(second);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
