/**
 * A Lambda function's invocation on the AWS twin, run as a process of a client in the function's
 * subnet (its VPC config): the function's own code (`<dir>/index.js`, the archive the plan
 * declares) loaded as the Node.js runtime loads it, its handler (`index.handler`) called once with
 * the event given (an invocation's input), else a scheduled event, as EventBridge calls it. The environment is the function's, with what Lambda
 * adds: the region and the execution role's credentials. The runtime's AWS SDK is this checkout's
 * `@aws-sdk/client-ssm` (NODE_PATH), standing in for the one Lambda's Node.js runtime ships.
 * Out: the handler's result as JSON on stdout; exit 1 with the error on stderr if it throws.
 */
import path from "node:path";

async function main(): Promise<number> {
  const [dir = "", handler = "index.handler", given] = process.argv.slice(2);
  const dot = handler.lastIndexOf(".");
  const file = path.join(dir, `${handler.slice(0, dot)}.js`);
  const name = handler.slice(dot + 1);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the function's own module, named at run time
  const loaded = require(file) as Record<string, unknown>;
  const fn = loaded[name];
  if (typeof fn !== "function") throw new Error(`Runtime.HandlerNotFound: ${handler} is undefined or not exported`);
  const scheduled = {
    version: "0",
    id: "twin-invocation",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    time: new Date().toISOString(),
    region: process.env.AWS_REGION ?? "",
    resources: [],
    detail: {},
  };
  const event: unknown = given === undefined ? scheduled : JSON.parse(given);
  const result: unknown = await (fn as (event: unknown, context: unknown) => Promise<unknown>)(event, {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? "",
    awsRequestId: "twin-invocation",
  });
  process.stdout.write(`${JSON.stringify(result ?? null)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
