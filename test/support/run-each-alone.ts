/**
 * Runs every test on its own (`jest FILE -t '^NAME$'`), to find tests that pass only after another test
 * of their file has run. `npm run test:alone -- [options] [path patterns]`; by default the integration and
 * end-to-end tests (unit specs: `test/` → `apps/ libs/` patterns). A test's names come from one run of its
 * whole file (or from `--results FILE`, the `jest --json` output of a run already made).
 *
 *   --results FILE   take the test names from this jest --json output instead of running each file first
 *   --jobs N         test runs at once (default 1: the machine is shared, and files start servers)
 *   --from N         start at the N-th test of the list (to resume a long run)
 *
 * A first Ctrl-C (or SIGTERM) lets the running tests finish and clean up; a second one kills them.
 * Prints each failing test with the end of its output and exits 1 if any failed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..').replace(/\/dist$/, '');
const JEST = join(ROOT, 'node_modules', '.bin', 'jest');

interface JestJson {
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  testResults: {
    name: string;
    message: string;
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
}

interface Options {
  results?: string;
  jobs: number;
  from: number;
  patterns: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { jobs: 1, from: 1, patterns: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--results') options.results = value();
    else if (arg === '--jobs') options.jobs = Math.max(1, Number(value()));
    else if (arg === '--from') options.from = Math.max(1, Number(value()));
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.patterns.push(arg);
  }
  if (options.patterns.length === 0) options.patterns = ['test/integration/', 'test/e2e/'];
  return options;
}

const running = new Set<ChildProcess>();
let stopping = false;

/** Runs jest with `args` and returns its --json report and its output. */
async function jest(
  args: string[],
  scratch: string,
  id: string,
): Promise<{ report?: JestJson; output: string }> {
  const outputFile = join(scratch, `${id}.json`);
  const child = spawn(JEST, [...args, '--json', `--outputFile=${outputFile}`, '--ci'], {
    cwd: ROOT,
    env: { ...process.env, JEST_SLOWEST: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('close', () => running.delete(child));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  if (!existsSync(outputFile)) return { output };
  const report = JSON.parse(readFileSync(outputFile, 'utf8')) as JestJson;
  rmSync(outputFile, { force: true });
  return { report, output };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface TestCase {
  file: string;
  name: string;
}

async function listTests(options: Options, scratch: string): Promise<TestCase[]> {
  const matches = (file: string): boolean => options.patterns.some((p) => file.includes(p));
  const cases: TestCase[] = [];
  const add = (report: JestJson): void => {
    for (const result of report.testResults) {
      // A report written in another checkout names its files there: keep the path inside the repository.
      const inRoot = relative(ROOT, result.name);
      const file = inRoot.startsWith('..') ? result.name.replace(/^.*?\/(?=(test|apps|libs)\/)/, '') : inRoot;
      if (!matches(file)) continue;
      for (const a of result.assertionResults) cases.push({ file, name: a.fullName });
    }
  };
  if (options.results) {
    add(JSON.parse(readFileSync(options.results, 'utf8')) as JestJson);
  } else {
    const { report, output } = await jest(['--testPathPatterns', ...options.patterns], scratch, 'list');
    if (!report) throw new Error(`jest did not report its tests:\n${output}`);
    add(report);
  }
  return cases.sort((a, b) => a.file.localeCompare(b.file));
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), 'townhall-alone-'));
  try {
    const cases = await listTests(options, scratch);
    process.stdout.write(`${cases.length} tests in ${new Set(cases.map((c) => c.file)).size} files\n`);
    const failed: { test: TestCase; why: string }[] = [];
    let next = options.from - 1;
    let runs = 0;
    const started = Date.now();
    // A first Ctrl-C lets the running tests finish (and clean up after themselves); a second one kills them.
    const stop = (): void => {
      if (stopping) for (const child of running) child.kill('SIGKILL');
      stopping = true;
      process.stdout.write(`\nstopping: waiting for ${running.size} running test(s); again to kill them\n`);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const worker = async (): Promise<void> => {
      while (next < cases.length && !stopping) {
        const index = next++;
        runs += 1;
        const test = cases[index];
        const t0 = Date.now();
        const { report, output } = await jest(
          [test.file, '--testNamePattern', `^${escapeRegExp(test.name)}$`],
          scratch,
          String(index),
        );
        const ran =
          report?.testResults.flatMap((r) => r.assertionResults.filter((a) => a.status !== 'pending')) ?? [];
        const passed =
          report !== undefined &&
          report.numFailedTests === 0 &&
          report.numRuntimeErrorTestSuites === 0 &&
          ran.length > 0 &&
          ran.every((a) => a.status === 'passed');
        const seconds = ((Date.now() - t0) / 1000).toFixed(1);
        process.stdout.write(
          `[${index + 1}/${cases.length}] ${passed ? 'ok  ' : 'FAIL'} ${seconds}s ${test.file} › ${test.name}\n`,
        );
        if (!passed) {
          const why =
            report?.testResults
              .map((r) => [r.message, ...r.assertionResults.flatMap((a) => a.failureMessages)].join('\n'))
              .join('\n') || output;
          failed.push({ test, why: ran.length === 0 && report ? 'the name matched no test' : why });
        }
      }
    };
    await Promise.all(Array.from({ length: options.jobs }, worker));
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    process.stdout.write(
      `\n${runs - failed.length} of ${runs} tests run pass alone (${minutes} min)${runs < cases.length ? `; ${cases.length - runs} not run` : ''}\n`,
    );
    for (const { test, why } of failed) {
      process.stdout.write(
        `\nFAILS ALONE: ${test.file} › ${test.name}\n${why.trim().split('\n').slice(0, 40).join('\n')}\n`,
      );
    }
    process.exitCode = failed.length > 0 ? 1 : 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
