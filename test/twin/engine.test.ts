/**
 * The twins' engine against a fake provider that records what it is asked to do: ordering,
 * replacements by the shared table, a failure mid-update and the next `up` resuming, protect,
 * retainOnDelete, aliases and ignoreChanges, as `pulumi up` behaves.
 */
import { up, type UpInput, type UpResult } from "../../twin/engine/engine";
import { Providers, type ResourceInput, type TwinProvider } from "../../twin/engine/provider";
import { EMPTY_STATE, type ResourceState, type StackState } from "../../twin/engine/state";
import type { TargetResource } from "../../twin/engine/steps";

const INSTANCE = "aws:ec2/instance:Instance";
const VOLUME = "aws:ebs/volume:Volume";
const ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment";
const urnOf = (type: string, name: string) => `urn:pulumi:test::zester-infra::${type}::${name}`;

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  more: { dependsOn?: TargetResource[]; aliases?: string[]; options?: Partial<TargetResource["options"]> } = {},
): TargetResource {
  return {
    type,
    name,
    urn: urnOf(type, name),
    aliases: more.aliases ?? [],
    custom: true,
    dependencies: (more.dependsOn ?? []).map((r) => r.urn),
    options: {
      protect: false,
      retainOnDelete: false,
      ignoreChanges: [],
      dependsOn: [],
      deleteBeforeReplace: false,
      replaceOnChanges: [],
      ...more.options,
    },
    inputs,
  };
}

/** Records every operation in order; `failOn` names resources whose create or update throws. */
class FakeCloud implements TwinProvider {
  readonly types = [INSTANCE, VOLUME, ATTACHMENT];
  readonly log: string[] = [];
  readonly failOn = new Set<string>();
  running = 0;
  mostAtOnce = 0;
  private ids = 0;

  private async operate(entry: string, name: string): Promise<void> {
    this.running += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.running -= 1;
    if (this.failOn.has(name)) throw new Error(`${name} failed to become healthy`);
    this.log.push(entry);
  }

  async create(r: ResourceInput) {
    await this.operate(`create ${r.name}`, r.name);
    this.ids += 1;
    return { id: `${r.name}-${String(this.ids)}`, outputs: { arn: `arn:${r.name}:${String(this.ids)}` } };
  }

  async update(before: ResourceState, after: ResourceInput) {
    await this.operate(`update ${after.name}`, after.name);
    return { id: before.id };
  }

  async delete(r: ResourceState) {
    await this.operate(`delete ${r.name} ${r.id}`, `delete:${r.name}`);
  }
}

class Stack {
  state: StackState = structuredClone(EMPTY_STATE);
  saves = 0;
  readonly printed: string[] = [];

  constructor(readonly cloud: FakeCloud = new FakeCloud()) {}

  async up(resources: TargetResource[], outputs: Record<string, unknown> = {}, extra: Partial<UpInput> = {}) {
    this.cloud.log.length = 0;
    const result: UpResult = await up(
      this.state,
      { resources, outputs, ...extra },
      {
        providers: new Providers([this.cloud]),
        save: (s) => {
          this.state = s;
          this.saves += 1;
        },
        print: (line) => this.printed.push(line),
      },
    );
    return result;
  }

  applied(name: string): ResourceState[] {
    return this.state.resources.filter((r) => r.name === name);
  }
}

describe("the twins' engine", () => {
  test("creates wait for what they depend on; independent ones run at once", async () => {
    const stack = new Stack();
    const volume = resource(VOLUME, "core-0-data", { size: 200 });
    const server = resource(INSTANCE, "core-0", { instanceType: "c6i.2xlarge" });
    const other = resource(INSTANCE, "core-1", { instanceType: "c6i.2xlarge" });
    const attach = resource(ATTACHMENT, "core-0-attach", { volumeId: "v" }, { dependsOn: [volume, server] });
    // The attachment is listed first: only its dependencies order it.
    const result = await stack.up([attach, volume, server, other], { tier: "cluster-3" });
    expect(result.ok).toBe(true);
    const log = stack.cloud.log;
    expect(log.indexOf("create core-0-attach")).toBeGreaterThan(log.indexOf("create core-0"));
    expect(log.indexOf("create core-0-attach")).toBeGreaterThan(log.indexOf("create core-0-data"));
    expect(log.at(-1)).toBe("create core-0-attach");
    expect(stack.cloud.mostAtOnce).toBeGreaterThanOrEqual(3);
    expect(result.counts.create).toBe(4);
    expect(stack.state.outputs).toEqual({ tier: "cluster-3" });
    // The state lists a resource after those it depends on, whatever the plan's order.
    expect(stack.state.resources.map((r) => r.name)).toEqual(["core-0-data", "core-0", "core-0-attach", "core-1"]);
  });

  test("deletes run after every create and update, dependents first", async () => {
    const stack = new Stack();
    const volume = resource(VOLUME, "core-4-data", { size: 500 });
    const server = resource(INSTANCE, "core-4", { instanceType: "c6i.4xlarge" });
    const attach = resource(ATTACHMENT, "core-4-data", { volumeId: "v" }, { dependsOn: [volume, server] });
    const kept = resource(INSTANCE, "core-0", { instanceType: "c6i.2xlarge" });
    await stack.up([volume, server, attach, kept]);
    const result = await stack.up([resource(INSTANCE, "core-0", { instanceType: "c6i.4xlarge" })]);
    expect(result.ok).toBe(true);
    const log = stack.cloud.log;
    expect(log[0]).toBe("update core-0");
    expect(log.slice(1).every((l) => l.startsWith("delete"))).toBe(true);
    expect(log.findIndex((l) => l.startsWith("delete core-4-data core-4-data"))).toBeLessThan(
      log.findIndex((l) => l.startsWith("delete core-4 ")),
    );
    expect(stack.state.resources.map((r) => r.name)).toEqual(["core-0"]);
  });

  test("a change the provider can only make by replacing creates the new one first and deletes the old one last", async () => {
    const stack = new Stack();
    await stack.up([resource(INSTANCE, "core-0", { subnetId: "a", instanceType: "c6i.2xlarge" })]);
    const oldId = stack.applied("core-0")[0]?.id;
    const other = resource(INSTANCE, "core-1", { instanceType: "c6i.2xlarge" });
    const result = await stack.up([
      resource(INSTANCE, "core-0", { subnetId: "b", instanceType: "c6i.2xlarge" }),
      other,
    ]);
    expect(result.ok).toBe(true);
    expect(result.counts.replace).toBe(1);
    const log = stack.cloud.log;
    expect(log.at(-1)).toBe(`delete core-0 ${String(oldId)}`);
    expect(log.indexOf("create core-0")).toBeLessThan(log.length - 1);
    expect(stack.printed.some((l) => l.includes("replaced by a change of subnetId"))).toBe(true);
    // An in-place change of the same resource is an update (instanceType is not ForceNew).
    await stack.up([resource(INSTANCE, "core-0", { subnetId: "b", instanceType: "c6i.4xlarge" }), other]);
    expect(stack.cloud.log).toEqual(["update core-0"]);
  });

  test("deleteBeforeReplace deletes first; replaceOnChanges replaces on a property the provider updates", async () => {
    const stack = new Stack();
    const options = { deleteBeforeReplace: true, replaceOnChanges: ["tags"] };
    await stack.up([resource(VOLUME, "data", { size: 200, tags: { a: "1" } }, { options })]);
    const oldId = stack.applied("data")[0]?.id;
    const result = await stack.up([resource(VOLUME, "data", { size: 200, tags: { a: "2" } }, { options })]);
    expect(result.counts.replace).toBe(1);
    expect(stack.cloud.log).toEqual([`delete data ${String(oldId)}`, "create data"]);
  });

  test("a failed operation stops the up with what was done kept; the next up starts from there", async () => {
    const stack = new Stack();
    const a = resource(INSTANCE, "a", {});
    const b = resource(INSTANCE, "b", {}, { dependsOn: [a] });
    const c = resource(INSTANCE, "c", {}, { dependsOn: [b] });
    await stack.up([], { generation: 1 });
    stack.cloud.failOn.add("b");
    const failed = await stack.up([a, b, c], { generation: 2 });
    expect(failed.ok).toBe(false);
    expect(failed.failure).toEqual({ urn: b.urn, operation: "create", message: "b failed to become healthy" });
    expect(stack.state.resources.map((r) => r.name)).toEqual(["a"]);
    // The stack's outputs are those of the last up that finished.
    expect(stack.state.outputs).toEqual({ generation: 1 });
    expect(stack.printed.some((l) => l.startsWith("error:") && l.includes("b failed to become healthy"))).toBe(true);
    stack.cloud.failOn.clear();
    const resumed = await stack.up([a, b, c], { generation: 2 });
    expect(resumed.ok).toBe(true);
    expect(stack.cloud.log).toEqual(["create b", "create c"]);
    expect(stack.state.outputs).toEqual({ generation: 2 });
  });

  test("a replacement interrupted after its create deletes the old resource at the next up", async () => {
    const stack = new Stack();
    const server = (subnetId: string) => resource(INSTANCE, "core-0", { subnetId });
    await stack.up([server("a")]);
    const oldId = stack.applied("core-0")[0]?.id;
    const gate = resource(INSTANCE, "gate", {}, { dependsOn: [server("b")] });
    stack.cloud.failOn.add("gate");
    expect((await stack.up([server("b"), gate])).ok).toBe(false);
    expect(stack.applied("core-0").map((r) => [r.id === oldId, r.pendingDelete])).toEqual([
      [false, false],
      [true, true],
    ]);
    stack.cloud.failOn.clear();
    expect((await stack.up([server("b"), gate])).ok).toBe(true);
    expect(stack.cloud.log).toEqual(["create gate", `delete core-0 ${String(oldId)}`]);
  });

  test("a protected resource refuses its delete or replacement before anything runs", async () => {
    const stack = new Stack();
    const volume = resource(VOLUME, "data", { availabilityZone: "a" }, { options: { protect: true } });
    await stack.up([volume]);
    const result = await stack.up([resource(INSTANCE, "new", {})]);
    expect(result.ok).toBe(false);
    expect(result.failure?.message).toContain(`unable to delete resource "${volume.urn}"`);
    expect(stack.cloud.log).toEqual([]);
    const moved = resource(VOLUME, "data", { availabilityZone: "b" }, { options: { protect: true } });
    expect((await stack.up([moved])).failure?.message).toContain("unable to replace resource");
    expect(stack.applied("data")).toHaveLength(1);
  });

  test("retainOnDelete forgets the resource without deleting it", async () => {
    const stack = new Stack();
    await stack.up([resource(VOLUME, "data", {}, { options: { retainOnDelete: true } })]);
    const result = await stack.up([]);
    expect(result.ok).toBe(true);
    expect(stack.cloud.log).toEqual([]);
    expect(stack.state.resources).toEqual([]);
    expect(stack.printed.some((l) => l.includes("forgotten"))).toBe(true);
  });

  test("a resource renamed with an alias is the same resource, kept under its new URN", async () => {
    const stack = new Stack();
    const old = resource(INSTANCE, "core-0", { instanceType: "c6i.2xlarge" });
    await stack.up([old]);
    const renamed = resource(INSTANCE, "zester-core-0", { instanceType: "c6i.2xlarge" }, { aliases: [old.urn] });
    const result = await stack.up([renamed]);
    expect(result.ok).toBe(true);
    expect(stack.cloud.log).toEqual([]);
    expect(stack.state.resources.map((r) => r.urn)).toEqual([renamed.urn]);
  });

  test("an ignored property keeps its applied value; other changes still update", async () => {
    const stack = new Stack();
    const options = { ignoreChanges: ["ami"] };
    await stack.up([resource(INSTANCE, "core-0", { ami: "ami-1", instanceType: "a" }, { options })]);
    expect(
      (await stack.up([resource(INSTANCE, "core-0", { ami: "ami-2", instanceType: "a" }, { options })])).counts,
    ).toMatchObject({ same: 1, update: 0, replace: 0 });
    await stack.up([resource(INSTANCE, "core-0", { ami: "ami-2", instanceType: "b" }, { options })]);
    expect(stack.cloud.log).toEqual(["update core-0"]);
    expect(stack.applied("core-0")[0]?.inputs).toEqual({ ami: "ami-1", instanceType: "b" });
  });

  test("a type no provider carries out refuses the up, naming it, before anything runs", async () => {
    const stack = new Stack();
    const result = await stack.up([
      resource(INSTANCE, "a", {}),
      resource("aws:dlm/lifecyclePolicy:LifecyclePolicy", "snapshots", {}),
    ]);
    expect(result.ok).toBe(false);
    expect(result.failure?.message).toContain("aws:dlm/lifecyclePolicy:LifecyclePolicy");
    expect(stack.cloud.log).toEqual([]);
  });

  test("what a provider records without running is reported as not run, never done", async () => {
    const recorder: TwinProvider = {
      types: ["aws:dlm/lifecyclePolicy:LifecyclePolicy"],
      create: () => Promise.resolve({ id: "policy-1", notRun: "snapshots are not taken on the twin" }),
      update: () => Promise.resolve({}),
      delete: () => Promise.resolve(),
    };
    let state: StackState = structuredClone(EMPTY_STATE);
    const printed: string[] = [];
    const result = await up(
      state,
      { resources: [resource("aws:dlm/lifecyclePolicy:LifecyclePolicy", "snapshots", {})], outputs: {} },
      { providers: new Providers([recorder]), save: (s) => (state = s), print: (l) => printed.push(l) },
    );
    expect(result.notRun).toEqual([
      {
        urn: urnOf("aws:dlm/lifecyclePolicy:LifecyclePolicy", "snapshots"),
        why: "snapshots are not taken on the twin",
      },
    ]);
    expect(state.resources[0]?.notRun).toBe("snapshots are not taken on the twin");
    expect(printed.some((l) => l.includes("recorded, not run: snapshots are not taken on the twin"))).toBe(true);
  });

  test("a provider that answers another value than the program was planned with fails the operation", async () => {
    const stack = new Stack();
    const server = resource(INSTANCE, "core-0", {});
    const answers = new Map([[server.urn, { id: "i-1", outputs: { arn: "arn:planned" } }]]);
    const result = await stack.up([server], {}, { answers });
    expect(result.ok).toBe(false);
    expect(result.failure?.message).toContain(
      'the provider answered arn = "arn:core-0:1" but the program was planned with "arn:planned"',
    );
  });

  test("the state is written after every operation", async () => {
    const stack = new Stack();
    await stack.up([resource(INSTANCE, "a", {}), resource(INSTANCE, "b", {}), resource(INSTANCE, "c", {})]);
    expect(stack.saves).toBeGreaterThanOrEqual(4);
  });
});
