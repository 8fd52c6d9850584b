import { ConsoleLogger, LogLevel } from '@nestjs/common';
import Table from 'cli-table3';
import {
  ConfigValidationError,
  parseStrictInteger,
  TownhallConfig,
  TownhallError,
  visibleLines,
  visibleText,
} from '@townhall/core';
import { StartupError } from '@townhall/platform';

/**
 * How the CLI talks to people and scripts: results on stdout (a table, or JSON with `--json`), progress,
 * warnings and errors on stderr, one line each, never a stack trace. Exit codes: 0 done, 1 the operation
 * failed, 2 the command line or the configuration is wrong.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A failure the CLI itself detects (a wait that timed out, tenants that failed to migrate). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A command that has already said why it failed and only needs its exit status to stand. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

export class CliUsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'CliUsageError';
  }
}

/** Thrown from option parsers; commander recognises the code and reports the option and value itself. */
export class InvalidOptionValue extends Error {
  readonly code = 'commander.invalidArgument';
  readonly exitCode = EXIT_USAGE;
}

export function positiveIntegerOption(value: string, max: number, min = 1): number {
  const parsed = parseStrictInteger(value);
  if (parsed === undefined || parsed < min || parsed > max) {
    throw new InvalidOptionValue(`It must be an integer from ${min} to ${max}, in decimal digits.`);
  }
  return parsed;
}

/** An option value under a rule of the use cases: its normalised form, or commander's usage error. */
export function checkedOption<T extends { problem?: string }>(check: T): Exclude<T, { problem: string }> {
  if (check.problem !== undefined) throw new InvalidOptionValue(`${check.problem}.`);
  return check as Exclude<T, { problem: string }>;
}

/**
 * The text after a command's options in its `--help`: optional paragraphs, then its examples, one
 * `  $ townhall …` line each (a "\n" inside an example continues it on an indented line).
 */
export function helpText(examples: string[], about: string[] = []): string {
  return [
    '',
    ...(about.length > 0 ? [...about, ''] : []),
    'Examples:',
    ...examples.map((example) => `  $ ${example.replace(/\n/g, '\n      ')}`),
    '',
  ].join('\n');
}

// Everything the CLI prints goes through these functions, and each shows control, escape, bidi and
// invisible characters as `\u{…}` (`visibleText`): stored text comes from other people (a display name
// sent to the API), and raw it could rewrite the operator's terminal or reorder what they read.

export function printLine(line = ''): void {
  process.stdout.write(`${visibleText(line)}\n`);
}

/** A line for people on stderr: progress, warnings, errors. */
export function notice(line: string): void {
  process.stderr.write(`${visibleLines(line)}\n`);
}

/** JSON on stdout, with the characters `visibleText` escapes written as JSON escapes: the same JSON. */
export function printJson(value: unknown): void {
  process.stdout.write(`${visibleText(JSON.stringify(value, null, 2), jsonEscape)}\n`);
}

/** A JSON escape for each UTF-16 unit; the line breaks of pretty-printing stay (strings hold none raw). */
function jsonEscape(character: string): string {
  if (character === '\n') return character;
  return Array.from(
    { length: character.length },
    (_, i) => `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`,
  ).join('');
}

export function printTable(head: string[], rows: (string | number | null | undefined)[][]): void {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map(cellText));
  process.stdout.write(`${table.toString()}\n`);
}

export function printFields(fields: [string, string | number | null | undefined][]): void {
  const table = new Table({ style: { head: [], border: [] } });
  for (const [name, value] of fields) table.push({ [name]: cellText(value) });
  process.stdout.write(`${table.toString()}\n`);
}

function cellText(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : visibleText(String(value));
}

interface CommanderFailure {
  code: string;
  exitCode: number;
}

function isCommanderFailure(err: unknown): err is CommanderFailure {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('commander.');
}

/** Prints an error the way the CLI promises and returns the exit code it maps to. */
export function reportError(err: unknown): number {
  if (isCommanderFailure(err)) {
    // Commander has already printed its message or the help; help that was asked for exits 0.
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (err instanceof ConfigValidationError) {
    for (const problem of err.problems) notice(`error: configuration: ${problem}`);
    return EXIT_USAGE;
  }
  if (err instanceof StartupError) {
    for (const problem of err.problems) notice(`error: cannot start: ${problem}`);
    return EXIT_FAILED;
  }
  if (err instanceof CliExit) return err.exitCode;
  if (err instanceof CliError) {
    notice(`error: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof TownhallError) {
    // A detail that already starts with the title (Mastodon's "Validation failed: …") is not repeated.
    const detail = err.detail ?? err.code;
    notice(`error: ${detail.startsWith(err.spec.title) ? detail : `${err.spec.title}: ${detail}`}`);
    return EXIT_FAILED;
  }
  const message = err instanceof Error ? err.message : String(err);
  notice(`error: ${message}`);
  if (['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '') && err instanceof Error && err.stack)
    notice(err.stack);
  return EXIT_FAILED;
}

/**
 * Nest's console logger, but on stderr so stdout stays clean for `--json`. One-shot commands show
 * warnings and errors only, unless LOG_LEVEL asks for more detail (debug, trace) or less (error, silent).
 */
export class StderrLogger extends ConsoleLogger {
  constructor(config: TownhallConfig) {
    super({
      prefix: 'townhall',
      logLevels: cliLogLevels(config.log.level),
      colors: process.stderr.isTTY === true,
    });
  }

  protected override printMessages(messages: unknown[], context?: string, logLevel?: LogLevel): void {
    super.printMessages(messages, context, logLevel, 'stderr');
  }
}

function cliLogLevels(level: string): LogLevel[] {
  switch (level) {
    case 'silent':
      return [];
    case 'fatal':
      return ['fatal'];
    case 'error':
      return ['fatal', 'error'];
    case 'debug':
      return ['fatal', 'error', 'warn', 'log', 'debug'];
    case 'trace':
      return ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
    default:
      return ['fatal', 'error', 'warn'];
  }
}
