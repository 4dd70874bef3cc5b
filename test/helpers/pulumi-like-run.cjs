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
    { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
    "zester-infra",
    "test",
    false,
  )
  .then(() => {
    const outputs = require(path.join(root, "stacks") + path.sep);
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
