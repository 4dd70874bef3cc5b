// Ends a run with one plain line, "tests: N passed, N failed[, N skipped]", that tools reading
// the output can count without knowing Jest's format. Jest runs its own summary reporter after
// the configured ones, so the line is written once the process is about to exit.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const tail = skipped > 0 ? `, ${skipped} skipped` : "";
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${tail}\n`;
    process.once("exit", () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
