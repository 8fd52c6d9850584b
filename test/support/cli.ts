import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import passport from 'passport';
import type { TownhallConfig } from '@townhall/core';

/**
 * The built `townhall` command line (bin/townhall.js → dist) as end-to-end tests run it: a real process
 * on a test's database and the machine's Redis. `npm test` builds first; for a local run, `npm run build`.
 */
export const ROOT = join(__dirname, '..', '..');
export const TOWNHALL_BIN = join(ROOT, 'bin', 'townhall.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Fails the test with a clear message when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'))) {
    throw new Error('The CLI is not built: run `npm run build` before this test (npm test does).');
  }
}

/** The environment that points the CLI at a test's database and Redis (no actor key pool to fill). */
export function cliEnv(config: TownhallConfig, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: config.database.url,
    TOWNHALL_DATABASE_APP_ROLE: config.database.appRole ?? 'off',
    REDIS_URL: config.redis.url,
    TOWNHALL_REDIS_PREFIX: config.redis.keyPrefix,
    TOWNHALL_SECRET_KEY: config.secretKey!.toString('base64'),
    TOWNHALL_ACTOR_KEY_POOL: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [TOWNHALL_BIN, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a CLI process's output until it exits; kills it and fails after `timeoutMs`. */
export function cliFinished(child: ChildProcess, timeoutMs = 45_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`townhall did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    timer.unref();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the built CLI as a real process: for what only a process shows (signals, exit hooks, start-up). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<CliRun> {
  return cliFinished(startCli(args, env), timeoutMs);
}

let inProcessRuns: Promise<unknown> = Promise.resolve();

function passportStrategies(): Record<string, unknown> {
  return (passport as unknown as { _strategies: Record<string, unknown> })._strategies;
}

/**
 * Runs a `townhall` command in this process — the same command tree, option parsing, use cases, output
 * and exit status as the built CLI (`runTownhall`, which main.ts runs), without starting Node, Nest,
 * TypeORM and Bull for each command. For the environment of the run `process.env` is `env` and nothing
 * else; stdout and stderr are captured; stdin is not a terminal (as for a command run by a script). Runs
 * one at a time. Commands that wait for a signal (`worker`) or end the process on purpose (crash tests)
 * need `runCli`.
 */
export function runCliInProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const run = inProcessRuns.then(() => runInProcess(args, env));
  inProcessRuns = run.catch(() => undefined);
  return run;
}

async function runInProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  // Loaded on first use: tests that only spawn the CLI do not load the whole platform.
  const { runTownhall } = await import('../../apps/cli/src/townhall-cli');
  const { reportError } = await import('../../apps/cli/src/cli-output');
  const savedEnv = process.env;
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const stdinTty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
  let stdout = '';
  let stderr = '';
  const capture =
    (append: (text: string) => void) =>
    (chunk: unknown, encoding?: unknown, done?: unknown): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const callback = typeof encoding === 'function' ? encoding : done;
      if (typeof callback === 'function') process.nextTick(callback as () => void);
      return true;
    };
  // What the process keeps once for everyone, which the command's platform replaces with its own (bound to
  // its pool and closed with it) over those of an app this test runs: passport's strategies by name, and
  // Nest's static logger. Put back afterwards.
  const strategies = { ...passportStrategies() };
  const nestLogger = Logger as unknown as { staticInstanceRef?: unknown; logLevels?: unknown };
  const { staticInstanceRef, logLevels } = nestLogger;
  process.env = { ...env };
  process.stdout.write = capture((t) => (stdout += t)) as typeof process.stdout.write;
  process.stderr.write = capture((t) => (stderr += t)) as typeof process.stderr.write;
  Object.defineProperty(process.stdin, 'isTTY', { value: false, configurable: true, writable: true });
  let code: number;
  try {
    // As main.ts: an error that escapes the command is reported, and fails it.
    code = await runTownhall([process.execPath, TOWNHALL_BIN, ...args]).catch(
      (err: unknown) => reportError(err) || 1,
    );
  } finally {
    process.env = savedEnv;
    const registered = passportStrategies();
    for (const name of Object.keys(registered)) if (!(name in strategies)) delete registered[name];
    Object.assign(registered, strategies);
    Object.assign(nestLogger, { staticInstanceRef, logLevels });
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    if (stdinTty) Object.defineProperty(process.stdin, 'isTTY', stdinTty);
    else delete (process.stdin as { isTTY?: boolean }).isTTY;
  }
  return { code, signal: null, stdout, stderr };
}
