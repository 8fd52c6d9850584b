import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<CliRun> {
  return cliFinished(startCli(args, env), timeoutMs);
}
