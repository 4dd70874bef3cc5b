/**
 * `npm run -s pr-comment -- --stack NAME --body FILE [--pr N]`: keeps one comment per stack on a
 * pull request up to date. The comment carries a hidden marker, `<!-- zester-preview:NAME -->`;
 * the first run posts it, every later run finds it (listing the comments page by page) and edits
 * it in place. Talks to the GitHub REST API at GITHUB_API_URL (default https://api.github.com)
 * for GITHUB_REPOSITORY with GITHUB_TOKEN; the pull request is --pr, else PR_NUMBER.
 */
import { readFileSync } from "node:fs";
import { upsertComment, type Api } from "./github-comment";
import { parseFlags, runMain, UsageError } from "./cli";

const USAGE = `Usage: npm run -s pr-comment -- --stack NAME --body FILE [--pr N]

Creates, or edits in place, the one comment of a pull request that carries the hidden marker
<!-- zester-preview:NAME -->, with the text of FILE ("-" reads standard input).

Environment: GITHUB_TOKEN (required), GITHUB_REPOSITORY (owner/name, required), PR_NUMBER (when
--pr is not given), GITHUB_API_URL (default https://api.github.com).

Exit status: 0 done, 2 bad input, 1 the API refused.`;

async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    stack: { type: "string" },
    body: { type: "string" },
    pr: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.stack === undefined || !/^[A-Za-z0-9_.-]+$/.test(values.stack))
    throw new UsageError("--stack: required, the stack's NAME (letters, digits, _ . -)");
  if (values.body === undefined)
    throw new UsageError("--body: required, the FILE holding the comment (- for standard input)");
  const pr = values.pr ?? process.env.PR_NUMBER;
  if (pr === undefined || !/^[1-9]\d*$/.test(pr))
    throw new UsageError(`--pr: the pull request's number is required (or PR_NUMBER); got ${JSON.stringify(pr ?? "")}`);
  const api = apiFromEnv();
  const saved = await upsertComment(api, pr, values.stack, readBody(values.body));
  process.stdout.write(
    `${saved.action} comment ${String(saved.id)}${saved.url === undefined ? "" : ` ${saved.url}`}\n`,
  );
  return 0;
}

function apiFromEnv(): Api {
  const token = process.env.GITHUB_TOKEN;
  const repository = process.env.GITHUB_REPOSITORY;
  if (token === undefined || token === "")
    throw new UsageError("GITHUB_TOKEN: required, a token that may write pull request comments");
  if (repository === undefined || !/^[\w.-]+\/[\w.-]+$/.test(repository))
    throw new UsageError(`GITHUB_REPOSITORY: required, owner/name; got ${JSON.stringify(repository ?? "")}`);
  const base = (process.env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
  return { base, repository, token };
}

function readBody(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (error) {
    throw new UsageError(`--body: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

runMain("pr-comment", () => main(process.argv.slice(2)));
