/**
 * IAM's evaluation of identity-based policies, as far as the plans use it: a request is allowed
 * when some statement of the role's policies allows its action on its resource and none denies
 * it (an explicit deny wins; nothing allowed is an implicit deny). `Action` and `Resource` match
 * with IAM's wildcards (`*` any run of characters, `?` one), actions case-insensitively.
 * Conditions, `NotAction` and `NotResource` are not evaluated: a statement that has them is
 * refused when the policy is stored, naming it, rather than read wrongly. Pure.
 * (IAM User Guide: "Policy evaluation logic", "IAM JSON policy elements: Action, Resource".)
 */
import { z } from "zod";

const OneOrMany = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const StatementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: OneOrMany,
    Resource: OneOrMany,
  })
  .strict();

export const PolicyDocumentSchema = z.object({
  Version: z.literal("2012-10-17"),
  Statement: z.union([StatementSchema, z.array(StatementSchema)]).transform((v) => (Array.isArray(v) ? v : [v])),
});
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;

/** A policy document's text read as IAM reads it; an element the twin does not evaluate is an error naming it. */
export function parsePolicy(text: string, where: string): PolicyDocument {
  const parsed = PolicyDocumentSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(
      `${where}: a policy the twin cannot evaluate (it reads Version 2012-10-17, Effect, Action and Resource only): ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

function wildcard(pattern: string, flags = ""): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, flags);
}

export type Decision = "allowed" | "explicit-deny" | "implicit-deny";

/** IAM's decision for `action` on `resource` under `policies`. */
export function evaluate(policies: readonly PolicyDocument[], action: string, resource: string): Decision {
  let allowed = false;
  for (const policy of policies)
    for (const statement of policy.Statement) {
      const acts = statement.Action.some((a) => wildcard(a, "i").test(action));
      const on = statement.Resource.some((r) => wildcard(r).test(resource));
      if (!acts || !on) continue;
      if (statement.Effect === "Deny") return "explicit-deny";
      allowed = true;
    }
  return allowed ? "allowed" : "implicit-deny";
}
