import { spawnSync } from "node:child_process";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** Loads stacks/index.ts, the file `pulumi up` runs, under Pulumi's mocks with `config`. */
async function loadEntry(config: Record<string, string>): Promise<unknown> {
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      // The stack reads back its own last outputs first: a new stack has none.
      newResource: (a) =>
        a.type === "pulumi:pulumi:StackReference"
          ? {
              id: a.name,
              state: { name: (a.inputs as Record<string, unknown>).name, outputs: {}, secretOutputNames: [] },
            }
          : { id: `${a.name}-id`, state: a.inputs as Record<string, unknown> },
      call: (a) => a.inputs as Record<string, unknown>,
    },
    "zester-infra",
    "test",
    false,
    "organization",
  );
  let loaded: unknown;
  try {
    jest.isolateModules(() => {
      loaded = require("../../stacks/index");
    });
    // The module's export is a promise of the outputs (the program reads the last deployment first).
    loaded = await Promise.resolve(loaded);
  } finally {
    // As the engine does: every registration reaches the mocks before the program is done.
    await pulumi.runtime.disconnect();
  }
  return loaded;
}

describe("the Pulumi entry point (stacks/index.ts)", () => {
  test("exports the plan as stack outputs, so `pulumi config set zester:peels 25000` then preview shows the tier", async () => {
    const outputs = (await loadEntry({
      "zester:peels": "25000",
      "zester:target": "kubernetes",
      "zester:kubernetes": '{"nvmeStorageClass":"local-nvme"}',
    })) as Record<string, unknown>;
    expect(outputs.tier).toBe("cluster-5");
    expect(outputs.serversPerCluster).toBe(5);
    expect(outputs.target).toBe("kubernetes");
    expect((outputs.sizing as { kv: unknown[] }).kv).toHaveLength(14);
  });

  test("bad config fails with a RunError that names the key, before anything is created", async () => {
    const error = await loadEntry({ "zester:peels": "-3", "zester:target": "aws", "aws:region": "eu-west-1" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // isInstance, not instanceof: the entry was loaded in its own module registry.
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect(String(error)).toMatch(/zester:peels: must be a whole number from 0 to 1,000,000/);
  });
});

test("the entry point compiles and runs through ts-node with type-checking, as the Pulumi CLI loads it", () => {
  const r = spawnSync(process.execPath, [path.join(__dirname, "..", "helpers", "pulumi-like-run.cjs")], {
    encoding: "utf8",
    env: {
      ...process.env,
      ZESTER_TEST_CONFIG: JSON.stringify({ "zester:peels": "2000", "zester:target": "aws", "aws:region": "eu-west-1" }),
    },
  });
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout)).toEqual({ tier: "cluster-3", target: "aws" });
}, 60_000);
