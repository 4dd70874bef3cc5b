/**
 * The AWS target's offline plans held to what a real provider would hit: every AWS resource
 * input of every tier (a two-region supercluster included), of the example stacks as they are,
 * and of variants that add resources, checked against AWS's published API models (botocore)
 * through the table in test/helpers/aws-api-map.ts; and the user data and Lambda environment
 * sizes AWS refuses beyond.
 */
import { once, planOf } from "../helpers/plans";
import { TIER_EXAMPLES } from "../helpers/tiers";
import { loadAwsModels } from "../helpers/aws-models";
import { AWS_API_MAP, AWS_API_SERVICES, NOT_COVERED_YET } from "../helpers/aws-api-map";
import {
  apiPathsOf,
  checkResource,
  deployTimePlaceholders,
  describeViolation,
  patternsUnder,
  resolveApiPath,
  type PlannedResource,
} from "../helpers/aws-api-check";
import { javaPattern } from "../helpers/java-pattern";
import { sizeViolations, USER_DATA_MAX_BYTES } from "../helpers/aws-limits";

interface PlanJson {
  resources: PlannedResource[];
}

const SUPERCLUSTER_AWS = JSON.stringify({
  region: "eu-west-1",
  monitoringCidrs: ["10.60.0.0/16"],
  regions: { "region-1": { region: "us-east-1" } },
});
const pin = (url: string, hex: string) => ({ url, sha256: hex.repeat(64) });
const CANARIES_AWS = JSON.stringify({
  region: "eu-west-1",
  peelCanaries: 2,
  peelCredentials: ["edge-1", "Edge_2"],
  revokedPeels: ["Edge_2"],
  zesterPeel: pin("https://example.com/zester-peel", "a"),
  zesterMaster: pin("https://example.com/zester-master", "b"),
});
const subnet = (n: number, az: string) => ({ id: `subnet-0123456789abcdef${String(n)}`, az });
const OPERATOR_VPC_AWS = JSON.stringify({
  region: "eu-west-1",
  peelCidrs: ["10.0.0.0/8"],
  network: {
    vpcId: "vpc-0123456789abcdef0",
    subnets: [subnet(0, "eu-west-1a"), subnet(1, "eu-west-1b"), subnet(2, "eu-west-1c")],
  },
  leafSites: { edge: { subnets: [subnet(3, "eu-west-1a")] } },
});

/** [what, stack, --set values] */
const VARIANTS: [string, string, string[]][] = [
  ...TIER_EXAMPLES.map(([tier, peels]): [string, string, string[]] => [
    `${tier} (${String(peels)} peels)`,
    "staging",
    [`peels=${String(peels)}`, ...(peels >= 100_000 ? [`aws=${SUPERCLUSTER_AWS}`] : [])],
  ]),
  ["the staging stack as it is", "staging", []],
  ["the prod stack as it is (arm64, two leaf sites)", "prod", []],
  ["peel canaries with Zester binaries", "staging", [`aws=${CANARIES_AWS}`]],
  ["the operator's VPC and leaf-site subnets (60000 peels)", "staging", ["peels=60000", `aws=${OPERATOR_VPC_AWS}`]],
];

const planned = once((what: string): PlanJson => {
  const variant = VARIANTS.find(([w]) => w === what);
  if (variant === undefined) throw new Error(`no variant ${what}`);
  return planOf(variant[1], variant[2]) as PlanJson;
});
const models = loadAwsModels(AWS_API_SERVICES);
const awsResources = (p: PlanJson) => p.resources.filter((r) => r.type.startsWith("aws:"));

beforeAll(() => {
  for (const [what] of VARIANTS) planned(what);
});

test(`the models are botocore's current ones, from Debian sid (${models.manifest.botocore})`, () => {
  expect(models.manifest.debianPackage).toBe("python3-botocore, Debian sid");
  expect(models.manifest.botocore).toMatch(/^\d+\.\d+\.\d+$/);
  expect(Object.keys(models.manifest.services).sort()).toEqual(AWS_API_SERVICES);
});

test("every API member the table names is in the models, and every pattern on it translates", () => {
  const problems: string[] = [];
  for (const [type, table] of Object.entries(AWS_API_MAP))
    for (const [input, field] of Object.entries(table.fields))
      for (const path of apiPathsOf(field))
        try {
          const target = resolveApiPath(models, table.service, path);
          for (const pattern of patternsUnder(models, table.service, target.shape)) javaPattern(pattern);
        } catch (e) {
          problems.push(`${type} ${input}: ${(e as Error).message}`);
        }
  expect(problems).toEqual([]);
});

describe("every AWS input of the plans, against AWS's API models", () => {
  test.each(VARIANTS.map(([what]) => what))("%s", (what) => {
    const p = planned(what);
    const placeholders = deployTimePlaceholders(p.resources);
    const violations = awsResources(p)
      .filter((r) => r.type in AWS_API_MAP)
      .flatMap((r) => checkResource(models, r, placeholders).violations);
    expect(violations.map(describeViolation)).toEqual([]);
  });

  test("the table covers every AWS type and input the plans hold, but for the committed list", () => {
    const uncovered = new Set<string>();
    let checked = 0;
    for (const [what] of VARIANTS) {
      const p = planned(what);
      const placeholders = deployTimePlaceholders(p.resources);
      for (const r of awsResources(p)) {
        if (!(r.type in AWS_API_MAP)) {
          uncovered.add(r.type);
          continue;
        }
        const result = checkResource(models, r, placeholders);
        checked += result.checked;
        for (const path of result.unmapped) uncovered.add(`${r.type} ${path}`);
      }
    }
    expect([...uncovered].sort()).toEqual(Object.keys(NOT_COVERED_YET).sort());
    expect(checked).toBeGreaterThan(1_000);
  });
});

describe("sizes AWS refuses beyond", () => {
  test.each(VARIANTS.map(([what]) => what))("%s: user data ≤ 16 KB raw, each Lambda environment ≤ 4 KB", (what) => {
    const p = planned(what);
    expect(p.resources.some((r) => r.type === "aws:ec2/instance:Instance")).toBe(true);
    expect(sizeViolations(p.resources).map(describeViolation)).toEqual([]);
  });
});

describe("each check refuses what AWS refuses", () => {
  const DLM = "aws:dlm/lifecyclePolicy:LifecyclePolicy";
  const check = (type: string, inputs: Record<string, unknown>) =>
    checkResource(models, { type, name: "bad", inputs }, new Set(["core-0-id"]));

  test("a DLM description with parentheses breaks the description's pattern (AWS refuses the whole value)", () => {
    const result = check(DLM, { description: "Zester JetStream volumes (zester-infra-staging)", state: "ENABLED" });
    expect(result.violations.map(describeViolation)).toEqual([
      `${DLM} bad: input description → dlm CreateLifecyclePolicy.Description breaks pattern [0-9A-Za-z _-]+: ` +
        `"Zester JetStream volumes (zester-infra-staging)"`,
    ]);
    expect(check(DLM, { description: "Zester JetStream volumes of zester-infra-staging" }).violations).toEqual([]);
  });

  test("enums, numeric ranges, lengths and list bounds, nested in lists, each name the input and the member", () => {
    const result = check(DLM, {
      state: "PAUSED",
      policyDetails: {
        schedules: [{ name: "ok", retainRule: { count: 1001 }, createRule: { interval: 24, intervalUnit: "HOURS" } }],
        targetTags: { "zester:backup": "x".repeat(501) },
      },
    });
    expect(result.violations).toEqual([
      {
        resource: `${DLM} bad`,
        input: "state",
        api: "dlm CreateLifecyclePolicy.State",
        rule: "enum ENABLED|DISABLED",
        value: "PAUSED",
      },
      {
        resource: `${DLM} bad`,
        input: "policyDetails.schedules[0].retainRule.count",
        api: "dlm CreateLifecyclePolicy.PolicyDetails.Schedules[].RetainRule.Count",
        rule: "value ≤ 1000",
        value: 1001,
      },
      {
        resource: `${DLM} bad`,
        input: "policyDetails.targetTags.zester:backup",
        api: "dlm CreateLifecyclePolicy.PolicyDetails.TargetTags[].Value",
        rule: "length ≤ 500",
        value: "x".repeat(501),
      },
    ]);
  });

  test("an instance type EC2 does not have, and a Lambda with six security groups and a bad variable name", () => {
    const ec2 = check("aws:ec2/instance:Instance", { instanceType: "c6i.3xlarge", subnetId: "core-0-id" });
    expect(ec2.violations.map(describeViolation)).toEqual([
      expect.stringMatching(
        /^aws:ec2\/instance:Instance bad: input instanceType → ec2 RunInstances\.InstanceType breaks enum of InstanceType \(\d+ values\): "c6i\.3xlarge"$/,
      ),
    ]);
    expect(ec2.deployTime).toBe(1);
    const lambda = check("aws:lambda/function:Function", {
      memorySize: 64,
      vpcConfig: { securityGroupIds: ["sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"] },
      environment: { variables: { "1BAD": "x" } },
    });
    expect(lambda.violations.map((v) => [v.input, v.api, v.rule])).toEqual([
      ["memorySize", "lambda CreateFunction.MemorySize", "value ≥ 128"],
      ["vpcConfig.securityGroupIds", "lambda CreateFunction.VpcConfig.SecurityGroupIds", "items ≤ 5"],
      [
        "environment.variables.1BAD (key)",
        "lambda CreateFunction.Environment.Variables key",
        "pattern [a-zA-Z]([a-zA-Z0-9_])+",
      ],
    ]);
  });

  test("a bound stated alone (a max without a min) still holds: a hosted zone comment over 256 characters", () => {
    const zone = check("aws:route53/zone:Zone", { name: "zester.internal", comment: "c".repeat(257) });
    expect(zone.violations.map((v) => [v.input, v.api, v.rule])).toEqual([
      ["comment", "route53 CreateHostedZone.HostedZoneConfig.Comment", "length ≤ 256"],
    ]);
  });

  test("a converted value is checked as sent, and an input the table does not name is reported", () => {
    const lb = check("aws:lb/loadBalancer:LoadBalancer", { internal: true, loadBalancerType: "classic", ipv6: 1 });
    expect(lb.violations.map((v) => [v.input, v.api, v.rule])).toEqual([
      ["loadBalancerType", "elbv2 CreateLoadBalancer.Type", "enum application|network|gateway"],
    ]);
    expect(lb.unmapped).toEqual(["ipv6"]);
  });

  test("Java patterns: \\p{all}, Unicode classes and escaped punctuation translate; Java-only syntax fails loudly", () => {
    expect(javaPattern("[\\p{all}]*").test("any\nthing ☃")).toBe(true);
    expect(javaPattern("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+").test("zester:role")).toBe(true);
    expect(javaPattern("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+").test("a,b")).toBe(false);
    expect(javaPattern("[0-9A-Za-z\\.\\-_]*(?<!\\.)").test("bucket.")).toBe(false);
    expect(javaPattern("\\_\\ ").test("_ ")).toBe(true);
    expect(javaPattern("\\p{ASCII}+").test("plain")).toBe(true);
    expect(javaPattern("\\p{ASCII}+").test("naïve")).toBe(false);
    expect(() => javaPattern("[a-z]++")).toThrow(/possessive/);
    expect(() => javaPattern("a{2}+")).toThrow(/possessive/);
    expect(() => javaPattern("[a-z&&[^e]]")).toThrow(/cannot translate/);
    expect(() => javaPattern("\\p{javaLowerCase}")).toThrow(/Java-only/);
  });

  test("user data over 16 KB (raw, or base64 in a launch template) and a Lambda environment over 4 KB", () => {
    const big = "#cloud-config\n" + "x".repeat(17 * 1024);
    const found = sizeViolations([
      { type: "aws:ec2/instance:Instance", name: "core-0", inputs: { userData: big } },
      {
        type: "aws:ec2/launchTemplate:LaunchTemplate",
        name: "canary",
        inputs: { userData: Buffer.from(big).toString("base64") },
      },
      {
        type: "aws:lambda/function:Function",
        name: "kv-reconcile",
        inputs: { environment: { variables: { JOB: "y".repeat(4_090) } } },
      },
      // Exactly 16 KB passes.
      { type: "aws:ec2/instance:Instance", name: "core-1", inputs: { userData: "z".repeat(USER_DATA_MAX_BYTES) } },
    ]);
    expect(found.map(describeViolation)).toEqual([
      'aws:ec2/instance:Instance core-0: input userData → ec2 RunInstances.UserData breaks raw size ≤ 16384 bytes (16 KB before base64): "17422 bytes"',
      'aws:ec2/launchTemplate:LaunchTemplate canary: input userData → ec2 CreateLaunchTemplate.LaunchTemplateData.UserData breaks raw size ≤ 16384 bytes (16 KB before base64): "17422 bytes"',
      'aws:lambda/function:Function kv-reconcile: input environment.variables → lambda CreateFunction.Environment.Variables breaks JSON of the variables ≤ 4096 bytes (4 KB in aggregate): "4100 bytes"',
    ]);
  });

  test("an SSM parameter value over 4 KB in the standard tier, or over 8 KB in any", () => {
    const parameter = (name: string, tier: string, bytes: number) => ({
      type: "aws:ssm/parameter:Parameter",
      name,
      inputs: { tier, value: "v".repeat(bytes) },
    });
    const found = sizeViolations([
      parameter("small-standard", "Standard", 4_096),
      parameter("big-standard", "Standard", 4_097),
      parameter("big-tiering", "Intelligent-Tiering", 8_192),
      parameter("too-big", "Intelligent-Tiering", 8_193),
    ]);
    expect(found.map(describeViolation)).toEqual([
      'aws:ssm/parameter:Parameter big-standard: input value → ssm PutParameter.Value breaks ≤ 4096 bytes in the Standard tier: "4097 bytes"',
      'aws:ssm/parameter:Parameter too-big: input value → ssm PutParameter.Value breaks ≤ 8192 bytes in the Intelligent-Tiering tier: "8193 bytes"',
    ]);
  });

  test("a generated password is measured at its real length, not the plan's placeholder", () => {
    const password = {
      type: "random:index/randomPassword:RandomPassword",
      name: "app-password",
      inputs: { length: 32 },
    };
    const at = (job: string) =>
      sizeViolations([
        password,
        { type: "aws:lambda/function:Function", name: "f", inputs: { environment: { variables: { JOB: job } } } },
      ]);
    // {"JOB":"…"} is 10 bytes around the value: 4,054 + a 32-character password is 4,096 exactly.
    const base = "y".repeat(4_096 - 10 - 32);
    expect(at(`${base}app-password-generated-at-deploy`)).toEqual([]);
    expect(at(`${base}yapp-password-generated-at-deploy`)).toHaveLength(1);
  });
});
