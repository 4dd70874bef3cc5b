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

/**
 * Pulumi refuses a project whose `config:` types a key of another namespace (e.g. `zester:`), or
 * gives one a `default`, or leaves one without a `value`.
 */
function configProblems(config: Record<string, Record<string, unknown>>): string[] {
  return Object.entries(config).flatMap(([key, entry]) => {
    if (!key.includes(":") || key.startsWith("zester-infra:")) return [];
    return [
      ...("type" in entry ? [`${key}: a key of another namespace may not declare a type`] : []),
      ...("default" in entry ? [`${key}: a key of another namespace may not declare a default`] : []),
      ...("value" in entry ? [] : [`${key}: a key of another namespace needs a value`]),
    ];
  });
}

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
    expect(configProblems(project.config ?? {})).toEqual([]);
    // The check itself refuses what Pulumi refuses, so an empty `config:` passing it means something.
    expect(configProblems({ "zester:peels": { type: "integer" } })).toEqual([
      "zester:peels: a key of another namespace may not declare a type",
      "zester:peels: a key of another namespace needs a value",
    ]);
    expect(configProblems({ "zester:peels": { default: 50, value: 50 } })).toEqual([
      "zester:peels: a key of another namespace may not declare a default",
    ]);
    expect(
      configProblems({ "zester-infra:note": { type: "string", default: "x" }, "aws:region": { value: "x" } }),
    ).toEqual([]);
  });
});

test("the README's stack config table is the one rendered from the schema", () => {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const block = /<!-- stack-config:start -->\n([\s\S]*?)\n<!-- stack-config:end -->/.exec(readme)?.[1];
  expect(block).toBeDefined();
  expect(cells(block ?? "")).toEqual(cells(stackConfigTable()));
});
