import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { stackConfigTable } from "../../stacks/reference";

const ROOT = path.resolve(__dirname, "..", "..");

const ProjectSchema = z
  .object({
    name: z.literal("zester-infra"),
    description: z.string(),
    runtime: z.object({ name: z.literal("nodejs"), options: z.object({ typescript: z.literal(true) }) }),
    main: z.string(),
    stackConfigDir: z.string(),
    config: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict();

/** Table rows as trimmed cells, so a formatter's column alignment does not matter. */
const cells = (table: string): string[][] =>
  table
    .trim()
    .split("\n")
    .map((row) =>
      row
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim().replace(/^:?-+:?$/, "---")),
    );

describe("Pulumi.yaml", () => {
  const project = ProjectSchema.parse(parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")));

  test("points main and stackConfigDir at stacks/, which holds the entry point and every stack file", () => {
    expect(path.normalize(project.main)).toBe(path.normalize("stacks/"));
    expect(project.stackConfigDir).toBe("stacks");
    expect(existsSync(path.join(ROOT, project.main, "index.ts"))).toBe(true);
    for (const stack of ["dev", "staging", "prod"])
      expect(existsSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`))).toBe(true);
  });

  test("declares config the way Pulumi accepts: a type or default only on the project's own keys", () => {
    // Pulumi refuses a project whose `config:` types a key of another namespace (e.g. `zester:`),
    // or gives one a `default`, or leaves one without a `value`.
    for (const [key, entry] of Object.entries(project.config ?? {})) {
      const own = !key.includes(":") || key.startsWith(`${project.name}:`);
      if (!own) {
        expect(entry).not.toHaveProperty("type");
        expect(entry).not.toHaveProperty("default");
        expect(entry).toHaveProperty("value");
      }
    }
  });
});

test("the README's stack config table is the one rendered from the schema", () => {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const block = /<!-- stack-config:start -->\n([\s\S]*?)\n<!-- stack-config:end -->/.exec(readme)?.[1];
  expect(block).toBeDefined();
  expect(cells(block ?? "")).toEqual(cells(stackConfigTable()));
});
