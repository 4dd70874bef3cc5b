import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const PURE = ["sizing", "topology"];
/** What the pure core may import from outside itself: validation, a serializer, hashing and compression, no I/O. */
const ALLOWED = new Set(["zod", "yaml", "node:crypto", "node:zlib"]);

function tsFiles(dir: string): string[] {
  if (!existsSync(path.join(ROOT, dir))) return [];
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

test("the pure core (sizing/, topology/) imports no Pulumi, no Node I/O, nothing but zod, yaml, hashing, compression and itself", () => {
  const offenders: string[] = [];
  for (const dir of PURE) {
    for (const file of tsFiles(dir)) {
      const source = readFileSync(file, "utf8");
      for (const match of source.matchAll(/(?:from|require\()\s*["']([^"']+)["']/g)) {
        const spec = match[1] ?? "";
        const inside =
          spec.startsWith(".") &&
          PURE.some((d) => path.resolve(path.dirname(file), spec).startsWith(path.join(ROOT, d)));
        if (!inside && !ALLOWED.has(spec)) offenders.push(`${path.relative(ROOT, file)} imports ${spec}`);
      }
    }
  }
  expect(offenders).toEqual([]);
});
