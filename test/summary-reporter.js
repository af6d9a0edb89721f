// Prints one plain closing line per Jest run, `jest: N passed, N failed, N skipped`, so that
// tools reading the output find the counts without knowing Jest's own summary format.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const skipped = numPendingTests + numTodoTests;
    process.stdout.write(
      `jest: ${numPassedTests} passed, ${numFailedTests} failed, ${skipped} skipped\n`,
    );
  }
}

module.exports = SummaryReporter;
