import * as pulumi from "@pulumi/pulumi";
import { runProgramWithMocks } from "../../scripts/plan-mocks";
import { npmRun, runScript } from "../helpers/run";

interface PlanJson {
  outputs: Record<string, unknown> & { sizing: { leafSites: { name: string; declared: boolean }[] } };
  resources: { type: string; name: string; parent?: string; inputs: Record<string, unknown> }[];
}

const planJson = (args: string[]): PlanJson => {
  const r = runScript("plan", [...args, "--json"]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as PlanJson;
};

describe("the offline plan", () => {
  test.each([
    ["dev", "single-small", "kubernetes"],
    ["staging", "cluster-3", "aws"],
    ["prod", "leaf", "aws"],
  ])("stack %s plans the %s tier on %s", (stack, tier, target) => {
    const { outputs, resources } = planJson(["--stack", stack]);
    expect(outputs.tier).toBe(tier);
    expect(outputs.target).toBe(target);
    // Each target builds the tier (what it builds: test/components).
    const workload = target === "kubernetes" ? "kubernetes:apps/v1:StatefulSet" : "aws:ec2/instance:Instance";
    expect(resources.filter((r) => r.type === workload).length).toBeGreaterThan(0);
  });

  test("prod declares two leaf sites, and they hold its 60,000 peels", () => {
    const { outputs } = planJson(["--stack", "prod"]);
    expect(outputs.peels).toBe(60_000);
    expect(outputs.sizing.leafSites.map((s) => [s.name, s.declared])).toEqual([
      ["dmz", true],
      ["branch-offices", true],
    ]);
  });

  test("--set overrides a stack's value the way `pulumi config set` would", () => {
    expect(planJson(["--stack", "staging", "--set", "zester:peels=12000"]).outputs.tier).toBe("cluster-5");
    expect(planJson(["--stack", "staging", "--set", "peels=100"]).outputs.tier).toBe("single");
  });

  test("invalid config exits 2 and names the key; an unknown stack exits 2", () => {
    const bad = runScript("plan", ["--stack", "dev", "--set", 'zester:overrides={"kv":{"jobs":{"replicas":3}}}']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/zester:overrides\.kv\.jobs\.replicas: 3 on a single server/);
    const missing = runScript("plan", ["--stack", "nowhere"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no stacks\/Pulumi\.nowhere\.yaml/);
  });

  test("a nats-server version older than the renderer supports exits 2 naming the key, on both targets", () => {
    const k8s = runScript("plan", [
      "--stack",
      "dev",
      "--set",
      'kubernetes={"natsServer":{"image":"nats:2.1.0","version":"2.1.0"}}',
    ]);
    expect(k8s.status).toBe(2);
    expect(k8s.stderr).toMatch(
      /zester:kubernetes\.natsServer\.version: nats-server 2\.1\.0 is older than 2\.9\.0, the oldest line the config renderer supports: use 2\.9\.0 or newer/,
    );
    const pin = { version: "2.8.4", url: "https://downloads.example/nats-server.tar.gz", sha256: "0".repeat(64) };
    const aws = runScript("plan", [
      "--stack",
      "staging",
      "--set",
      `aws=${JSON.stringify({ region: "eu-west-1", natsServer: pin })}`,
    ]);
    expect(aws.status).toBe(2);
    expect(aws.stderr).toMatch(/zester:aws\.natsServer\.version: nats-server 2\.8\.4 is older than 2\.9\.0/);
  });

  test("max_connections below the peels' needs exits 2 naming the key, what it breaks and the confirmation key", () => {
    const r = runScript("plan", ["--stack", "staging", "--set", 'overrides={"natsServer":{"maxConnections":10}}']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /zester:overrides\.natsServer\.maxConnections: 10 is below the 4,000 the plan needs: .*the busiest cluster has 2,000 peels.*up to 1,990 would be refused\. .*adding "natsServer\.maxConnections" to overrides\.confirmBelowPlan/,
    );
  });

  test("a bucket at R1 on a cluster exits 2 naming the key; confirmed, both are planned and recorded", () => {
    const r = runScript("plan", ["--stack", "staging", "--set", 'overrides={"kv":{"facts":{"replicas":1}}}']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/zester:overrides\.kv\.facts\.replicas: 1 is below the 3 the plan needs: .*lost/);
    const confirmed = planJson([
      "--stack",
      "staging",
      "--set",
      `overrides=${JSON.stringify({
        natsServer: { maxConnections: 10 },
        kv: { facts: { replicas: 1 } },
        confirmBelowPlan: ["natsServer.maxConnections", "kv.facts.replicas"],
      })}`,
    ]);
    const sizing = confirmed.outputs.sizing as unknown as {
      natsServer: { maxConnections: number; provenance: { maxConnections: { why: string } } };
      belowPlan: { path: string; value: number; needed: number }[];
    };
    expect(sizing.natsServer.maxConnections).toBe(10);
    expect(sizing.natsServer.provenance.maxConnections.why).toMatch(/confirmed in overrides\.confirmBelowPlan/);
    expect(sizing.belowPlan.map((b) => [b.path, b.value, b.needed])).toEqual([
      ["natsServer.maxConnections", 10, 4_000],
      ["kv.facts.replicas", 1, 3],
    ]);
  });

  test("confirming an override that is not there exits 2 naming the confirmation's entry", () => {
    const r = runScript("plan", [
      "--stack",
      "staging",
      "--set",
      'overrides={"confirmBelowPlan":["kv.facts.replicas"]}',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /zester:overrides\.confirmBelowPlan\[0\]: "kv\.facts\.replicas" confirms nothing: overrides\.kv\.facts\.replicas is not set/,
    );
  });

  test("`npm run -s plan -- --stack dev` prints the outputs and the resource count readably", () => {
    const r = npmRun("plan", ["--stack", "dev"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}tier: "single-small"$/m);
    expect(r.stdout).toMatch(/^Resources: \d+$/m);
    expect(r.stdout).toMatch(/kubernetes:apps\/v1:StatefulSet {2}zester-statefulset-zester-core/);
  });

  test("every registered resource is recorded with its type token, name, URN, parent, aliases, provider, dependencies, options and inputs", async () => {
    class Provider extends pulumi.ProviderResource {
      constructor(name: string) {
        super("aws", name, {}, {});
      }
    }
    class Instance extends pulumi.CustomResource {
      constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super("aws:ec2/instance:Instance", name, props, opts);
      }
    }
    class Box extends pulumi.ComponentResource {
      constructor(name: string) {
        super("zester:test:Box", name);
        const first = new Instance(`${name}-server`, { instanceType: "c6i.2xlarge" }, { parent: this });
        new Instance(
          `${name}-second`,
          { instanceType: "c6i.xlarge" },
          {
            parent: this,
            aliases: [{ name: "second" }],
            protect: true,
            retainOnDelete: true,
            ignoreChanges: ["ami"],
            dependsOn: [first],
            deleteBeforeReplace: true,
            replaceOnChanges: ["instanceType"],
          },
        );
        // An input that refers to `first` is an implied dependency, not a `dependsOn`.
        new Instance(
          `${name}-third`,
          { instanceType: "t3.micro", tags: { after: first.id } },
          { parent: this, provider: new Provider("eu") },
        );
        // Read by its id, never created.
        new Instance(`${name}-existing`, {}, { parent: this, id: "i-0123" });
        this.registerOutputs({});
      }
    }
    const { outputs, resources } = await runProgramWithMocks(
      "zester-infra",
      "test",
      {},
      {
        run: () => {
          new Box("core-0");
          return { ok: pulumi.output(true) };
        },
      },
    );
    expect(outputs).toEqual({ ok: true });
    const none = {
      protect: false,
      retainOnDelete: false,
      ignoreChanges: [],
      dependsOn: [],
      deleteBeforeReplace: false,
      replaceOnChanges: [],
    };
    const urn = (chain: string, name: string) => `urn:pulumi:test::zester-infra::${chain}::${name}`;
    const box = "zester:test:Box";
    const instance = `${box}$aws:ec2/instance:Instance`;
    // Registrations complete in any order; the record is compared by name.
    const byName = <T extends { name: string }>(list: T[]): T[] =>
      [...list].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(resources)).toEqual(
      byName([
        {
          type: box,
          name: "core-0",
          urn: urn(box, "core-0"),
          aliases: [],
          custom: false,
          dependencies: [],
          options: none,
          inputs: {},
        },
        {
          type: "pulumi:providers:aws",
          name: "eu",
          urn: urn("pulumi:providers:aws", "eu"),
          aliases: [],
          custom: true,
          dependencies: [],
          options: none,
          inputs: {},
        },
        {
          type: "aws:ec2/instance:Instance",
          name: "core-0-server",
          urn: urn(instance, "core-0-server"),
          parent: "core-0",
          aliases: [],
          custom: true,
          dependencies: [],
          options: none,
          inputs: { instanceType: "c6i.2xlarge" },
        },
        // A read is not registered: Pulumi's mocks hand it over without its parent.
        {
          type: "aws:ec2/instance:Instance",
          name: "core-0-existing",
          urn: urn("aws:ec2/instance:Instance", "core-0-existing"),
          aliases: [],
          custom: true,
          readId: "i-0123",
          dependencies: [],
          options: none,
          inputs: {},
        },
        {
          type: "aws:ec2/instance:Instance",
          name: "core-0-second",
          urn: urn(instance, "core-0-second"),
          parent: "core-0",
          aliases: [urn(instance, "second")],
          custom: true,
          dependencies: [urn(instance, "core-0-server")],
          options: {
            protect: true,
            retainOnDelete: true,
            ignoreChanges: ["ami"],
            dependsOn: ["core-0-server"],
            deleteBeforeReplace: true,
            replaceOnChanges: ["instanceType"],
          },
          inputs: { instanceType: "c6i.xlarge" },
        },
        {
          type: "aws:ec2/instance:Instance",
          name: "core-0-third",
          urn: urn(instance, "core-0-third"),
          parent: "core-0",
          aliases: [],
          custom: true,
          provider: urn("pulumi:providers:aws", "eu"),
          dependencies: [urn(instance, "core-0-server")],
          options: none,
          inputs: { instanceType: "t3.micro", tags: { after: "core-0-server-id" } },
        },
      ]),
    );
  });
});
