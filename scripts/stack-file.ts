/** Reads a stack's config file the way the Pulumi engine hands config to a program. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { NAMESPACE } from "../stacks/config";
import { repoRoot } from "../local/repo-root";
import { UsageError } from "./cli";

const StackFileSchema = z.object({ config: z.record(z.string(), z.unknown()).optional() }).passthrough();

const ProjectFileSchema = z.object({ name: z.string() }).passthrough();

/** Config values as the Pulumi engine hands them to a program: strings, structured ones as JSON. */
export function stackConfig(stack: string, sets: string[]): { project: string; config: Record<string, string> } {
  const root = repoRoot();
  const project = ProjectFileSchema.parse(parseYaml(readFileSync(path.join(root, "Pulumi.yaml"), "utf8"))).name;
  const file = path.join(root, "stacks", `Pulumi.${stack}.yaml`);
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !existsSync(file)) {
    throw new UsageError(`--stack: no stack "${stack}"; there is no stacks/Pulumi.${stack}.yaml`);
  }
  const parsed = StackFileSchema.safeParse(parseYaml(readFileSync(file, "utf8")) ?? {});
  if (!parsed.success) throw new UsageError(`stacks/Pulumi.${stack}.yaml: "config" must be a map of keys to values`);
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed.data.config ?? {})) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set: expected key=value; got ${JSON.stringify(set)}`);
    const key = set.slice(0, eq);
    config[key.includes(":") ? key : `${NAMESPACE}:${key}`] = set.slice(eq + 1);
  }
  return { project, config };
}
