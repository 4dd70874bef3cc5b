/**
 * One judge of data at risk, checked against what the provider would do: config edits (zones,
 * region, namespace, cluster context, architecture, instance families, storage kinds and classes,
 * leaf sites) over deployed stacks of every tier on both cloud targets. Each edit's plan runs over
 * the base's outputs, as `pulumi up` reads the last update's; whatever the change guard lets
 * through is diffed resource by resource with the providers' replace rules (preview/resources.ts),
 * and must not delete or replace a data store: an EBS volume, a claim, a Namespace holding claims,
 * an instance-store instance (replaced, or stopped for another type).
 */
import fc from "fast-check";
import type { Deployment } from "../../change/deployment";
import { parsePlanJson } from "../../preview/plan-json";
import { buildPreview } from "../../preview/preview";
import { diffResources, type ResourceChange } from "../../preview/resources";
import { claimNamespaces, metadataName } from "../../preview/risks";
import type { PlannedResource } from "../../preview/plan-json";
import { runProgramWithMocks } from "../../scripts/plan-mocks";
import { stackConfig } from "../../scripts/stack-file";

type Settings = Record<string, unknown>;

interface Base {
  name: string;
  stack: "dev" | "staging";
  target: "aws" | "kubernetes";
  peels: number;
  settings: Settings;
  leafSites?: string[];
}

const AWS = { region: "eu-west-1", monitoringCidrs: ["10.60.0.0/16"] };
const AWS_SUPER = { ...AWS, regions: { "region-1": { region: "us-east-1" } } };
const K8S_SUPER = {
  nvmeStorageClass: "local-nvme",
  regions: { "region-1": { context: "eu" } },
  hubLeafHost: "leaf.hub.example.com",
  leafnodeSourceRanges: ["10.43.0.0/16"],
};

const BASES: Base[] = [
  { name: "aws single", stack: "staging", target: "aws", peels: 500, settings: AWS },
  { name: "aws cluster-3", stack: "staging", target: "aws", peels: 2_000, settings: AWS },
  { name: "aws cluster-5", stack: "staging", target: "aws", peels: 12_000, settings: AWS },
  { name: "aws leaf", stack: "staging", target: "aws", peels: 60_000, settings: AWS, leafSites: ["dmz", "edge"] },
  { name: "aws supercluster", stack: "staging", target: "aws", peels: 150_000, settings: AWS_SUPER },
  { name: "k8s single", stack: "dev", target: "kubernetes", peels: 50, settings: {} },
  { name: "k8s cluster-3", stack: "dev", target: "kubernetes", peels: 2_000, settings: {} },
  {
    name: "k8s leaf",
    stack: "dev",
    target: "kubernetes",
    peels: 60_000,
    settings: { nvmeStorageClass: "local-nvme" },
    leafSites: ["dmz", "edge"],
  },
  { name: "k8s supercluster", stack: "dev", target: "kubernetes", peels: 150_000, settings: K8S_SUPER },
];

/** An edit of a base's config: its target's settings, its leaf sites, its overrides. */
interface Edit {
  what: string;
  settings?: (s: Settings) => Settings;
  leafSites?: (sites: string[]) => string[];
  storage?: "ssd" | "nvme";
  diskGiB?: number;
}

const zones = (region: string, order: string[]): string[] => order.map((z) => `${region}${z}`);
const network = (s: Settings, availabilityZones: string[]): Settings => ({
  ...s,
  network: { ...(s.network as Settings | undefined), availabilityZones },
});

const AWS_EDITS: fc.Arbitrary<Edit>[] = [
  fc
    .shuffledSubarray(["a", "b", "c", "d"], { minLength: 3, maxLength: 3 })
    .map((order) => ({ what: `zones ${order.join("")}`, settings: (s) => network(s, zones("eu-west-1", order)) })),
  fc.constantFrom("10.42.0.0/16", "10.50.0.0/16").map((vpcCidr) => ({
    what: `VPC ${vpcCidr}`,
    settings: (s: Settings) => ({ ...s, network: { ...(s.network as Settings | undefined), vpcCidr } }),
  })),
  fc.constantFrom("eu-central-1", "us-east-1").map((region) => ({
    what: `region ${region}`,
    settings: (s: Settings) => ({ ...s, region }),
  })),
  fc
    .constantFrom("x86", "arm64")
    .map((arch) => ({ what: `arch ${arch}`, settings: (s: Settings) => ({ ...s, arch }) })),
  fc.constantFrom("c6i", "m6i", "c6id", "m6id", "r6i").map((family) => ({
    what: `instance family ${family}`,
    settings: (s: Settings) => ({ ...s, instanceFamily: family }),
  })),
  fc.constantFrom("eu-central-1", "us-west-2").map((region) => ({
    what: `region-1 in ${region}`,
    settings: (s: Settings) => (s.regions === undefined ? s : { ...s, regions: { "region-1": { region } } }),
  })),
];

const K8S_EDITS: fc.Arbitrary<Edit>[] = [
  fc.constantFrom("zester", "zester-b").map((namespace) => ({
    what: `namespace ${namespace}`,
    settings: (s: Settings) => ({ ...s, namespace }),
  })),
  fc.constantFrom("fast", "standard").map((storageClass) => ({
    what: `storage class ${storageClass}`,
    settings: (s: Settings) => ({ ...s, storageClass }),
  })),
  fc.constantFrom("local-nvme", "nvme-b").map((nvmeStorageClass) => ({
    what: `NVMe class ${nvmeStorageClass}`,
    settings: (s: Settings) => ({ ...s, nvmeStorageClass }),
  })),
  fc.constantFrom("main", "other").map((context) => ({
    what: `context ${context}`,
    settings: (s: Settings) => ({ ...s, context }),
  })),
  fc.constantFrom("eu", "us").map((context) => ({
    what: `region-1's context ${context}`,
    settings: (s: Settings) => (s.regions === undefined ? s : { ...s, regions: { "region-1": { context } } }),
  })),
];

const COMMON_EDITS: fc.Arbitrary<Edit>[] = [
  fc.constantFrom("ssd" as const, "nvme" as const).map((storage) => ({ what: `storage ${storage}`, storage })),
  // Below every base's planned disk, and above it.
  fc.constantFrom(8, 4096).map((diskGiB) => ({ what: `disk ${String(diskGiB)} GiB`, diskGiB })),
  fc
    .subarray(["dmz", "edge", "branch"], { minLength: 1 })
    .map((sites) => ({ what: `leaf sites ${sites.join(",")}`, leafSites: () => sites })),
];

function sets(base: Base, edits: Edit[]): string[] {
  let settings = base.settings;
  let sites = base.leafSites ?? [];
  let storage: Edit["storage"];
  let diskGiB: number | undefined;
  for (const e of edits) {
    settings = e.settings?.(settings) ?? settings;
    sites = e.leafSites?.(sites) ?? sites;
    storage = e.storage ?? storage;
    diskGiB = e.diskGiB ?? diskGiB;
  }
  return [
    `peels=${String(base.peels)}`,
    `${base.target}=${JSON.stringify(settings)}`,
    ...(base.leafSites === undefined ? [] : [`leafSites=${JSON.stringify(sites.map((name) => ({ name })))}`]),
    ...(storage === undefined && diskGiB === undefined
      ? []
      : [`overrides=${JSON.stringify({ server: { storage, jetstreamDiskGiB: diskGiB } })}`]),
  ];
}

interface Planned {
  outputs: Record<string, unknown> & { deployment?: Deployment };
  resources: PlannedResource[];
}

async function plan(base: Base, edits: Edit[], previous?: Planned): Promise<Planned> {
  const { project, config } = stackConfig(base.stack, sets(base, edits));
  return runProgramWithMocks<Record<string, unknown>>(project, base.stack, config, {
    ...(previous === undefined ? {} : { previousOutputs: previous.outputs }),
  });
}

const VOLUME = "aws:ebs/volume:Volume";
const CLAIM = "kubernetes:core/v1:PersistentVolumeClaim";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const INSTANCE = "aws:ec2/instance:Instance";

/** A volume's or claim's size in GiB, as its inputs give it (`size`; a claim's `"10Gi"` request). */
function sizeOf(c: ResourceChange, side: "before" | "after"): number {
  const inputs = c[side]?.inputs;
  if (c.type === VOLUME) return Number(inputs?.size);
  const spec = inputs?.spec as { resources?: { requests?: { storage?: string } } } | undefined;
  return Number.parseInt(spec?.resources?.requests?.storage ?? "", 10);
}

/** The data stores a change deletes, replaces, wipes or shrinks, in words; none is what the guard must keep. */
function storesLost(before: Planned, changes: ResourceChange[]): string[] {
  const destroys = (c: ResourceChange) => c.action === "delete" || c.action === "replace";
  const claimsIn = claimNamespaces(before.resources);
  const instanceStore = new Set(
    (before.outputs.deployment?.servers ?? [])
      .filter((s) => s.data?.kind === "instance-store")
      .map((s) => `zester-${s.name}`),
  );
  return changes.flatMap((c) => {
    const store = c.type === VOLUME || c.type === CLAIM;
    const lost =
      (store && destroys(c)) ||
      // No provider shrinks a store: the update would stop half-way.
      (store && c.action === "update" && sizeOf(c, "after") < sizeOf(c, "before")) ||
      (c.type === NAMESPACE && destroys(c) && claimsIn.has(metadataName(c.before?.inputs) ?? "")) ||
      (c.type === INSTANCE &&
        instanceStore.has(c.name) &&
        (destroys(c) || c.properties.some((p) => p.startsWith("instanceType"))));
    return lost ? [`${c.type} ${c.name} ${c.action} (${c.replacedBy.join(", ") || c.properties.join(", ")})`] : [];
  });
}

const based = new Map<string, Promise<Planned>>();
const baseOf = (base: Base): Promise<Planned> => {
  const known = based.get(base.name);
  if (known !== undefined) return known;
  const made = plan(base, []);
  based.set(base.name, made);
  return made;
};

const outcomes = { refused: 0, through: 0 };

test("no plan the change guard lets through deletes, replaces, wipes or shrinks a data store", async () => {
  const caseOf = fc.constantFrom(...BASES).chain((base) =>
    fc.record({
      base: fc.constant(base),
      edits: fc.array(fc.oneof(...(base.target === "aws" ? AWS_EDITS : K8S_EDITS), ...COMMON_EDITS), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
  );
  await fc.assert(
    fc.asyncProperty(caseOf, async ({ base, edits }) => {
      const before = await baseOf(base);
      let after: Planned;
      try {
        after = await plan(base, edits, before);
      } catch {
        // Refused, or rejected as invalid: either way before anything is created.
        outcomes.refused++;
        return;
      }
      const changes = diffResources(before.resources, after.resources);
      // Let through with something to change: an edit the plan ignores proves nothing.
      if (changes.length > 0) outcomes.through++;
      expect({ base: base.name, edits: edits.map((e) => e.what), lost: storesLost(before, changes) }).toEqual({
        base: base.name,
        edits: edits.map((e) => e.what),
        lost: [],
      });
    }),
    { numRuns: 16, seed: Number(process.env.ZESTER_PROPERTY_SEED ?? 20261207) },
  );
  // The edits reach both sides of the guard: some are let through, some refused.
  expect(outcomes.refused).toBeGreaterThan(0);
  expect(outcomes.through).toBeGreaterThan(0);
}, 300_000);

test("the preview marks what the guard refuses: a namespace deleted with its claims is data-loss", async () => {
  const base = BASES.find((b) => b.name === "k8s cluster-3");
  if (base === undefined) throw new Error("no k8s cluster-3 base");
  const before = await baseOf(base);
  const moved: Edit = { what: "namespace zester-b", settings: (s) => ({ ...s, namespace: "zester-b" }) };
  await expect(plan(base, [moved], before)).rejects.toThrow(
    /bound to its namespace \(zester:kubernetes\.namespace\) zester; zester-b/,
  );
  // What the preview diffs: the plan of the change on its own, next to the base's.
  const after = await plan(base, [moved]);
  const preview = buildPreview({
    stack: base.stack,
    base: "the base",
    before: parsePlanJson(before, "the base's plan"),
    after: parsePlanJson(after, "the change's plan"),
    refused: "refused",
  });
  const namespaces = preview.changes.filter((c) => c.type === NAMESPACE);
  // The old Namespace goes with every claim in it; the new one holds nothing yet.
  expect(namespaces.map((c) => [c.name, c.action, c.risks])).toEqual([
    ["zester-namespace-cluster-zester", "delete", ["data-loss"]],
    ["zester-namespace-cluster-zester-b", "create", []],
  ]);
}, 60_000);

test("an instance-store server in a subnet that a new VPC CIDR replaces is refused: the instance, its NVMe with it, would be replaced", async () => {
  const base = BASES.find((b) => b.name === "aws leaf");
  if (base === undefined) throw new Error("no aws leaf base");
  const before = await baseOf(base);
  expect(before.outputs.deployment?.servers.find((s) => s.name === "core-0")?.data?.kind).toBe("instance-store");
  const cidr: Edit = { what: "VPC 10.50.0.0/16", settings: (s) => ({ ...s, network: { vpcCidr: "10.50.0.0/16" } }) };
  // The resource diff cannot see it (a subnet's new id is known only at deploy): the record can.
  await expect(plan(base, [cidr], before)).rejects.toThrow(
    /core-0's JetStream data \(instance-store core-0\) is bound to its subnet \(zester:aws\.network\) private-0 10\.42\.0\.0\/20; private-0 10\.50\.0\.0\/20 would replace/,
  );
}, 60_000);

test("a smaller disk is refused on both targets, naming the setting; the same plan with no record is what the shrink would be", async () => {
  const smaller: Edit = { what: "disk 8 GiB", diskGiB: 8 };
  for (const [name, kind, from] of [
    ["aws cluster-3", "volume core-0-data", 200],
    ["k8s cluster-3", "claim jetstream-core-0", 200],
  ] as const) {
    const base = BASES.find((b) => b.name === name);
    if (base === undefined) throw new Error(`no ${name} base`);
    const before = await baseOf(base);
    await expect(plan(base, [smaller], before)).rejects.toThrow(
      new RegExp(
        `core-0's ${kind} would shrink from ${String(from)} GiB to 8 GiB.*zester:overrides\\.server\\.jetstreamDiskGiB`,
      ),
    );
    // Unguarded, the program would update the store in place to the smaller size, which no provider does.
    const shrunk = diffResources(before.resources, (await plan(base, [smaller])).resources).filter(
      (c) =>
        (c.type === VOLUME || c.type === CLAIM) && c.action === "update" && sizeOf(c, "after") < sizeOf(c, "before"),
    );
    expect(shrunk.length).toBeGreaterThan(0);
  }
}, 120_000);
