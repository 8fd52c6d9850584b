/**
 * Ends a jest run with the slowest test files (wall time of each, as its worker saw it), the run's wall
 * time, and one plain line, "jest: N passed, N failed[, N skipped]", so tools that read the closing line of a test
 * run understand jest's result without parsing its table. `JEST_SLOWEST=N` prints N files (default 10;
 * 0 none).
 */
class SummaryReporter {
  onRunStart() {
    this.started = Date.now();
  }

  onRunComplete(_contexts, results) {
    const count = Number(process.env.JEST_SLOWEST ?? 10);
    const files = results.testResults
      .map((r) => ({ path: r.testFilePath, ms: r.perfStats.end - r.perfStats.start }))
      .filter((f) => Number.isFinite(f.ms) && f.ms > 0)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, count);
    if (files.length > 0) {
      const root = `${process.cwd()}/`;
      process.stdout.write('\nslowest files:\n');
      for (const f of files)
        process.stdout.write(`${(f.ms / 1000).toFixed(1).padStart(7)} s  ${f.path.replace(root, '')}\n`);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const seconds = ((Date.now() - (this.started ?? results.startTime)) / 1000).toFixed(1);
    process.stdout.write(`\nwall time: ${seconds} s\n`);
    process.stdout.write(
      `\njest: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
  }
}
module.exports = SummaryReporter;
