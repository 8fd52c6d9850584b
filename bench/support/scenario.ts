import type { MachineInfo } from './machine';
import type { BenchOptions, OptionSpec } from './options';

/** One row of the printed table. Durations in milliseconds; `rate` is per second. */
export interface ResultRow {
  measurement: string;
  n: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  rate?: string;
  note?: string;
}

export interface ScenarioReport {
  rows: ResultRow[];
  /** Lines printed under the table: ratios, goals, caveats. */
  conclusions: string[];
  /** Everything else worth keeping in the JSON file (summaries, raw samples). */
  data: Record<string, unknown>;
  /** Facts about the machine and database, filled by the scenario that knows which database it used. */
  machine: MachineInfo;
}

export interface ScenarioContext {
  options: BenchOptions;
  log: (line: string) => void;
}

/** A benchmark the runner can dispatch with `--scenario <name>`. Add one to `scenarios/index.ts`. */
export interface Scenario {
  name: string;
  description: string;
  options: readonly OptionSpec[];
  run(ctx: ScenarioContext): Promise<ScenarioReport>;
}
