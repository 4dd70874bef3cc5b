/**
 * Size limits AWS applies that its API models do not state.
 *
 * - EC2 user data: "User data is limited to 16 KB, in raw form, before it is base64-encoded"
 *   (Amazon EC2 User Guide, "Work with instance user data",
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html).
 *   An instance's `userData` is the raw text (the provider encodes it); a launch template's is
 *   base64 already (RequestLaunchTemplateData.UserData: "You must provide base64-encoded text.
 *   User data is limited to 16 KB."), so it is decoded before it is measured.
 * - Lambda environment: "4 KB, for all environment variables associated with the function, in
 *   aggregate" (AWS Lambda Developer Guide, "Lambda quotas",
 *   https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). What is measured
 *   is the compact JSON of the Variables map, keys and values: Lambda's refusal
 *   (InvalidParameterValueException "… exceeded the 4KB limit. String measured:
 *   {"KEY":"value",…}") prints the string it measured, and LocalStack reproduces it as
 *   `json.dumps(variables, separators=(",", ":"))` in UTF-8 > 4096 bytes
 *   (localstack/localstack, localstack/services/lambda_/provider.py, `_verify_env_variables`).
 * - SSM parameter values: 4 KB in the standard tier, 8 KB in the advanced one ("Parameter value
 *   size": Systems Manager service quotas,
 *   https://docs.aws.amazon.com/general/latest/gr/ssm.html). Intelligent-Tiering stores a value
 *   over 4 KB as advanced, so 8 KB is the most a parameter of this project can hold.
 */
import type { PlannedResource, Violation } from "./aws-api-check";

export const USER_DATA_MAX_BYTES = 16 * 1024;
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4 * 1024;
export const SSM_STANDARD_VALUE_MAX_BYTES = 4 * 1024;
export const SSM_ADVANCED_VALUE_MAX_BYTES = 8 * 1024;

/**
 * The plan shows a generated password as `<name>-generated-at-deploy`; user data carries the real
 * one, of the RandomPassword's `length`. Measuring the placeholder would be off by the difference.
 */
function withPasswordsAtLength(text: string, resources: PlannedResource[]): string {
  let out = text;
  for (const r of resources) {
    if (r.type !== "random:index/randomPassword:RandomPassword") continue;
    const length = r.inputs.length;
    if (typeof length !== "number") throw new Error(`RandomPassword ${r.name} has no numeric length`);
    out = out.replaceAll(`${r.name}-generated-at-deploy`, "x".repeat(length));
  }
  return out;
}

const USER_DATA_OF: Record<string, { api: string; base64: boolean }> = {
  "aws:ec2/instance:Instance": { api: "ec2 RunInstances.UserData", base64: false },
  "aws:ec2/launchTemplate:LaunchTemplate": {
    api: "ec2 CreateLaunchTemplate.LaunchTemplateData.UserData",
    base64: true,
  },
};

/** The raw user data of every instance and launch template, and each Lambda's environment. */
export function sizeViolations(resources: PlannedResource[]): Violation[] {
  const found: Violation[] = [];
  for (const r of resources) {
    const resource = `${r.type} ${r.name}`;
    const userData = USER_DATA_OF[r.type];
    if (userData !== undefined && r.inputs.userData !== undefined) {
      const given = r.inputs.userData;
      if (typeof given !== "string") throw new Error(`${resource}: userData is not a string`);
      const raw = userData.base64 ? Buffer.from(given, "base64").toString("utf8") : given;
      const bytes = Buffer.byteLength(withPasswordsAtLength(raw, resources));
      if (bytes > USER_DATA_MAX_BYTES)
        found.push({
          resource,
          input: "userData",
          api: userData.api,
          rule: `raw size ≤ ${USER_DATA_MAX_BYTES} bytes (16 KB before base64)`,
          value: `${bytes} bytes`,
        });
    }
    if (r.type === "aws:ssm/parameter:Parameter") {
      const value = r.inputs.value;
      if (typeof value !== "string") throw new Error(`${resource}: value is not a string`);
      const bytes = Buffer.byteLength(withPasswordsAtLength(value, resources));
      const tier = typeof r.inputs.tier === "string" ? r.inputs.tier : "Standard";
      const max = tier === "Standard" ? SSM_STANDARD_VALUE_MAX_BYTES : SSM_ADVANCED_VALUE_MAX_BYTES;
      if (bytes > max)
        found.push({
          resource,
          input: "value",
          api: "ssm PutParameter.Value",
          rule: `≤ ${max} bytes in the ${tier} tier`,
          value: `${bytes} bytes`,
        });
    }
    if (r.type === "aws:lambda/function:Function") {
      const variables = (r.inputs.environment as { variables?: Record<string, unknown> } | undefined)?.variables;
      if (variables === undefined) continue;
      const measured = withPasswordsAtLength(JSON.stringify(variables), resources);
      const bytes = Buffer.byteLength(measured);
      if (bytes > LAMBDA_ENVIRONMENT_MAX_BYTES)
        found.push({
          resource,
          input: "environment.variables",
          api: "lambda CreateFunction.Environment.Variables",
          rule: `JSON of the variables ≤ ${LAMBDA_ENVIRONMENT_MAX_BYTES} bytes (4 KB in aggregate)`,
          value: `${bytes} bytes`,
        });
    }
  }
  return found;
}
