// Entry point `pulumi up` runs (Pulumi.yaml `main: stacks/`): the exported object's fields
// are the stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config";
import { program, type StackOutputs } from "./program";

function run(): StackOutputs {
  try {
    return program(pulumi.runtime.allConfig());
  } catch (error) {
    // A RunError prints its message without a stack trace: the message names the key.
    if (error instanceof ConfigError) throw new pulumi.RunError(`invalid stack config:\n${error.message}`);
    throw error;
  }
}

export = run();
