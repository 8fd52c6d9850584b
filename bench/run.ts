import Table from 'cli-table3';
import { SCENARIOS } from './scenarios';
import { machineInfo } from './support/machine';
import { BenchUsageError, OptionSpec, parseOptions, usage } from './support/options';
import { writeResult } from './support/results';
import type { ResultRow, Scenario } from './support/scenario';

/**
 * `npm run bench [-- --scenario <name>|all] [scenario options]`: runs the chosen scenarios one after
 * the other, prints a table for each and writes its results to bench/results/<scenario>-<timestamp>.json.
 */
const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: 'scenario',
    kind: 'string',
    default: 'all',
    description: `which scenario: ${SCENARIOS.map((s) => s.name).join(', ')} or all`,
  },
  { name: 'keep', kind: 'flag', description: 'keep the bench database afterwards' },
  { name: 'help', kind: 'flag', description: 'show this help' },
];

function allOptions(): OptionSpec[] {
  const seen = new Map<string, OptionSpec>();
  for (const spec of [...GLOBAL_OPTIONS, ...SCENARIOS.flatMap((s) => s.options)])
    if (!seen.has(spec.name)) seen.set(spec.name, spec);
  return [...seen.values()];
}

function helpText(): string {
  return [
    'Usage: npm run bench -- [options]',
    '',
    usage(GLOBAL_OPTIONS),
    ...SCENARIOS.flatMap((s) => ['', `Scenario "${s.name}": ${s.description}`, usage(s.options)]),
    '',
    'Environment: BENCH_DATABASE_URL (default postgres://127.0.0.1:5432/townhall_bench; dropped and recreated),',
    'REDIS_URL, TOWNHALL_PROVISIONING_CONCURRENCY, DATABASE_POOL_SIZE.',
  ].join('\n');
}

function printTable(rows: ResultRow[]): void {
  const table = new Table({
    head: ['measurement', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'rate', 'note'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [] },
  });
  const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : v.toFixed(1));
  for (const r of rows)
    table.push([
      r.measurement,
      r.n,
      fmt(r.p50),
      fmt(r.p95),
      fmt(r.p99),
      fmt(r.max),
      r.rate ?? '',
      r.note ?? '',
    ]);
  console.log(table.toString());
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), allOptions());
  if (options.flag('help')) {
    console.log(helpText());
    return 0;
  }
  const wanted = options.string('scenario');
  const chosen: readonly Scenario[] =
    wanted === 'all' ? SCENARIOS : SCENARIOS.filter((s) => s.name === wanted);
  if (chosen.length === 0)
    throw new BenchUsageError(
      `Unknown scenario "${wanted}"; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );

  for (const scenario of chosen) {
    const startedAt = new Date();
    const log = (line: string) => console.log(`[${scenario.name}] ${line}`);
    log(`started ${startedAt.toISOString()}`);
    const scenarioOptions = options.forScenario(scenario.options);
    const report = await scenario.run({ options: scenarioOptions, log });
    const finishedAt = new Date();
    printTable(report.rows);
    for (const line of report.conclusions) console.log(line);
    const file = writeResult(scenario.name, startedAt, {
      scenario: scenario.name,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      options: scenarioOptions.toJSON(),
      machine: report.machine,
      loadAverageAtEnd: (await machineInfo()).loadAverage,
      table: report.rows,
      conclusions: report.conclusions,
      ...report.data,
    });
    log(
      `finished in ${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s; results in ${file}`,
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BenchUsageError) {
      console.error(`${err.message}\n\n${helpText()}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
