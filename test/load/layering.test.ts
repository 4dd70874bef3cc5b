import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
/** The layers below the load tools: none of them may depend on load/. */
const BELOW = ["sizing", "topology", "components", "jetstream", "local", "stacks"];

function tsFiles(dir: string): string[] {
  if (!existsSync(path.join(ROOT, dir))) return [];
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

const imports = (file: string): string[] =>
  [...readFileSync(file, "utf8").matchAll(/(?:from|require\()\s*["']([^"']+)["']/g)].map((m) => m[1] ?? "");

test("load/ is used only by scripts/ and tests, and never imports Pulumi", () => {
  const offenders: string[] = [];
  for (const dir of BELOW)
    for (const file of tsFiles(dir))
      for (const spec of imports(file))
        if (spec.startsWith(".") && path.resolve(path.dirname(file), spec).startsWith(path.join(ROOT, "load")))
          offenders.push(`${path.relative(ROOT, file)} imports ${spec}`);
  for (const file of tsFiles("load"))
    for (const spec of imports(file))
      if (spec.startsWith("@pulumi/") || spec.includes("/components/") || spec.includes("/stacks/"))
        offenders.push(`${path.relative(ROOT, file)} imports ${spec}`);
  expect(offenders).toEqual([]);
});
