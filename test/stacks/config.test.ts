import { ConfigError, configKey, readStackConfig } from "../../stacks/config";
import { program } from "../../stacks/program";

/** The program's refusal of `config`, line by line (nothing is deployed: nothing to compare). */
async function messages(config: Record<string, string>): Promise<string[]> {
  try {
    await program(config, () => Promise.resolve({}));
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  return [];
}

describe("stack config", () => {
  test("values arrive as Pulumi hands them over: strings, structured ones as JSON", () => {
    const c = readStackConfig({
      "zester:peels": "60000",
      "zester:target": "aws",
      "zester:leafSites": '[{"name":"dmz"},{"name":"branch-offices"}]',
      "aws:region": "eu-west-1",
    });
    expect(c.target).toBe("aws");
    expect(c.sizing).toEqual({ peels: 60_000, leafSites: [{ name: "dmz" }, { name: "branch-offices" }] });
  });

  test("zester:peels and zester:target are required, and errors name the key", async () => {
    expect(await messages({})).toEqual([
      "zester:peels: is required: a whole number from 0 to 1,000,000",
      "zester:target: must be one of: aws, kubernetes",
    ]);
  });

  test("a bad peel count or target names the key and what is accepted", async () => {
    expect(await messages({ "zester:peels": "many", "zester:target": "gcp" })).toEqual([
      "zester:peels: must be a whole number from 0 to 1,000,000",
      "zester:target: must be one of: aws, kubernetes",
    ]);
  });

  test("an unknown zester key is refused and the known keys are listed", async () => {
    const [message] = await messages({ "zester:peels": "5", "zester:target": "aws", "zester:peel": "5" });
    expect(message).toMatch(/^zester:peel: is not a setting this project reads/);
    expect(message).toContain("zester:peels, zester:target");
  });

  test("a nats-server version older than the renderer supports names the key on both targets; 2.9.0 is accepted", async () => {
    const pin = (version: string) =>
      JSON.stringify({ natsServer: { version, url: "https://d.example/n.tar.gz", sha256: "0".repeat(64) } });
    const aws = { "zester:peels": "2000", "zester:target": "aws", "aws:region": "eu-west-1" };
    const k8s = { "zester:peels": "50", "zester:target": "kubernetes" };
    const k8sPin = (version: string) => JSON.stringify({ natsServer: { image: `nats:${version}`, version } });
    expect(await messages({ ...aws, "zester:aws": pin("2.8.4") })).toEqual([
      "zester:aws.natsServer.version: nats-server 2.8.4 is older than 2.9.0, the oldest line the config renderer supports: use 2.9.0 or newer, e.g. 2.14.6",
    ]);
    expect(await messages({ ...k8s, "zester:kubernetes": k8sPin("2.1.0") })).toEqual([
      expect.stringMatching(
        /^zester:kubernetes\.natsServer\.version: nats-server 2\.1\.0 is older than 2\.9\.0/,
      ) as unknown,
    ]);
    expect(await messages({ ...k8s, "zester:kubernetes": k8sPin("2.9") })).toEqual([
      "zester:kubernetes.natsServer.version: must be a version like 2.14.6 (2.9.0 or newer)",
    ]);
    expect(readStackConfig({ ...aws, "zester:aws": pin("2.9.0") }).aws?.natsServer?.version).toBe("2.9.0");
    expect(readStackConfig({ ...k8s, "zester:kubernetes": k8sPin("2.9.0") }).kubernetes?.natsServer.version).toBe(
      "2.9.0",
    );
  });

  test("errors found while planning name the key as `pulumi config set --path` spells it", async () => {
    expect(
      await messages({
        "zester:peels": "2000",
        "zester:target": "aws",
        "aws:region": "eu-west-1",
        "zester:overrides": '{"kv":{"facts":{"replicas":5}}}',
      }),
    ).toEqual([
      expect.stringMatching(/^zester:overrides\.kv\.facts\.replicas: 5 is more than the 3 servers/) as unknown,
    ]);
    expect(configKey(["leafSites", 1, "peels"])).toBe("zester:leafSites[1].peels");
  });

  test("a replication to no region of the plan, or of no KV bucket, names the entry's key and what is accepted", async () => {
    const regions = (replicate: unknown) => JSON.stringify([{ name: "eu", replicate }, { name: "us" }]);
    const base = { "zester:peels": "150000", "zester:target": "aws", "aws:region": "eu-west-1" };
    expect(await messages({ ...base, "zester:regions": regions([{ bucket: "secrets", to: "ap" }]) })).toEqual([
      'zester:regions[0].replicate[0].to: "ap" is not a region of this plan; the regions are: eu, us',
    ]);
    expect(await messages({ ...base, "zester:regions": regions([{ bucket: "fact", to: "us" }]) })).toEqual([
      expect.stringMatching(
        /^zester:regions\[0\]\.replicate\[0\]\.bucket: must be one of the KV buckets: facts, /,
      ) as unknown,
    ]);
  });
});
