// Preloaded with `node -r`: on exit, reports how many modules of @pulumi/* the process loaded.
const fs = require("node:fs");
process.on("exit", () => {
  const loaded = Object.keys(require.cache).filter((k) => k.includes(`node_modules${require("node:path").sep}@pulumi`));
  fs.writeSync(2, `\nPULUMI_MODULES_LOADED=${loaded.length}\n`);
});
