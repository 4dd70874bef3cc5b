/**
 * The stack's program as the twins' `up` runs it: the stack file and `--set`s read as `plan` reads
 * them, the program run under Pulumi's mocks with the twin's plan-time answers (the twin itself
 * never loads the program: twin/daemon/target.ts).
 */
import type { StackPlanner } from "../twin/daemon/target";
import { runProgramWithMocks } from "./plan-mocks";
import { stackConfig } from "./stack-file";

export const planStack: StackPlanner = async (request) => {
  const { project, config } = stackConfig(request.stack, request.set);
  const planned = await runProgramWithMocks<Record<string, unknown>>(project, request.stack, config, {
    answer: request.answer,
    // The twin runs what the plan declares, a function's code included.
    keepAssets: true,
    ...(request.previousOutputs === undefined ? {} : { previousOutputs: request.previousOutputs }),
    ...(request.transitionReport === undefined ? {} : { transitionReport: request.transitionReport }),
  });
  return { outputs: planned.outputs, resources: planned.resources };
};
