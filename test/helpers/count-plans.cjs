// Preloaded with `node -r`: counts how often a command-line entry point plans a spec (sizing's
// `plan` or `planSpec`, whichever it calls) and builds a topology (topology's `build`), and on exit
// writes the peel count of each call (`{ plan: [peels, …], build: [peels, …] }`) to the file
// ZESTER_COUNT_FILE names. Every module that imports them reads them through the object this hands
// out in place of the module's own (a call inside the module itself, plan → planSpec, is not seen).
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const DIST = path.resolve(__dirname, "..", "..", "dist");
const calls = { plan: [], build: [] };
/** By compiled module: which of its exports count as what, and the peel count of a call. */
const COUNTED = {
  [path.join(DIST, "sizing", "plan.js")]: {
    plan: { as: "plan", peels: (spec) => spec.peels },
    planSpec: { as: "plan", peels: (spec) => spec.peels },
  },
  [path.join(DIST, "topology", "build.js")]: { build: { as: "build", peels: (plan) => plan.peels } },
};
const wrapped = new Map();

function counting(actual, counted) {
  const copy = {};
  for (const key of Object.keys(actual)) {
    const count = counted[key];
    Object.defineProperty(
      copy,
      key,
      count === undefined
        ? { enumerable: true, get: () => actual[key] }
        : {
            enumerable: true,
            value: (...args) => {
              calls[count.as].push(count.peels(args[0]));
              return actual[key](...args);
            },
          },
    );
  }
  Object.defineProperty(copy, "__esModule", { value: true });
  return copy;
}

const load = Module._load;
Module._load = function countingLoad(request, parent, isMain) {
  const actual = load.call(this, request, parent, isMain);
  if (!request.startsWith(".") || parent === undefined || parent === null) return actual;
  const file = Module._resolveFilename(request, parent, isMain);
  const counted = COUNTED[file];
  if (counted === undefined) return actual;
  if (!wrapped.has(file)) wrapped.set(file, counting(actual, counted));
  return wrapped.get(file);
};

process.on("exit", () => {
  const out = process.env.ZESTER_COUNT_FILE;
  if (out !== undefined) fs.writeFileSync(out, JSON.stringify(calls));
});
