/**
 * Which folder may import which. The pure core (sizing/, topology/, change/) is what makes the calculator,
 * the CI diff, the local target and the cloud targets agree, so it reaches nothing outside itself;
 * the local target and the load tools never see Pulumi; the components never see the local target.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");

/** Each folder's own imports: the folders it may reach (itself always), and packages beyond Node's own. */
const RULES: Record<string, { folders: string[]; packages: RegExp }> = {
  // Validation, a serializer, hashing and compression: no I/O (`node:` below is narrowed for the core).
  sizing: { folders: [], packages: /^zod$/ },
  // And signing: NKeys' encoding and NATS JWTs' claims (deterministic, from the seeds it is given).
  topology: { folders: ["sizing"], packages: /^(zod|yaml|@nats-io\/jwt|@nats-io\/nkeys(\/lib\/codec)?)$/ },
  // What is deployed and how it changes: the guard, the transition planner, its phases. Pure too.
  change: { folders: ["sizing", "topology"], packages: /^zod$/ },
  // Runs inside the reconcile job (Lambda, Kubernetes Job) as well as locally: NATS clients only.
  jetstream: { folders: ["sizing", "topology", "change"], packages: /^(zod|@nats-io\/.+)$/ },
  local: {
    folders: ["sizing", "topology", "change", "jetstream"],
    // Its own CA and certificates: X.509 on WebCrypto (which needs reflect-metadata loaded).
    packages: /^(zod|yaml|@nats-io\/.+|@peculiar\/x509|reflect-metadata)$/,
  },
  load: { folders: ["sizing", "topology", "change", "jetstream", "local"], packages: /^(zod|@nats-io\/.+)$/ },
  // Keys are made (random bytes) and signed in topology/; the components only keep them.
  components: { folders: ["sizing", "topology", "change", "jetstream"], packages: /^(zod|yaml|@pulumi\/.+)$/ },
  stacks: {
    folders: ["sizing", "topology", "change", "jetstream", "components"],
    packages: /^(zod|yaml|@pulumi\/.+)$/,
  },
  // The offline plan's resources as data and the providers' replace rules: the preview and the
  // twins read the same table, and neither may hand the other the program's intent.
  "plan-json": { folders: [], packages: /^zod$/ },
  // The twins carry a plan out as a cloud would: from what the plan declares and the providers'
  // documented behaviour only, never from the program (components/, stacks/) that made it.
  twin: {
    folders: ["sizing", "topology", "change", "jetstream", "plan-json"],
    packages: /^(zod|yaml|@nats-io\/.+|@peculiar\/x509|reflect-metadata)$/,
  },
  // Reads plans (JSON) of the components' resources; the CIDR parser is the components' own.
  preview: { folders: ["sizing", "topology", "change", "components", "plan-json"], packages: /^zod$/ },
  // The command line: the one place that puts the pieces together.
  scripts: {
    folders: [
      "sizing",
      "topology",
      "change",
      "jetstream",
      "local",
      "load",
      "components",
      "stacks",
      "preview",
      "plan-json",
      "twin",
    ],
    packages: /^(zod|yaml|cli-table3|@nats-io\/.+|@pulumi\/.+)$/,
  },
};
/** The pure core may use these of Node's modules, and no other (no fs, no net, no processes). */
const CORE_NODE = new Set(["node:crypto", "node:zlib"]);
const CORE = new Set(["sizing", "topology", "change"]);
/** Folders that hold no project code of their own (tests, fixtures, build output, tools). */
const NOT_CODE = new Set(["test", "node_modules", "dist", "lib", "coverage", "docs"]);

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

function imports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  // A specifier built from a template (`${dir}/index.js`) is text for another process, not an import.
  return [...source.matchAll(/(?:from|require\(|import\()\s*["']([^"'$]+)["']/g)].map((m) => m[1] ?? "");
}

/** Why `file` (in `folder`) may not import `spec`, or undefined when it may. */
function offence(folder: string, file: string, spec: string): string | undefined {
  const rule = RULES[folder];
  if (rule === undefined) return `no rule for folder ${folder}`;
  if (spec.startsWith(".")) {
    const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep)[0] ?? "";
    return target === folder || rule.folders.includes(target) ? undefined : `reaches ${target}/`;
  }
  if (spec.startsWith("node:")) return CORE.has(folder) && !CORE_NODE.has(spec) ? "does I/O" : undefined;
  return rule.packages.test(spec) ? undefined : "uses a package its folder may not";
}

test("every folder with code has an import rule", () => {
  const folders = readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !NOT_CODE.has(e.name))
    .filter((e) => tsFiles(e.name).length > 0)
    .map((e) => e.name)
    .sort();
  expect(folders).toEqual(Object.keys(RULES).sort());
});

test.each(Object.keys(RULES))("%s/ imports only what its rule allows", (folder) => {
  const offenders = tsFiles(folder).flatMap((file) =>
    imports(file).flatMap((spec) => {
      const why = offence(folder, file, spec);
      return why === undefined ? [] : [`${path.relative(ROOT, file)} imports ${spec}: ${why}`];
    }),
  );
  expect(offenders).toEqual([]);
});

test("the rules catch what they are for", () => {
  const at = (...parts: string[]) => path.join(ROOT, ...parts, "x.ts");
  expect(offence("topology", at("topology"), "@pulumi/pulumi")).toBeDefined();
  expect(offence("topology", at("topology"), "../change/deployment")).toBe("reaches change/");
  expect(offence("change", at("change"), "node:fs")).toBe("does I/O");
  expect(offence("sizing", at("sizing"), "node:fs")).toBe("does I/O");
  expect(offence("local", at("local"), "../components/aws/args")).toBe("reaches components/");
  expect(offence("components", at("components"), "../local/runner")).toBe("reaches local/");
  expect(offence("stacks", at("stacks"), "../local/repo-root")).toBe("reaches local/");
  expect(offence("local", at("local"), "../stacks/config")).toBe("reaches stacks/");
  expect(offence("components", at("components", "aws"), "../../topology/auth")).toBeUndefined();
  expect(offence("twin", at("twin", "engine"), "../../components/aws/servers")).toBe("reaches components/");
  expect(offence("twin", at("twin", "engine"), "../../stacks/program")).toBe("reaches stacks/");
  expect(offence("twin", at("twin", "engine"), "../../plan-json/replacement")).toBeUndefined();
});

/** The project file a relative import names (`./x` → x.ts, a folder → its index.ts). */
function resolved(file: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(file), spec);
  return [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => existsSync(candidate));
}

/**
 * Files that import each other, directly or round about (Tarjan's strongly connected components),
 * each circle as the files in it. Type-only imports count: a circle of types is still two files
 * that cannot be read, moved or changed one without the other.
 */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) ?? 0);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      onStack.delete(top);
      component.push(top);
      if (top === file) break;
    }
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

test("no file imports itself round about: the imports of the project's code form no circle", () => {
  const graph = new Map<string, string[]>();
  for (const folder of [...Object.keys(RULES), "test"])
    for (const file of tsFiles(folder))
      graph.set(
        path.relative(ROOT, file),
        imports(file).flatMap((spec) => {
          const target = spec.startsWith(".") ? resolved(file, spec) : undefined;
          return target === undefined ? [] : [path.relative(ROOT, target)];
        }),
      );
  expect(graph.size).toBeGreaterThan(100);
  expect(circles(graph)).toEqual([]);
});

test("the circle finder finds circles, long and short", () => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts", "d.ts"]],
    ["d.ts", []],
    ["e.ts", ["e.ts"]],
  ]);
  expect(circles(graph)).toEqual([["a.ts", "b.ts", "c.ts"], ["e.ts"]]);
});
