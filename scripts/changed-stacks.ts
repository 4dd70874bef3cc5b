/**
 * `npm run -s changed-stacks -- [--base REF]`: the stacks a change previews, as a JSON array: a
 * stack whose file changed, and every stack when code that shapes the plans changed. The
 * change is the working tree against its merge base with REF (default: origin/HEAD, else main).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../local/repo-root";
import { parseFlags, runMain, UsageError } from "./cli";
import { STACK_FILE, stacksToPreview } from "../preview/changed-stacks";
import { defaultBase, resolveCommit } from "./preview-base";

const USAGE = `Usage: npm run -s changed-stacks -- [--base REF]

Prints the stacks to preview as a JSON array: those whose stacks/Pulumi.NAME.yaml changed, or
all of them when code that the plans come from changed, since the merge base with REF (default:
origin/HEAD, else main), uncommitted changes included.`;

function main(argv: string[]): number {
  const values = parseFlags(argv, { base: { type: "string" }, help: { type: "boolean", short: "h" } });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = repoRoot();
  const commit = values.base === undefined ? defaultBase(root)?.commit : resolveCommit(root, values.base);
  if (commit === undefined)
    throw new UsageError(
      values.base === undefined
        ? "--base: no default branch to compare with (neither origin/HEAD nor main); give --base REF"
        : `--base: ${JSON.stringify(values.base)} names no commit in this repository`,
    );
  const mergeBase = spawnSync("git", ["merge-base", commit, "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
  const diff = spawnSync("git", ["diff", "--name-only", mergeBase === "" ? commit : mergeBase], {
    cwd: root,
    encoding: "utf8",
  });
  if (diff.status !== 0) throw new Error(`git diff failed: ${diff.stderr.trim()}`);
  const untracked = spawnSync("git", ["ls-files", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  const changed = [...diff.stdout.split("\n"), ...untracked.stdout.split("\n")].filter((f) => f !== "");
  const stacks = readdirSync(path.join(root, "stacks"))
    .map((f) => STACK_FILE.exec(`stacks/${f}`)?.[1])
    .filter((s): s is string => s !== undefined);
  process.stdout.write(`${JSON.stringify(stacksToPreview(changed, stacks))}\n`);
  return 0;
}

runMain("changed-stacks", () => main(process.argv.slice(2)));
