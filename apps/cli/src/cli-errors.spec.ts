import { ConfigValidationError, CoreError, loadConfig } from '@townhall/core';
import { StartupError } from '@townhall/platform';
import { ProvisioningError } from '@townhall/provisioning';
import {
  CliError,
  CliExit,
  CliUsageError,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  InvalidOptionValue,
  reportError,
  StderrLogger,
} from './cli-output';

/**
 * docs/operations.md: exit codes `0` success, `1` the operation failed (`error: <title>: <detail>`), `2`
 * usage or configuration problem; one line per problem on stderr, never a stack trace.
 */
describe('reportError', () => {
  let err: string[];

  beforeEach(() => {
    err = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    jest.spyOn(process.stdout, 'write').mockImplementation(() => {
      throw new Error('an error is never printed on stdout');
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
    delete process.env.LOG_LEVEL;
  });

  it('prints a use case’s refusal as its title and detail, exit 1', () => {
    const refused = new ProvisioningError('tenant_not_found', 'No tenant has the id, slug or domain "x".');
    expect(reportError(refused)).toBe(EXIT_FAILED);
    expect(err).toEqual(['error: Tenant not found: No tenant has the id, slug or domain "x".\n']);
  });

  it('prints each configuration problem on its own line, exit 2', () => {
    expect(reportError(new ConfigValidationError(['PORT must be …', 'REDIS_URL is …']))).toBe(EXIT_USAGE);
    expect(err).toEqual(['error: configuration: PORT must be …\n', 'error: configuration: REDIS_URL is …\n']);
  });

  it('prints why the platform cannot start, one line each, exit 1', () => {
    expect(reportError(new StartupError(['Redis does not answer', 'the role exists']))).toBe(EXIT_FAILED);
    expect(err).toEqual([
      'error: cannot start: Redis does not answer\n',
      'error: cannot start: the role exists\n',
    ]);
  });

  it('leaves commander’s own messages alone: asked-for help is 0, a bad command line 2', () => {
    const help = Object.assign(new Error('(outputHelp)'), { code: 'commander.helpDisplayed', exitCode: 0 });
    const unknown = Object.assign(new Error("unknown command 'x'"), {
      code: 'commander.unknownCommand',
      exitCode: 1,
    });
    expect([reportError(help), reportError(unknown), reportError(new InvalidOptionValue('no'))]).toEqual([
      EXIT_OK,
      EXIT_USAGE,
      EXIT_USAGE,
    ]);
    expect(err).toEqual([]);
  });

  it('maps the CLI’s own failures to their exit codes', () => {
    expect(reportError(new CliError('3 tenant schema(s) could not be migrated'))).toBe(EXIT_FAILED);
    expect(reportError(new CliUsageError('give --tenant or --all'))).toBe(EXIT_USAGE);
    expect(reportError(new CliExit(EXIT_FAILED))).toBe(EXIT_FAILED);
    expect(err).toEqual([
      'error: 3 tenant schema(s) could not be migrated\n',
      'error: give --tenant or --all\n',
    ]);
  });

  it('prints an unexpected error as one line, without its stack unless LOG_LEVEL asks for it', () => {
    const unexpected = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    expect(reportError(unexpected)).toBe(EXIT_FAILED);
    expect(err).toEqual(['error: connect ECONNREFUSED 127.0.0.1:6379\n']);
    process.env.LOG_LEVEL = 'debug';
    reportError(unexpected);
    expect(err[2]).toMatch(/^Error: connect ECONNREFUSED[\s\S]*\n\s+at /);
  });

  it('shows steering characters of a message visibly', () => {
    reportError(new CoreError('not_found', 'No tenant "\u001b[2J\u202e".'));
    expect(err[0]).toContain('\\u{1B}[2J\\u{202E}');
  });
});

describe('StderrLogger', () => {
  /** What a logger at `level` writes to stdout and stderr for one line at each of Nest's levels. */
  function written(level: string): { stdout: string; stderr: string } {
    const out: string[] = [];
    const err: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((c) => out.push(String(c)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation((c) => err.push(String(c)) > 0);
    try {
      const logger = new StderrLogger(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: level }));
      logger.error('at-error');
      logger.warn('at-warn');
      logger.log('at-log');
      logger.debug('at-debug');
    } finally {
      jest.restoreAllMocks();
    }
    return { stdout: out.join(''), stderr: err.join('') };
  }
  const shown = (stderr: string) =>
    ['error', 'warn', 'log', 'debug'].filter((l) => stderr.includes(`at-${l}`));

  it('shows warnings and errors of a one-shot command, more or less when LOG_LEVEL says so', () => {
    expect(shown(written('info').stderr)).toEqual(['error', 'warn']);
    expect(shown(written('debug').stderr)).toEqual(['error', 'warn', 'log', 'debug']);
    expect(shown(written('error').stderr)).toEqual(['error']);
    expect(shown(written('silent').stderr)).toEqual([]);
  });

  it('writes to stderr only, so stdout stays parseable', () => {
    expect(written('debug').stdout).toBe('');
  });
});
