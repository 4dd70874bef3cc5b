/**
 * `npm run -s preview` as its own process: every tier edge on both targets (the base given as an
 * earlier plan), a base taken from git, the two commands the README shows, every diagram read
 * back by Mermaid's own parser, and bad input refused naming the flag.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Preview } from "../../preview/preview";
import { NOT_PROVIDER_RESOURCES, REPLACEMENT } from "../../plan-json/replacement";
import { once, planOf } from "../helpers/plans";
import { ROOT, runScript, type Run } from "../helpers/run";

const SUPER_AWS = JSON.stringify({
  region: "eu-west-1",
  monitoringCidrs: ["10.60.0.0/16"],
  regions: { "region-1": { region: "us-east-1" } },
});
const NVME = { nvmeStorageClass: "local-nvme" };
const SUPER_K8S = {
  ...NVME,
  regions: { "region-1": { context: "eu" } },
  hubLeafHost: "leaf.hub.example.com",
  leafnodeSourceRanges: ["10.43.0.0/16"],
};

type Target = "aws" | "kubernetes";
const STACK: Record<Target, string> = { aws: "staging", kubernetes: "dev" };

/** The settings a tier needs on each target (regions only on a supercluster, NVMe from 10,000). */
function setsFor(target: Target, peels: number): string[] {
  const settings =
    target === "aws"
      ? peels >= 100_000
        ? [`aws=${SUPER_AWS}`]
        : []
      : peels >= 100_000
        ? [`kubernetes=${JSON.stringify(SUPER_K8S)}`]
        : peels >= 10_000
          ? [`kubernetes=${JSON.stringify(NVME)}`]
          : [];
  return [`peels=${String(peels)}`, ...settings];
}

const dir = mkdtempSync(path.join(os.tmpdir(), "zester-preview-test-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const planFile = once((key: string): string => {
  const [target, peels] = key.split(":") as [Target, string];
  const file = path.join(dir, `${target}-${peels}.json`);
  writeFileSync(file, JSON.stringify(planOf(STACK[target], setsFor(target, Number(peels)))));
  return file;
});

/** The preview of `from` → `to` peels, the base given as the plan at `from`. */
const previewOf = once((key: string): { run: Run; json: Preview } => {
  const [target, from, to] = key.split(":") as [Target, string, string];
  const sets = setsFor(target, Number(to)).flatMap((s) => ["--set", s]);
  const args = ["--stack", STACK[target], ...sets, "--previous", planFile(`${target}:${from}`), "--format", "json"];
  const run = runScript("preview", args);
  if (run.status !== 0 && run.status !== 3) throw new Error(`preview failed (${String(run.status)}): ${run.stderr}`);
  return { run, json: JSON.parse(run.stdout) as Preview };
});

const EDGES: [from: number, to: number][] = [
  [99, 100],
  [999, 1_000],
  [9_999, 10_000],
  [49_999, 50_000],
  [99_999, 100_000],
];
const TARGETS: Target[] = ["aws", "kubernetes"];
const CASES = TARGETS.flatMap((t) => EDGES.map(([from, to]): [Target, number, number] => [t, from, to]));
const edge = (target: Target, from: number, to: number) => previewOf(`${target}:${String(from)}:${String(to)}`);

beforeAll(() => {
  for (const [t, from, to] of CASES) edge(t, from, to);
});

const names = (p: Preview, action: string) => p.servers.filter((s) => s.action === action).map((s) => s.server);

describe("every tier edge on both targets", () => {
  const expected: Record<string, [string, string, boolean]> = {
    "99": ["single-small", "single", false],
    "999": ["single", "cluster-3", true],
    "9999": ["cluster-3", "cluster-5", false],
    "49999": ["cluster-5", "leaf", true],
    "99999": ["leaf", "supercluster", true],
  };

  test.each(CASES)(
    "%s %i → %i peels: the tiers, the JSON contract, exit 3 exactly when refused",
    (target, from, to) => {
      const { run, json } = edge(target, from, to);
      const [tierBefore, tierAfter, refusedOnAws] = expected[String(from)] ?? [];
      // Kubernetes keeps JetStream on its claims across 50,000 (a claim keeps its class), and grows
      // into a supercluster by adding a region next to the running one: neither is refused there.
      const refused = refusedOnAws === true && !(target === "kubernetes" && (from === 49_999 || from === 99_999));
      expect([json.stack, json.target]).toEqual([STACK[target], target]);
      expect([json.before?.tier, json.before?.peels, json.after.tier, json.after.peels]).toEqual([
        tierBefore,
        from,
        tierAfter,
        to,
      ]);
      expect(json.after.servers.length).toBeGreaterThan(0);
      for (const s of json.after.servers)
        expect(Object.keys(s)).toEqual(expect.arrayContaining(["name", "host", "cpuBurstCores", "memoryMiB"]));
      for (const c of json.changes)
        expect(Object.keys(c)).toEqual(expect.arrayContaining(["type", "name", "action", "risks"]));
      expect(typeof json.mermaid.after).toBe("string");
      expect(Array.isArray(json.checklist)).toBe(true);
      expect(json.refused === null).toBe(!refused);
      expect(run.status).toBe(refused ? 3 : 0);
    },
  );

  test.each(TARGETS)(
    "%s 99 → 100: the only server restarts for its new size; the guide adds nothing to do",
    (target) => {
      const { json } = edge(target, 99, 100);
      expect(json.servers).toEqual([
        expect.objectContaining({ server: "core-0", action: "stop-start", risks: ["restart"] }),
      ]);
      expect(json.checklist).toEqual([]);
    },
  );

  test.each(TARGETS)(
    "%s 999 → 1,000: a standalone server cannot become a cluster member: refused as data-loss",
    (target) => {
      const { json } = edge(target, 999, 1_000);
      expect(json.refusals).toEqual([
        expect.objectContaining({ risk: "data-loss", reason: expect.stringMatching(/^core-0 runs alone/) as string }),
      ]);
      expect(json.checklist.map((c) => c.id)).toEqual([
        "cluster-3-ha",
        "kv-replicas-3",
        "prometheus",
        "jetstream-backups",
        "limit-nofile",
      ]);
      // Cluster routes are a port opened that was not before.
      expect(json.changes.some((c) => c.risks.includes("exposure"))).toBe(true);
    },
  );

  test.each(TARGETS)(
    "%s 9,999 → 10,000: three servers restart one at a time, two are added, the 10,000+ checklist is due",
    (target) => {
      const { json } = edge(target, 9_999, 10_000);
      expect(names(json, "create")).toEqual(["core-3", "core-4"]);
      expect(names(json, "stop-start")).toEqual(["core-0", "core-1", "core-2"]);
      // AWS goes in ordinal order behind the health gate; a StatefulSet rolls from the highest ordinal down.
      expect(json.restarts.map((r) => r.servers)).toEqual([
        target === "aws" ? ["core-0", "core-1", "core-2"] : ["core-2", "core-1", "core-0"],
      ]);
      expect(json.checklist.map((c) => c.id)).toEqual([
        "cluster-5",
        "nvme",
        "server-tuning",
        "os-tuning",
        "prometheus-sd",
        "consider-leafs",
      ]);
      for (const c of json.checklist) expect(c.status).toMatch(/^(done|operator|zester)$/);
      expect(json.changes.filter((c) => c.risks.includes("data-loss"))).toEqual([]);
    },
  );

  test("aws 49,999 → 50,000: every data volume deleted for instance-store NVMe is data-loss, and refused", () => {
    const { json } = edge("aws", 49_999, 50_000);
    const volumes = json.changes.filter((c) => c.type === "aws:ebs/volume:Volume");
    expect(volumes.map((v) => [v.name, v.action, v.risks])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [`zester-core-${String(i)}-data`, "delete", ["data-loss"]]),
    );
    expect(json.refusals.map((r) => r.risk)).toEqual(Array(5).fill("data-loss"));
  });

  test("kubernetes 49,999 → 50,000: leaf servers added and their NetworkPolicy; the 50,000+ checklist is due", () => {
    const { json } = edge("kubernetes", 49_999, 50_000);
    expect(names(json, "create")).toEqual(["leaf-edge-0", "leaf-edge-1", "leaf-edge-2", "leaf-edge-3", "leaf-edge-4"]);
    expect(json.checklist.map((c) => c.since)).toEqual(Array(5).fill("leaf"));
  });

  test.each(TARGETS)(
    "%s 99,999 → 100,000: region-1 is added next to the running region, which keeps its names",
    (target) => {
      const { json } = edge(target, 99_999, 100_000);
      expect(names(json, "create")).toEqual(expect.arrayContaining(["region-1-core-0", "region-1-core-4"]));
      expect(names(json, "delete").filter((n) => n.startsWith("core-"))).toEqual([]);
      expect(json.checklist.map((c) => c.since)).toEqual(Array(5).fill("supercluster"));
    },
  );

  test("aws 99,999 → 100,000: the instance-store cores cannot take the bigger type in place: data-loss, refused", () => {
    const { json } = edge("aws", 99_999, 100_000);
    expect(json.refusals.map((r) => r.risk)).toEqual(Array(5).fill("data-loss"));
    expect(json.refusals.map((r) => /^core-\d keeps JetStream on instance-store NVMe/.test(r.reason))).toEqual(
      Array(5).fill(true),
    );
  });
});

describe("Mermaid's own parser reads every diagram", () => {
  interface Parsed {
    error?: string;
    type?: string;
    vertices: { id: string; classes: string[] }[];
    edges: { start: string; end: string }[];
    subgraphs: { id: string; nodes: string[] }[];
  }
  const diagrams = () =>
    CASES.flatMap(([t, from, to]) => {
      const { json } = edge(t, from, to);
      return [
        { json, side: "before" as const, text: json.mermaid.before ?? "" },
        { json, side: "after" as const, text: json.mermaid.after },
      ];
    });
  let read: Parsed[] | undefined;
  /** Parsed once, in one process: Mermaid takes a second to load. */
  const parsed = (): Parsed[] => {
    if (read !== undefined) return read;
    const r = spawnSync(process.execPath, [path.join(ROOT, "test", "helpers", "mermaid-parse.cjs")], {
      input: JSON.stringify(diagrams().map((d) => d.text)),
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`mermaid-parse failed: ${r.stderr}`);
    read = JSON.parse(r.stdout) as Parsed[];
    return read;
  };

  test("20 diagrams, each a flowchart with one vertex per server and a subgraph per region, cluster and leaf site", () => {
    const all = diagrams();
    expect(all).toHaveLength(20);
    all.forEach(({ json, side, text }, i) => {
      const p = parsed()[i];
      expect([side, text.slice(0, 20), p?.error]).toEqual([side, text.slice(0, 20), undefined]);
      expect(p?.type).toBe("flowchart-v2");
      const servers = (side === "before" ? json.before?.servers : json.after.servers) ?? [];
      const id = (n: string) => `s_${n.replace(/[^A-Za-z0-9]/g, "_")}`;
      // Links between subgraphs name them as vertices too: the servers are the rest.
      const subgraphIds = new Set(p?.subgraphs.map((s) => s.id));
      const vertices = p?.vertices.map((v) => v.id).filter((v) => !subgraphIds.has(v));
      expect(new Set(vertices)).toEqual(new Set(servers.map((s) => id(s.name))));
      const sites = new Set(servers.map((s) => s.site).filter((s) => s !== undefined));
      const regions = new Set(servers.map((s) => s.region));
      const subgraphs = p?.subgraphs.map((s) => s.id) ?? [];
      for (const site of sites) expect(subgraphs).toContain(`site_${site.replace(/[^A-Za-z0-9]/g, "_")}`);
      for (const region of regions) expect(subgraphs).toContain(`region_${region.replace(/[^A-Za-z0-9]/g, "_")}`);
      // One leaf link per site, one region link per region after the first.
      expect(p?.edges).toHaveLength(sites.size + regions.size - 1);
    });
  });

  test("the servers a change adds are marked in the diagram after it", () => {
    const i = diagrams().findIndex(
      (d) => d.json.after.tier === "cluster-5" && d.json.target === "aws" && d.side === "after",
    );
    const after = parsed()[i];
    const added = after?.vertices.filter((v) => v.classes.includes("added")).map((v) => v.id);
    expect(added).toEqual(["s_core_3", "s_core_4"]);
  });

  test("a diagram Mermaid cannot read is an error (the parser is really asked)", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "test", "helpers", "mermaid-parse.cjs")], {
      input: JSON.stringify(["flowchart LR\n  a[[x -->"]),
      encoding: "utf8",
    });
    expect((JSON.parse(r.stdout) as Parsed[])[0]?.error).toMatch(/Parse error/);
  });
});

test("every provider type of the plans is in the replacement table", () => {
  const files = [
    ...CASES.flatMap(([t, from, to]) => [planFile(`${t}:${String(from)}`), planFile(`${t}:${String(to)}`)]),
  ];
  const types = new Set<string>();
  for (const [t, from, to] of CASES) for (const c of edge(t, from, to).json.changes) types.add(c.type);
  const extra = [
    planOf("staging", [
      `aws=${JSON.stringify({ region: "eu-west-1", peelCanaries: 1, zesterPeel: { url: "https://example.com/p", sha256: "a".repeat(64) } })}`,
    ]),
    planOf("dev", [
      `kubernetes=${JSON.stringify({ prometheusOperator: true, zesterPeelImage: "p:1", nodeTuningDaemonSet: true })}`,
    ]),
  ] as { resources: { type: string }[] }[];
  for (const p of extra) for (const r of p.resources) types.add(r.type);
  expect(files).toHaveLength(20);
  const missing = [...types].filter(
    (t) => REPLACEMENT[t] === undefined && !NOT_PROVIDER_RESOURCES.some((re) => re.test(t)),
  );
  expect(missing).toEqual([]);
  expect(types.size).toBeGreaterThan(40);
});

describe("the commands the README shows", () => {
  test("staging at 12,000 peels against HEAD: cluster-3 → cluster-5, its restarts, the 10,000+ checklist", () => {
    const r = runScript("preview", ["--stack", "staging", "--set", "zester:peels=12000", "--base", "HEAD"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^## Zester preview: stack `staging` \(aws\)/);
    expect(r.stdout).toContain("| tier | `cluster-3` | **`cluster-5`** |");
    expect(r.stdout).toMatch(/Compared with HEAD, commit [0-9a-f]{12}/);
    expect(r.stdout).toContain("- cluster main/zester: core-0 → core-1 → core-2 (one instance at a time");
    expect(r.stdout).toContain("### Moving to 10,000+ peels (`cluster-5`): the scaling guide's checklist");
    expect(r.stdout).toContain("```mermaid\nflowchart LR");
  });

  test("staging at 60,000 peels against the default base: refused as data-loss, exit 3, the JSON fields", () => {
    const r = runScript("preview", ["--stack", "staging", "--set", "zester:peels=60000", "--format", "json"]);
    expect(r.status).toBe(3);
    const json = JSON.parse(r.stdout) as Preview;
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining(["stack", "target", "before", "after", "changes", "refused", "checklist", "mermaid"]),
    );
    expect(json.base).toMatch(/^the merge base with (origin\/HEAD|main), commit [0-9a-f]{12}/);
    expect(json.refused).toMatch(/^refused: this update could lose data or quorum/);
    expect(json.changes.filter((c) => c.type === "aws:ebs/volume:Volume").map((c) => c.risks)).toEqual(
      Array(3).fill(["data-loss"]),
    );
  });
});

describe("bad input exits 2 naming the flag", () => {
  const notJson = path.join(dir, "not.json");
  const notPlan = path.join(dir, "not-plan.json");
  beforeAll(() => {
    writeFileSync(notJson, "{");
    writeFileSync(notPlan, JSON.stringify({ outputs: {}, resources: [] }));
  });
  test.each([
    ["no stack", [], /--stack is required/],
    ["an unknown stack", ["--stack", "nope"], /--stack: no stack "nope"/],
    ["an unknown format", ["--stack", "dev", "--format", "xml"], /--format: must be markdown or json; got "xml"/],
    [
      "both bases",
      ["--stack", "dev", "--base", "HEAD", "--previous", "x.json"],
      /--base and --previous: give one of them/,
    ],
    [
      "a ref that does not exist",
      ["--stack", "dev", "--base", "no-such-branch"],
      /--base: "no-such-branch" names no commit/,
    ],
    [
      "a previous plan that is not JSON",
      ["--stack", "dev", "--previous", notJson],
      /--previous: cannot read .* as JSON/,
    ],
    [
      "a previous file that is not a plan",
      ["--stack", "dev", "--previous", notPlan],
      /--previous: .* is not a plan this preview reads/,
    ],
    ["an unknown flag", ["--stack", "dev", "--peels", "5"], /Unknown option '--peels'/],
  ])("%s", (_what, args, message) => {
    const r = runScript("preview", args);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
  });

  test("config the plan refuses names --set and the key", () => {
    const r = runScript("preview", ["--stack", "dev", "--set", "peels=-5", "--previous", planFile("kubernetes:99")]);
    expect(r.stderr).toMatch(/--set: the plan refuses the config: .*zester:peels/);
    expect(r.status).toBe(2);
  });
});
