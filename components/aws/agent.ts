/**
 * The agent every AWS server runs (zester-apply.py, a real Python file, checked by Python in the
 * tests): read from the package, as the user data carries it.
 */
import { readFileSync } from "node:fs";

export const AGENT_PROGRAM = "zester-infra/zester-apply.py";

export function agentScript(): string {
  return readFileSync(require.resolve(AGENT_PROGRAM), "utf8");
}
