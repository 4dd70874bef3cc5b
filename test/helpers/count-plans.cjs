// Preloaded with `node -r`: counts how often a command-line entry point plans a spec (sizing's
// `plan`) and builds a topology (topology's `build`), and on exit writes what each call was for
// (`{ plan: [peels, …], build: [peels, …] }`) to the file ZESTER_COUNT_FILE names. Every module
// that imports either reads it through the object this hands out in place of the module's own.
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const DIST = path.resolve(__dirname, "..", "..", "dist");
const COUNTED = {
  [path.join(DIST, "sizing", "plan.js")]: { name: "plan", peels: (spec) => spec.peels },
  [path.join(DIST, "topology", "build.js")]: { name: "build", peels: (plan) => plan.peels },
};
const calls = { plan: [], build: [] };
const wrapped = new Map();

const load = Module._load;
Module._load = function countingLoad(request, parent, isMain) {
  const actual = load.call(this, request, parent, isMain);
  if (!request.startsWith(".") || parent === undefined || parent === null) return actual;
  const file = Module._resolveFilename(request, parent, isMain);
  const counted = COUNTED[file];
  if (counted === undefined) return actual;
  if (!wrapped.has(file)) {
    const copy = {};
    for (const key of Object.keys(actual))
      if (key !== counted.name) Object.defineProperty(copy, key, { enumerable: true, get: () => actual[key] });
    const original = actual[counted.name];
    Object.defineProperty(copy, counted.name, {
      enumerable: true,
      value: (...args) => {
        calls[counted.name].push(counted.peels(args[0]));
        return original(...args);
      },
    });
    Object.defineProperty(copy, "__esModule", { value: true });
    wrapped.set(file, copy);
  }
  return wrapped.get(file);
};

process.on("exit", () => {
  const out = process.env.ZESTER_COUNT_FILE;
  if (out !== undefined) fs.writeFileSync(out, JSON.stringify(calls));
});
