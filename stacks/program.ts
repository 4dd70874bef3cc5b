/**
 * The Pulumi program: config in, stack outputs out. Until a target's components exist it
 * registers no resource; `pulumi preview` shows the tier through the outputs.
 */
import { plan, SpecError, type SizingPlan } from "../sizing";
import { ConfigError, readStackConfig, type Target } from "./config";

export interface StackOutputs {
  target: Target;
  tier: SizingPlan["tier"];
  peels: number;
  topology: SizingPlan["topology"];
  serversPerCluster: number;
  totalServers: number;
  /** The whole sizing plan, as the calculator's `--json` prints it. */
  sizing: SizingPlan;
}

/** Throws ConfigError (naming the `zester:*` key) before anything is created. */
export function program(config: Record<string, string>): StackOutputs {
  const { target, sizing: spec } = readStackConfig(config);
  let sizing: SizingPlan;
  try {
    sizing = plan(spec);
  } catch (error) {
    if (error instanceof SpecError) throw new ConfigError(error.problems);
    throw error;
  }
  return {
    target,
    tier: sizing.tier,
    peels: sizing.peels,
    topology: sizing.topology,
    serversPerCluster: sizing.serversPerCluster,
    totalServers: sizing.totalServers,
    sizing,
  };
}
