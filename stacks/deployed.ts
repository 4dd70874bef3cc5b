/**
 * What this stack deployed last time, read before anything is created: its own `deployment`
 * output, through a StackReference to itself (the engine answers with the last update's outputs;
 * none on the first). A stack last updated before that output existed has `peels` only: what it
 * deployed is then rebuilt from that count and today's settings, with every server marked as
 * configured through its user data (the way that version did).
 */
import * as pulumi from "@pulumi/pulumi";
import { DeploymentSchema, LEGACY_HOST, type Deployment } from "../change/deployment";

export interface Deployed {
  /** The stack's `deployment` output. */
  deployment?: Deployment;
  /** A stack from before that output: its `peels` output. */
  legacyPeels?: number;
  /** The stack's `transition` output: a tier transition under way (checked by stacks/transition.ts). */
  transition?: unknown;
}

/** The StackReference's logical name (shown by `pulumi preview` as a read). */
export const SELF_REFERENCE = "zester-deployed";

export async function deployedBySelf(): Promise<Deployed> {
  const self = new pulumi.StackReference(SELF_REFERENCE, {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const read = async (name: string): Promise<unknown> => {
    const details = await self.getOutputDetails(name);
    return details.value ?? details.secretValue;
  };
  const deployment: unknown = await read("deployment");
  if (deployment !== undefined) {
    const parsed = DeploymentSchema.safeParse(deployment);
    if (!parsed.success)
      throw new Error(
        `the stack's last "deployment" output is not one this version reads (${parsed.error.issues[0]?.message ?? "invalid"} at ${parsed.error.issues[0]?.path.join(".") ?? ""}); nothing was changed`,
      );
    const transition = await read("transition");
    return { deployment: parsed.data, ...(transition === undefined ? {} : { transition }) };
  }
  const peels: unknown = await read("peels");
  return typeof peels === "number" ? { legacyPeels: peels } : {};
}

/** A deployment rebuilt for a stack from before the record: every server configured by user data. */
export function asLegacy(rebuilt: Deployment): Deployment {
  return { ...rebuilt, servers: rebuilt.servers.map((s) => ({ ...s, host: `${LEGACY_HOST} ${s.host}` })) };
}
