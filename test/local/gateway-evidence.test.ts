/**
 * Why supercluster regions are linked by leaf connections and not gateways: clusters joined by
 * gateways form ONE JetStream meta group, so a region cut off from the others has no quorum.
 * Two 3-server clusters are booted with gateways (configs written by the project's serializer)
 * on each tested nats-server version, and the meta group is read from /jsz.
 *
 * @servers
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fetchFromDebian } from "../../local/nats-binary";
import { freePorts } from "../../local/ports";
import { serializeNatsConf } from "../../topology/render/nats-conf-format";
import { monitor, SUITES, tempStateDir } from "../helpers/local";

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

/**
 * Boots the two clusters once; `exited` says a server died while starting, which here means a
 * port handed out by freePorts was taken by another process in between (tests run in parallel).
 */
async function bootOnce(binary: string, dir: string): Promise<{ size: number | undefined; exited: boolean }> {
  const ports = await freePorts(6 * 4);
  const at = (c: number, i: number, k: number): number => ports[(c * 3 + i) * 4 + k] ?? 0;
  const children: ChildProcess[] = [];
  try {
    for (const c of [0, 1]) {
      for (const i of [0, 1, 2]) {
        const name = `c${c}-${i}`;
        mkdirSync(path.join(dir, name), { recursive: true });
        const conf = serializeNatsConf({
          server_name: name,
          listen: `127.0.0.1:${at(c, i, 0)}`,
          http: `127.0.0.1:${at(c, i, 1)}`,
          jetstream: { store_dir: path.join(dir, name) },
          cluster: {
            name: `c${c}`,
            listen: `127.0.0.1:${at(c, i, 2)}`,
            routes: [0, 1, 2].filter((j) => j !== i).map((j) => `nats-route://127.0.0.1:${at(c, j, 2)}`),
          },
          gateway: {
            name: `c${c}`,
            listen: `127.0.0.1:${at(c, i, 3)}`,
            gateways: [{ name: `c${1 - c}`, urls: [0, 1, 2].map((j) => `nats://127.0.0.1:${at(1 - c, j, 3)}`) }],
          },
        });
        const file = path.join(dir, `${name}.conf`);
        writeFileSync(file, conf);
        children.push(spawn(binary, ["-c", file], { stdio: "ignore" }));
      }
    }
    let size: number | undefined;
    for (let tries = 0; tries < 160 && size !== 6; tries++) {
      await new Promise((r) => setTimeout(r, 250));
      if (children.some((c) => c.exitCode !== null)) return { size, exited: true };
      // Any server's view will do: one that is still catching up must not hide the others'.
      const views = await Promise.all(
        [0, 1].flatMap((c) =>
          [0, 1, 2].map((i) =>
            monitor<Jsz>(`http://127.0.0.1:${at(c, i, 1)}`, "/jsz").then(
              (j) => j.meta_cluster?.cluster_size ?? 0,
              () => 0,
            ),
          ),
        ),
      );
      size = Math.max(...views);
    }
    return { size, exited: children.some((c) => c.exitCode !== null) };
  } finally {
    for (const child of children) child.kill("SIGKILL");
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(running.map((c) => new Promise((r) => c.once("exit", r))));
    rmSync(dir, { recursive: true, force: true });
  }
}

test.each(SUITES)(
  "nats-server from Debian %s: two clusters joined by gateways share one meta group of 6",
  async (suite) => {
    const binary = fetchFromDebian(suite).path;
    let result = { size: undefined as number | undefined, exited: true };
    for (let attempt = 0; attempt < 3 && result.exited; attempt++)
      result = await bootOnce(binary, tempStateDir(`gw-${suite}`));
    expect(result.exited).toBe(false);
    expect(result.size).toBe(6);
  },
  180_000,
);
