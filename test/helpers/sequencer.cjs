// The order test files start in: jest's own (the last run's failures, then the longest by the
// last run's times, else the largest files), except that files whose first comment says `@long`
// start before every other. On a fresh clone jest knows no times, and a chain of transitions
// that takes minutes would otherwise start behind a queue of short files and end the run alone.
const Sequencer = require("@jest/test-sequencer").default;
const { pragmas } = require("./pragmas.cjs");

const isLong = (file) => pragmas(file).has("long");

class LongFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const long = sorted.filter((t) => isLong(t.path));
    return [...long, ...sorted.filter((t) => !long.includes(t))];
  }
}

module.exports = LongFirst;
