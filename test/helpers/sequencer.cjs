// The order test files start in: jest's own (the last run's failures, then the longest by the
// last run's times, else the largest files), except that files whose first comment says `@long`
// start before every other. On a fresh clone jest knows no times, and a chain of transitions
// that takes minutes would otherwise start behind a queue of short files and end the run alone.
const { readFileSync } = require("node:fs");
const Sequencer = require("@jest/test-sequencer").default;

function isLong(file) {
  const head = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, "utf8"))?.[1] ?? "";
  return /^\s*\*?\s*@long\b/m.test(head);
}

class LongFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const long = sorted.filter((t) => isLong(t.path));
    return [...long, ...sorted.filter((t) => !long.includes(t))];
  }
}

module.exports = LongFirst;
