/**
 * Reads a SecureString parameter with the AWS SDK that the Lambda Node.js runtime ships
 * (`@aws-sdk/client-ssm`): the reconcile function's credentials are kept in SSM, never in its
 * environment. Loaded only there, at run time: the bundle does not carry the SDK, and nothing
 * else needs it.
 */
import { createRequire } from "node:module";
import { z } from "zod";

const ParameterSchema = z.object({ Parameter: z.object({ Value: z.string().min(1) }) });

interface SsmModule {
  SSMClient: new (config: { region: string }) => { send(command: unknown): Promise<unknown> };
  GetParameterCommand: new (input: { Name: string; WithDecryption: boolean }) => unknown;
}

export async function readSecureParameter(name: string, region: string): Promise<string> {
  const sdk = createRequire(__filename)("@aws-sdk/client-ssm") as SsmModule;
  const client = new sdk.SSMClient({ region });
  const answer = ParameterSchema.parse(
    await client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true })),
  );
  return answer.Parameter.Value.trim();
}
