/** The README's stack config table, rendered from the schema so the two cannot drift. */
import { NAMESPACE, STACK_KEYS } from "./config";

export function stackConfigTable(): string {
  const rows = Object.entries(STACK_KEYS).map(
    ([key, entry]) =>
      `| \`${NAMESPACE}:${key}\` | ${entry.type} | ${entry.required ? "yes" : "no"} | ${entry.description} |`,
  );
  return ["| key | type | required | what it does |", "|---|---|---|---|", ...rows].join("\n");
}
