/**
 * How the suite sorts its files: a file whose first comment holds `@servers` runs in the server
 * project (and not in `npm run test:unit`), `@long` starts first; a word after `@` in prose is no
 * pragma.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { pragmas } = require("./helpers/pragmas.cjs") as { pragmas: (file: string) => Set<string> };

const dir = mkdtempSync(path.join(tmpdir(), "zester-pragmas-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function pragmasOf(text: string): string[] {
  const file = path.join(dir, "x.test.ts");
  writeFileSync(file, text);
  return [...pragmas(file)].sort();
}

test("pragmas come from lines of the first comment that hold nothing else", () => {
  expect(pragmasOf("/** @servers */\ntest();\n")).toEqual(["servers"]);
  expect(pragmasOf("/**\n * Chains of moves.\n *\n * @servers @long\n */\n")).toEqual(["long", "servers"]);
  expect(pragmasOf("/**\n * Uses @nats-io/jetstream and @long words in prose.\n */\n")).toEqual([]);
  expect(pragmasOf("// @servers\n/** plain */\n")).toEqual([]);
  expect(pragmasOf("/** first */\n/** @servers */\n")).toEqual([]);
});

test("every file that starts nats-server is in the server project", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require("../jest.config.js") as { projects: { displayName: string; testMatch: string[] }[] };
  const servers = config.projects.find((p) => p.displayName === "servers")?.testMatch ?? [];
  for (const file of [
    "local/transitions-sid.test.ts",
    "local/attacks-bookworm.test.ts",
    "local/attacks-sid.test.ts",
    "load/fleet.test.ts",
    "twin/sandbox.test.ts",
  ])
    expect(servers).toContain(path.join(__dirname, file));
  expect(servers).not.toContain(path.join(__dirname, "suite-layout.test.ts"));
});
