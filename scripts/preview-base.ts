/**
 * The plan of a stack at a git ref: the ref's files (`git archive`) in a temporary folder, with
 * this checkout's node_modules linked in, planned by the ref's own entry point (which builds the
 * ref's dist/ first). So the base is the ref's code and stack file, run with this checkout's
 * dependencies: when the ref's package-lock.json differs, the preview says so.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const git = (root: string, args: string[]) =>
  spawnSync("git", args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

/** The commit a ref names, or undefined when it names none. */
export function resolveCommit(root: string, ref: string): string | undefined {
  if (ref.startsWith("-")) return undefined;
  const r = git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Where the change started: the merge base with the default branch (origin/HEAD, else main). */
export function defaultBase(root: string): { ref: string; commit: string } | undefined {
  for (const branch of ["origin/HEAD", "main"]) {
    if (resolveCommit(root, branch) === undefined) continue;
    const r = git(root, ["merge-base", "HEAD", branch]);
    if (r.status === 0) return { ref: `the merge base with ${branch}`, commit: r.stdout.trim() };
  }
  return undefined;
}

export interface BasePlan {
  /** The ref's `plan --json`, or null when the ref has no such stack. */
  plan: unknown;
  /** Whether the ref's package-lock.json differs from this checkout's. */
  dependenciesDiffer: boolean;
}

export function basePlan(root: string, commit: string, stack: string): BasePlan {
  const stackFile = `stacks/Pulumi.${stack}.yaml`;
  if (git(root, ["cat-file", "-e", `${commit}:${stackFile}`]).status !== 0)
    return { plan: null, dependenciesDiffer: false };
  const lock = git(root, ["show", `${commit}:package-lock.json`]);
  const dependenciesDiffer =
    lock.status !== 0 || lock.stdout !== readFileSync(path.join(root, "package-lock.json"), "utf8");
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-base-"));
  try {
    const tar = path.join(dir, "base.tar");
    const archive = git(root, ["archive", "--format=tar", "-o", tar, commit]);
    if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr.trim()}`);
    const tree = path.join(dir, "tree");
    const untar = spawnSync("tar", ["-xf", tar, "--one-top-level=tree"], { cwd: dir, encoding: "utf8" });
    if (untar.status !== 0) throw new Error(`unpacking the base failed: ${untar.stderr.trim()}`);
    const entry = path.join(tree, "scripts", "bin", "run.cjs");
    if (!existsSync(entry))
      throw new Error(
        `the base (${commit.slice(0, 12)}) has no offline plan (scripts/bin/run.cjs); compare with --previous PLAN.json instead`,
      );
    symlinkSync(path.join(root, "node_modules"), path.join(tree, "node_modules"), "dir");
    const run = spawnSync(process.execPath, [entry, "plan", "--stack", stack, "--json"], {
      cwd: tree,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    if (run.status !== 0)
      throw new Error(
        `the base's plan of ${stack} (${commit.slice(0, 12)}) failed (exit ${String(run.status)}): ${run.stderr.trim()}`,
      );
    return { plan: JSON.parse(run.stdout) as unknown, dependenciesDiffer };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
