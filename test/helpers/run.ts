import { execFile, spawnSync } from "node:child_process";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command-line entry point the way `npm run -s NAME` does (through the launcher); `env` is added to this process's. */
export function runScript(
  name: string,
  args: string[],
  nodeArgs: string[] = [],
  env: Record<string, string> = {},
): Run {
  const r = spawnSync(process.execPath, [...nodeArgs, path.join(ROOT, "scripts", "bin", "run.cjs"), name, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
    // A Kubernetes plan carries the bundled KV reconcile (~0.6 MB) in a ConfigMap.
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `runScript` without blocking the event loop (for tests that keep clients busy meanwhile). */
export function runScriptAsync(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "scripts", "bin", "run.cjs"), name, ...args],
      { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
      },
    );
  });
}

/** Runs an npm script exactly as the README spells it. */
export function npmRun(name: string, args: string[]): Run {
  const r = spawnSync("npm", ["run", "-s", name, "--", ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
