/**
 * Command-line options of the bench runner: `--name value` for numbers, `--name` for flags. Each
 * scenario declares the options it reads, so `--help` lists them and a mistyped option is refused
 * rather than silently ignored.
 */
export interface OptionSpec {
  name: string;
  description: string;
  kind: 'int' | 'flag' | 'string';
  default?: number | string;
  min?: number;
  max?: number;
}

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export class BenchOptions {
  constructor(
    private readonly values: ReadonlyMap<string, string | true>,
    private readonly specs: readonly OptionSpec[],
  ) {}

  int(name: string): number {
    const spec = this.spec(name, 'int');
    const raw = this.values.get(name);
    if (raw === undefined) return spec.default as number;
    const min = spec.min ?? 0;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    if (raw === true || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new BenchUsageError(`--${name} must be an integer from ${min} to ${max}`);
    }
    return Number(raw);
  }

  flag(name: string): boolean {
    this.spec(name, 'flag');
    return this.values.get(name) === true;
  }

  string(name: string): string {
    const spec = this.spec(name, 'string');
    const raw = this.values.get(name);
    if (raw === true) throw new BenchUsageError(`--${name} needs a value`);
    return raw ?? (spec.default as string);
  }

  /** The options as given or defaulted, for the results file. */
  toJSON(): Record<string, number | string | boolean> {
    return Object.fromEntries(
      this.specs.map((s) => [
        s.name,
        s.kind === 'int' ? this.int(s.name) : s.kind === 'flag' ? this.flag(s.name) : this.string(s.name),
      ]),
    );
  }

  /**
   * The same values read with a scenario's own declarations first: two scenarios may declare an option
   * of the same name with different defaults and bounds (`--connections`), and each gets its own.
   */
  forScenario(specs: readonly OptionSpec[]): BenchOptions {
    return new BenchOptions(this.values, [...specs, ...this.specs]);
  }

  private spec(name: string, kind: OptionSpec['kind']): OptionSpec {
    const spec = this.specs.find((s) => s.name === name && s.kind === kind);
    if (!spec) throw new Error(`Option --${name} (${kind}) is not declared`);
    return spec;
  }
}

export function parseOptions(argv: readonly string[], specs: readonly OptionSpec[]): BenchOptions {
  const values = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new BenchUsageError(`Unexpected argument "${arg}"`);
    const spec = specs.find((s) => s.name === m[1]);
    if (!spec) throw new BenchUsageError(`Unknown option --${m[1]} (see --help)`);
    if (spec.kind === 'flag') {
      values.set(spec.name, true);
    } else {
      const value = m[2] ?? argv[++i];
      if (value === undefined) throw new BenchUsageError(`--${spec.name} needs a value`);
      values.set(spec.name, value);
    }
  }
  const options = new BenchOptions(values, specs);
  options.toJSON(); // validates every value now, before any work starts
  return options;
}

export function usage(specs: readonly OptionSpec[]): string {
  const left = (s: OptionSpec) => `  --${s.name}${s.kind === 'flag' ? '' : ' <n>'}`;
  const width = Math.max(...specs.map((s) => left(s).length)) + 2;
  return specs
    .map(
      (s) =>
        `${left(s).padEnd(width)}${s.description}${s.default === undefined ? '' : ` (default ${s.default})`}`,
    )
    .join('\n');
}
