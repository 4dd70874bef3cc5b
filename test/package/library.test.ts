/**
 * zester-infra as a library, the way another team gets it: `npm pack`, installed into a fixture
 * project (test/fixtures/library) with the Pulumi packages it peers with, type-checked against
 * the published declarations, and run under Pulumi's mocks. The fixture brings its own provider,
 * VPC and tags, passes ids as outputs, and puts two AWS topologies side by side.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { ROOT } from "../helpers/run";

const Manifest = z.object({ devDependencies: z.record(z.string(), z.string()) });
const Registered = z.object({
  tiers: z.record(z.string(), z.string()),
  resources: z.array(
    z.object({
      type: z.string(),
      name: z.string(),
      provider: z.string(),
      inputs: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
});

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether the AWS provider's arguments for a type token (`aws:ec2/instance:Instance`) take `tags`. */
function takesTags(type: string): boolean {
  const [, module = "", kind = ""] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
  const declarations = readFileSync(path.join(ROOT, "node_modules", "@pulumi", "aws", module, `${kind}.d.ts`), "utf8");
  const args = declarations.slice(
    declarations.indexOf(`export interface ${kind[0]?.toUpperCase() ?? ""}${kind.slice(1)}Args {`),
  );
  return /^\s+tags\?: /m.test(args);
}

/** An Auto Scaling group's tags are a list of { key, value }. */
function asgTags(tags: unknown): Record<string, string> {
  return Object.fromEntries(
    z
      .array(z.object({ key: z.string(), value: z.string() }))
      .parse(tags)
      .map((t) => [t.key, t.value]),
  );
}

let work = "";
let fixture = "";
let packed: { files: { path: string }[] };

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "zester-library-"));
  const pack = run("npm", ["pack", "--json", "--pack-destination", work], ROOT);
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const [first] = z
    .array(z.object({ filename: z.string(), files: z.array(z.object({ path: z.string() })) }))
    .parse(JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))));
  if (first === undefined) throw new Error("npm pack reported no package");
  packed = first;
  fixture = path.join(work, "fixture");
  cpSync(path.join(ROOT, "test", "fixtures", "library"), fixture, { recursive: true });
  // The Pulumi packages zester-infra peers with, at the versions it is developed against.
  const ours = Manifest.parse(JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"))).devDependencies;
  const peers = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/kubernetes", "@pulumi/random"];
  writeFileSync(
    path.join(fixture, "package.json"),
    JSON.stringify({
      name: "fixture",
      version: "1.0.0",
      private: true,
      dependencies: {
        "zester-infra": `file:../${first.filename}`,
        ...Object.fromEntries(peers.map((p) => [p, ours[p] ?? "missing"])),
      },
    }),
  );
  const install = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], fixture);
  if (install.status !== 0) throw new Error(`npm install of the packed package failed: ${install.stderr}`);
}, 240_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

test("the package holds the built library, its declarations and the reconcile bundle, and no sources or tests", () => {
  const files = packed.files.map((f) => f.path);
  expect(files).toEqual(
    expect.arrayContaining(["lib/index.js", "lib/index.d.ts", "lib/reconcile-job.js", "package.json"]),
  );
  expect(
    files.filter((f) => /^(test|scripts|stacks|local)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts"))),
  ).toEqual([]);
});

test('a TypeScript program imports ZesterAws, ZesterKubernetes and plan from "zester-infra" and type-checks', () => {
  const tsc = run(
    process.execPath,
    [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
    fixture,
  );
  expect(tsc.stdout + tsc.stderr).toBe("");
  expect(tsc.status).toBe(0);
});

describe("the program under Pulumi's mocks", () => {
  let registered: z.infer<typeof Registered>;
  beforeAll(() => {
    const r = run(process.execPath, ["run.cjs"], fixture);
    if (r.status !== 0) throw new Error(`the fixture program failed: ${r.stderr}`);
    registered = Registered.parse(JSON.parse(r.stdout));
  }, 60_000);

  const ofComponent = (prefix: string) => registered.resources.filter((r) => r.name.startsWith(`${prefix}-`));

  test("plans each topology's tier", () => {
    expect(registered.tiers).toEqual({
      blue: "cluster-3",
      green: "single",
      k8s: "single-small",
      calculator: "cluster-5",
    });
  });

  test("two topologies in one stack never collide: every child is named after its component", () => {
    const keys = registered.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(ofComponent("blue").length).toBeGreaterThan(30);
    expect(ofComponent("green").length).toBeGreaterThan(20);
  });

  test("the caller's providers are used, and no other is created", () => {
    const providers = registered.resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => r.name);
    expect(providers.sort()).toEqual(["their-cluster", "theirs"]);
    for (const r of [...ofComponent("blue"), ...ofComponent("green")].filter((x) => x.type.startsWith("aws:")))
      expect([r.name, r.provider]).toEqual([r.name, expect.stringMatching(/::pulumi:providers:aws::theirs::/)]);
    for (const r of ofComponent("edge").filter((x) => x.type.startsWith("kubernetes:")))
      expect([r.name, r.provider]).toEqual([
        r.name,
        expect.stringMatching(/::pulumi:providers:kubernetes::their-cluster::/),
      ]);
  });

  test("ids given as outputs reach the resources; every resource that takes tags carries the caller's", () => {
    const subnetIds = registered.resources
      .filter((r) => r.type === "aws:ec2/subnet:Subnet" && r.name.startsWith("net-"))
      .map((r) => r.name);
    expect(subnetIds).toHaveLength(3);
    const instances = ofComponent("blue").filter((r) => r.type === "aws:ec2/instance:Instance");
    expect(instances).toHaveLength(3);
    for (const i of instances) expect(String(i.inputs?.subnetId)).toMatch(/^subnet-0{8}/);
    const aws = [...ofComponent("blue"), ...ofComponent("green")].filter((r) => r.type.startsWith("aws:"));
    const taggable = aws.filter((r) => takesTags(r.type));
    expect(taggable.length).toBeGreaterThan(40);
    for (const r of taggable) {
      const tags = r.type === "aws:autoscaling/group:Group" ? asgTags(r.inputs?.tags) : r.inputs?.tags;
      expect([r.type, r.name, tags]).toEqual([r.type, r.name, expect.objectContaining({ team: "platform" })]);
    }
  });

  test("an output that is not an id AWS makes is refused once its value is known, naming the setting", () => {
    const r = run(process.execPath, ["run.cjs"], fixture, { FIXTURE_BAD_IDS: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /zester:aws\.network\.vpcId: must be a VPC id, e\.g\. vpc-0123456789abcdef0; got "net-id"/,
    );
  });
});
