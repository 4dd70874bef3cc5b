/**
 * The preview of hand-made plans, without a process: the transition a plan may carry (the tier
 * transition planner's `outputs.transition`) is rendered when present and only then; the
 * guide's checklist items newly due; the comment shortened to fit GitHub's limit.
 */
import { renderForComment, renderMarkdown } from "../../preview/markdown";
import { parsePlanJson, type PlanJson } from "../../preview/plan-json";
import { buildPreview } from "../../preview/preview";
import { checklistFor } from "../../sizing/checklist";
import type { TierId } from "../../sizing/types";

const SIZE = {
  cpuSteadyCores: 4,
  cpuBurstCores: 8,
  memoryMiB: 8192,
  jetstreamDiskGiB: 200,
  diskIops: 5000,
  storage: "ssd",
};

function plan(tier: TierId, peels: number, servers: number, extra: Record<string, unknown> = {}): PlanJson {
  const names = Array.from({ length: servers }, (_, i) => `core-${String(i)}`);
  return parsePlanJson(
    {
      outputs: {
        target: "aws",
        tier,
        peels,
        sizing: { server: SIZE, checklist: checklistFor(tier), regions: [{ name: "main" }], leafSites: [] },
        aws: {
          servers: names.map((name) => ({ name })),
          checklist: checklistFor(tier).map((c) => ({ id: c.id, item: c.item, status: "done", how: `how ${c.id}` })),
        },
        deployment: {
          version: 1,
          target: "aws",
          tier,
          peels,
          natsVersion: "2.14.6",
          servers: names.map((name) => ({
            name,
            role: "core",
            region: "main",
            cluster: "zester",
            host: tier === "cluster-5" ? "c6i.4xlarge" : "c6i.2xlarge",
            restart: `r-${tier}`,
            reload: `l-${String(peels)}`,
            data: { kind: "ebs", volume: `${name}-data`, detail: "gp3" },
          })),
        },
        ...extra,
      },
      resources: names.map((name) => ({
        type: "aws:ec2/instance:Instance",
        name: `zester-${name}`,
        urn: `urn:pulumi:staging::zester-infra::zester:aws:Topology$aws:ec2/instance:Instance::zester-${name}`,
        inputs: { instanceType: tier === "cluster-5" ? "c6i.4xlarge" : "c6i.2xlarge", subnetId: `subnet-${name}` },
      })),
    },
    "a hand-made plan",
  );
}

const TRANSITION = {
  from: { tier: "cluster-3", peels: 2_000 },
  to: { tier: "cluster-5", peels: 12_000 },
  phase: "expand",
  phases: ["expand", "move"],
  waitingFor: "core-3 and core-4 to join the meta group",
  steps: [
    {
      id: "01-add-servers",
      phase: "expand",
      kind: "add-servers",
      servers: ["core-3", "core-4"],
      waitsFor: "meta group of 5",
      risks: [],
      description: "start two servers that join the cluster",
    },
    {
      id: "02-set-limits",
      phase: "move",
      kind: "set-limits",
      servers: ["core-0"],
      waitsFor: "every stream updated",
      risks: ["fewer-replicas"],
      description: "limits grow",
    },
  ],
};

test("a plan with a transition: its phase, what it waits for and every step are shown, and are in the JSON", () => {
  const preview = buildPreview({
    stack: "staging",
    base: "a test",
    before: plan("cluster-3", 2_000, 3),
    after: plan("cluster-5", 12_000, 5, { transition: TRANSITION }),
    refused: null,
  });
  expect(preview.transition).toEqual(TRANSITION);
  const text = renderMarkdown(preview);
  expect(text).toContain("### Transition: `cluster-3` (2,000 peels) → `cluster-5` (12,000 peels)");
  expect(text).toContain(
    "Phase `expand` (1 of 2: expand → move), one per `pulumi up`; the next waits for: core-3 and core-4 to join the meta group.",
  );
  expect(text).toContain(
    "| expand | 01-add-servers | add-servers | core-3, core-4 | meta group of 5 | — | start two servers that join the cluster |",
  );
  expect(text).toContain(
    "| move | 02-set-limits | set-limits | core-0 | every stream updated | `fewer-replicas` | limits grow |",
  );
});

test("a plan without one shows no transition section", () => {
  const preview = buildPreview({
    stack: "staging",
    base: "a test",
    before: plan("cluster-3", 2_000, 3),
    after: plan("cluster-5", 12_000, 5),
    refused: null,
  });
  expect(preview.transition).toBeNull();
  expect(renderMarkdown(preview)).not.toContain("### Transition");
});

test("a malformed transition is refused when the plan is read, naming where", () => {
  expect(() => plan("cluster-5", 12_000, 5, { transition: { ...TRANSITION, phase: "one" } })).toThrow(
    /is not a plan this preview reads: Invalid enum value\. Expected 'expand' \| 'move' \| 'contract', received 'one' at outputs\.transition\.phase/,
  );
  expect(() => plan("cluster-5", 12_000, 5, { transition: { ...TRANSITION, extra: 1 } })).toThrow(
    /is not a plan this preview reads: Unrecognized key\(s\) in object: 'extra' at outputs\.transition/,
  );
});

test("newly due: what the new tier's checklist has and the old one's does not, with how the target does it", () => {
  const preview = buildPreview({
    stack: "staging",
    base: "a test",
    before: plan("cluster-3", 2_000, 3),
    after: plan("cluster-5", 12_000, 5),
    refused: null,
  });
  expect(preview.checklist.map((c) => c.id)).toEqual([
    "cluster-5",
    "nvme",
    "server-tuning",
    "os-tuning",
    "prometheus-sd",
    "consider-leafs",
  ]);
  expect(preview.checklist[0]).toEqual({
    id: "cluster-5",
    since: "cluster-5",
    item: "5-node cluster",
    status: "done",
    how: "how cluster-5",
  });
  expect(renderMarkdown(preview)).toContain("### Moving to 10,000+ peels (`cluster-5`): the scaling guide's checklist");
});

test("a new stack: everything is created, nothing was before", () => {
  const preview = buildPreview({
    stack: "new",
    base: "a test",
    before: null,
    after: plan("cluster-3", 2_000, 3),
    refused: null,
  });
  expect(preview.before).toBeNull();
  expect(preview.changes.map((c) => c.action)).toEqual(["create", "create", "create"]);
  expect(preview.mermaid.before).toBeNull();
  expect(renderMarkdown(preview)).toContain("| peels | (new stack) | 2,000 |");
});

test("a comment over GitHub's limit lists fewer rows per kind, and says how to see them all", () => {
  const preview = buildPreview({
    stack: "big",
    base: "a test",
    before: plan("cluster-3", 2_000, 3),
    after: plan("cluster-5", 12_000, 400),
    refused: null,
  });
  const full = renderMarkdown(preview);
  const fitted = renderForComment(preview, 20_000);
  expect(full.length).toBeGreaterThan(20_000);
  expect(fitted.length).toBeLessThanOrEqual(20_000);
  expect(fitted).toMatch(/… and \d+ more \(the whole list: `preview --format json`\)/);
});
