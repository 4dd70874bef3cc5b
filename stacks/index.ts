// Entry point `pulumi up` runs (Pulumi.yaml `main: stacks/`): the exported object's fields
// are the stack outputs (a promise: the program first reads what the stack deployed last time).
import * as pulumi from "@pulumi/pulumi";
import { ChangeRefused } from "../change/change";
import { ConfigError } from "./config";
import { program, type StackOutputs } from "./program";

async function run(): Promise<StackOutputs> {
  try {
    return await program(pulumi.runtime.allConfig());
  } catch (error) {
    // A RunError prints its message without a stack trace: the message names the key or the risk.
    if (error instanceof ConfigError) throw new pulumi.RunError(`invalid stack config:\n${error.message}`);
    if (error instanceof ChangeRefused) throw new pulumi.RunError(error.message);
    throw error;
  }
}

export = run();
