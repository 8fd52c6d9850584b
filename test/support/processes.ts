import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import type { TownhallConfig } from '@townhall/core';

export const ROOT = join(__dirname, '..', '..');

/** The built entry points tests run as real processes (`npm test` builds once, before any test). */
export const ENTRY = {
  allInOne: join(ROOT, 'dist/apps/townhall/src/main.js'),
  controlPlane: join(ROOT, 'dist/apps/control-plane/src/main.js'),
  instance: join(ROOT, 'dist/apps/instance/src/main.js'),
  gateway: join(ROOT, 'dist/apps/federation-gateway/src/main.js'),
} as const;

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** The environment that points a process at a test's database and Redis. */
export function processEnv(config: TownhallConfig, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    DATABASE_URL: config.database.url,
    TOWNHALL_DATABASE_APP_ROLE: config.database.appRole ?? 'off',
    REDIS_URL: config.redis.url,
    TOWNHALL_REDIS_PREFIX: config.redis.keyPrefix,
    TOWNHALL_SECRET_KEY: config.secretKey!.toString('base64'),
    TOWNHALL_PUBLIC_SCHEME: 'http',
    TOWNHALL_ACTOR_KEY_POOL: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface RunningProcess {
  child: ChildProcess;
  /** Where it listens, from its start-up line. */
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and waits until it exited. */
  stop(): Promise<void>;
}

/**
 * Starts one of the HTTP entry points (or `bin/townhall.js` with `args`, such as `witness …`) and
 * resolves once it printed where it listens and whatever `readyLine` names (the all-in-one's demo
 * tenant, say); fails with its output if it exits or takes too long.
 */
export async function startProcess(
  entry: string,
  env: NodeJS.ProcessEnv,
  opts: { readyLine?: RegExp; timeoutMs?: number; args?: readonly string[] } = {},
): Promise<RunningProcess> {
  if (!existsSync(entry))
    throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does).`);
  const child = spawn(process.execPath, [entry, ...(opts.args ?? [])], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = opts.readyLine ?? /Listening on /;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const listening = /Listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
    if (listening && ready.test(out)) {
      return {
        child,
        url: listening[1],
        port: Number(listening[2]),
        stdout: () => out,
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${entry} did not start (exit ${child.exitCode}).\nstdout: ${out}\nstderr: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends `text` as is (for requests no HTTP client would form) and returns the status line's code. */
export function rawHttp(port: number, text: string): Promise<{ status: number; response: string }> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let response = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (d: Buffer) => {
      response += d.toString();
      // One response is enough: the status line and headers, and the body if Content-Length says so.
      const end = response.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(response);
      if (end !== -1 && (!length || response.length >= end + 4 + Number(length[1]))) socket.end();
    });
    socket.on('end', () =>
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0), response }),
    );
    socket.on('error', reject);
    socket.connect(port, '127.0.0.1', () => socket.write(text));
  });
}
