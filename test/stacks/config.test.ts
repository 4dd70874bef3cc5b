import { ConfigError, configKey, readStackConfig } from "../../stacks/config";
import { program } from "../../stacks/program";

function messages(config: Record<string, string>): string[] {
  try {
    program(config);
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

  test("zester:peels and zester:target are required, and errors name the key", () => {
    expect(messages({})).toEqual([
      "zester:peels: is required: a whole number from 0 to 1,000,000",
      "zester:target: must be one of: aws, kubernetes",
    ]);
  });

  test("a bad peel count or target names the key and what is accepted", () => {
    expect(messages({ "zester:peels": "many", "zester:target": "gcp" })).toEqual([
      "zester:peels: must be a whole number from 0 to 1,000,000",
      "zester:target: must be one of: aws, kubernetes",
    ]);
  });

  test("an unknown zester key is refused and the known keys are listed", () => {
    const [message] = messages({ "zester:peels": "5", "zester:target": "aws", "zester:peel": "5" });
    expect(message).toMatch(/^zester:peel: is not a setting this project reads/);
    expect(message).toContain("zester:peels, zester:target");
  });

  test("errors found while planning name the key as `pulumi config set --path` spells it", () => {
    expect(
      messages({
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
});
