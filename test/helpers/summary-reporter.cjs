// Ends a run with the ten slowest test files (where the next speed-up is) and one plain line,
// "tests: N passed, N failed[, N skipped]", that tools reading the output can count without
// knowing Jest's format. Jest runs its own summary reporter after the configured ones, so both
// are written once the process is about to exit.
const path = require("node:path");

const SLOWEST = 10;

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.workers = globalConfig.maxWorkers;
    this.files = [];
  }

  onTestFileResult(test, result) {
    const seconds = (result.perfStats.end - result.perfStats.start) / 1000;
    this.files.push({ file: path.relative(this.rootDir, test.path), seconds });
  }

  onRunComplete(_contexts, results) {
    const slowest = [...this.files].sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST);
    const width = Math.max(0, ...slowest.map((f) => f.file.length));
    const table = slowest.map((f) => `  ${f.file.padEnd(width)}  ${f.seconds.toFixed(1).padStart(6)} s\n`).join("");
    const wall = (Date.now() - results.startTime) / 1000;
    const head = `slowest test files (${String(this.workers)} workers, ${wall.toFixed(0)} s in all):\n`;
    const skipped = results.numPendingTests + results.numTodoTests;
    const tail = skipped > 0 ? `, ${skipped} skipped` : "";
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${tail}\n`;
    process.once("exit", () => process.stderr.write(`${slowest.length > 0 ? head + table : ""}${line}`));
  }
}
module.exports = SummaryReporter;
