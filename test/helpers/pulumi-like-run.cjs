// Loads the Pulumi program the way the Pulumi CLI's Node.js host does for `typescript: true`:
// ts-node with the project's tsconfig.json and type-checking on, `require(main)` on the
// directory. Pulumi's mocks stand in for the engine. Prints the stack outputs as JSON.
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
process.chdir(root);
require("ts-node").register({ project: path.join(root, "tsconfig.json"), transpileOnly: false });
const pulumi = require("@pulumi/pulumi");

pulumi.runtime.setAllConfig(JSON.parse(process.env.ZESTER_TEST_CONFIG ?? "{}"));
pulumi.runtime
  .setMocks(
    {
      // The stack reads back its own last outputs first: a new stack has none.
      newResource: (a) =>
        a.type === "pulumi:pulumi:StackReference"
          ? { id: a.name, state: { name: a.inputs.name, outputs: {}, secretOutputNames: [] } }
          : { id: `${a.name}-id`, state: a.inputs },
      call: (a) => a.inputs,
    },
    "zester-infra",
    "test",
    false,
    "organization",
  )
  // The entry point exports a promise of the outputs, as the engine awaits it.
  .then(() => Promise.resolve(require(path.join(root, "stacks") + path.sep)))
  .then((outputs) => {
    // As the engine does: wait for every registration before the program is done.
    return pulumi.runtime.disconnect().then(() => {
      process.stdout.write(JSON.stringify({ tier: outputs.tier, target: outputs.target }));
      process.exit(0);
    });
  })
  .catch((error) => {
    process.stderr.write(String(error && error.message));
    process.exit(1);
  });
