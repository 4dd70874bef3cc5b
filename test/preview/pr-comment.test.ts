/**
 * The comment step against a stand-in of the GitHub REST API on loopback: the first run for a
 * stack creates its comment, the second edits that same comment (found by its hidden marker on
 * the second page of comments), a third stack adds its own; bad input names what is missing.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { commentBody, nextPage } from "../../scripts/github-comment";
import { ROOT } from "../helpers/run";

interface Comment {
  id: number;
  body: string;
}

/** Issue comments of one pull request, paginated 100 a page like GitHub, with a record of each call. */
class GitHubStandIn {
  comments: Comment[] = [];
  calls: { method: string; url: string; authorization: string | undefined }[] = [];
  private nextId = 1000;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.answer(req).then(({ status, body, headers }) => {
        res.writeHead(status, { "Content-Type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => {
        resolve();
      });
    });
  }

  add(body: string): Comment {
    const comment = { id: this.nextId++, body };
    this.comments.push(comment);
    return comment;
  }

  private async answer(
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const url = new URL(req.url ?? "/", this.url);
    this.calls.push({
      method: req.method ?? "",
      url: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const sent = chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString()) as { body?: string });
    if (req.method === "GET" && url.pathname === "/repos/acme/fleet/issues/7/comments") {
      const perPage = Number(url.searchParams.get("per_page") ?? 30);
      const page = Number(url.searchParams.get("page") ?? 1);
      const slice = this.comments.slice((page - 1) * perPage, page * perPage);
      const more = page * perPage < this.comments.length;
      const next = `${this.url}${url.pathname}?per_page=${String(perPage)}&page=${String(page + 1)}`;
      return { status: 200, body: slice, headers: more ? { Link: `<${next}>; rel="next"` } : {} };
    }
    if (req.method === "POST" && url.pathname === "/repos/acme/fleet/issues/7/comments")
      return { status: 201, body: this.add(sent.body ?? "") };
    const edit = /^\/repos\/acme\/fleet\/issues\/comments\/(\d+)$/.exec(url.pathname);
    const found = this.comments.find((c) => c.id === Number(edit?.[1]));
    if (req.method === "PATCH" && found !== undefined) {
      found.body = sent.body ?? "";
      return { status: 200, body: found };
    }
    return { status: 404, body: { message: "Not Found" } };
  }
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The script as its own process, without blocking this one (the stand-in answers from here). */
function prComment(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "scripts", "bin", "run.cjs"), "pr-comment", ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env } },
      (error, stdout, stderr) => {
        resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
      },
    );
  });
}

const github = new GitHubStandIn();
let dir = "";
const env = () => ({
  GITHUB_TOKEN: "test-token",
  GITHUB_REPOSITORY: "acme/fleet",
  GITHUB_API_URL: github.url,
  PR_NUMBER: "7",
});
const bodyFile = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

beforeAll(async () => {
  await github.start();
  dir = mkdtempSync(path.join(os.tmpdir(), "zester-pr-comment-"));
  // 150 comments from others: the preview's comment lands on the second page.
  for (let i = 0; i < 150; i++) github.add(`a reviewer's comment ${String(i)}`);
});

afterAll(async () => {
  await github.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("the first run for a stack creates one comment with the hidden marker", async () => {
  const r = await prComment(["--stack", "staging", "--body", bodyFile("a.md", "## staging: 2,000 → 12,000")], env());
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^created comment 1150\b/);
  const mine = github.comments.filter((c) => c.body.includes("<!-- zester-preview:staging -->"));
  expect(mine).toEqual([{ id: 1150, body: "<!-- zester-preview:staging -->\n## staging: 2,000 → 12,000" }]);
  expect(github.calls.every((c) => c.authorization === "Bearer test-token")).toBe(true);
});

test("the second run edits that same comment in place, found on the second page", async () => {
  github.calls = [];
  const r = await prComment(["--stack", "staging", "--body", bodyFile("b.md", "## staging: 2,000 → 60,000")], env());
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^updated comment 1150\b/);
  expect(github.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
    "GET /repos/acme/fleet/issues/7/comments?per_page=100",
    "GET /repos/acme/fleet/issues/7/comments?per_page=100&page=2",
    "PATCH /repos/acme/fleet/issues/comments/1150",
  ]);
  expect(github.comments).toHaveLength(151);
  expect(github.comments.find((c) => c.id === 1150)?.body).toBe(
    "<!-- zester-preview:staging -->\n## staging: 2,000 → 60,000",
  );
});

test("a third stack adds its own comment and leaves the first one alone", async () => {
  const r = await prComment(["--stack", "prod", "--body", bodyFile("c.md", "## prod")], env());
  expect(r.stdout).toMatch(/^created comment 1151\b/);
  expect(github.comments.filter((c) => c.body.startsWith("<!-- zester-preview:"))).toEqual([
    { id: 1150, body: "<!-- zester-preview:staging -->\n## staging: 2,000 → 60,000" },
    { id: 1151, body: "<!-- zester-preview:prod -->\n## prod" },
  ]);
});

test.each([
  ["no token", { GITHUB_TOKEN: "" }, ["--stack", "dev", "--body", "x"], /GITHUB_TOKEN: required/],
  [
    "no repository",
    { GITHUB_REPOSITORY: "fleet" },
    ["--stack", "dev", "--body", "x"],
    /GITHUB_REPOSITORY: required, owner\/name; got "fleet"/,
  ],
  [
    "no pull request",
    { PR_NUMBER: "" },
    ["--stack", "dev", "--body", "x"],
    /--pr: the pull request's number is required/,
  ],
  ["no body", {}, ["--stack", "dev"], /--body: required/],
  [
    "an unreadable body",
    {},
    ["--stack", "dev", "--body", "/nonexistent/x.md"],
    /--body: cannot read \/nonexistent\/x\.md/,
  ],
])("%s exits 2 naming it", async (_what, override, args, message) => {
  const r = await prComment(args, { ...env(), ...override });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(message);
});

test("an API that refuses is an error naming the status", async () => {
  const r = await prComment(["--stack", "dev", "--body", bodyFile("d.md", "x"), "--pr", "8"], env());
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/listing the comments of #8: 404 Not Found/);
});

test("the body starts with the marker once, and a body over GitHub's limit is cut saying so", () => {
  expect(commentBody("dev", "<!-- zester-preview:dev -->\nhello")).toBe("<!-- zester-preview:dev -->\nhello");
  const long = commentBody("dev", "x".repeat(70_000));
  expect(long.length).toBe(65_536);
  expect(long).toMatch(/cut at GitHub's comment limit/);
  expect(nextPage('<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"')).toBe(
    "https://api.github.com/x?page=2",
  );
});
