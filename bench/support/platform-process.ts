import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { generateActorKeyPair } from '@townhall/activitypub';
import { type SecretBox, SecretKeyring } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { benchConfig, DEFAULT_BENCH_DATABASE_URL, freshBenchDatabase } from './bench-database';
import { freePort } from '../../test/support/processes';
import { repositoryRoot } from './results';

export { freePort };

/**
 * What the scenarios that run Townhall as real processes share: starting them (and the bare server they
 * are compared to), provisioning tenants through the operator API, waiting for background work, running
 * wrk and reading its summary, and reading process and PostgreSQL backend memory.
 */

export const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: string | null;
}

/** wrk's summary: Requests/sec, the latency distribution's 50 % and 99 %, totals and errors. */
export function parseWrk(out: string): WrkResult {
  const ms = (label: string): number => {
    const m = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) throw new Error(`wrk output has no ${label} latency:\n${out}`);
    const v = Number(m[1]);
    return Math.round((m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v) * 100) / 100;
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const total = /^\s+(\d+) requests in/m.exec(out);
  if (!rps || !total) throw new Error(`unexpected wrk output:\n${out}`);
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: ms('50%'),
    p99Ms: ms('99%'),
    requests: Number(total[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors: (.*)/.exec(out)?.[1] ?? null,
  };
}

/**
 * Stocks the actor key pool so provisioning does not spend most of its time on RSA generation, which
 * this scenario does not measure: a few real key pairs, each sealed as the pool seals them (the AAD is
 * the pool's), repeated. Tenants made here share actor keys; nothing in this scenario signs anything.
 */
export async function fillKeyPool(url: string, box: SecretBox, count: number): Promise<void> {
  const distinct = await Promise.all(Array.from({ length: 4 }, () => generateActorKeyPair()));
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < count; i++) {
      const keys = distinct[i % distinct.length];
      await client.query(
        `INSERT INTO platform.actor_key_pool (public_key_pem, private_key_sealed) VALUES ($1, $2)`,
        [keys.publicKeyPem, box.seal(keys.privateKeyPem, 'platform.actor_key_pool')],
      );
    }
  } finally {
    await client.end();
  }
}

export async function provisionTenants(
  base: string,
  token: string,
  count: number,
  log: (l: string) => void,
): Promise<{ domain: string; id: string }[]> {
  const domains: { domain: string; id: string }[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const domain = `t${i}.bench.example`;
    const res = await call(`${base}/api/platform/v1/tenants`, {
      method: 'POST',
      token,
      body: JSON.stringify({
        slug: `bench-${i}`,
        domain,
        displayName: `Bench ${i}`,
        adminEmail: `press@${domain}`,
      }),
    });
    if (res.status !== 202) throw new Error(`provisioning ${domain}: ${res.status} ${res.text}`);
    domains.push({ domain, id: (JSON.parse(res.text) as { id: string }).id });
  }
  for (;;) {
    const res = await call(`${base}/api/platform/v1/tenants?status=provisioning&limit=1`, { token });
    const pending = (JSON.parse(res.text) as { items: unknown[] }).items.length;
    const failed = (
      JSON.parse((await call(`${base}/api/platform/v1/tenants?status=failed&limit=1`, { token })).text) as {
        items: unknown[];
      }
    ).items.length;
    if (failed > 0) throw new Error('a bench tenant failed to provision');
    if (pending === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  log(`${count} tenants active after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return domains;
}

/**
 * Waits until the work provisioning left behind is done — the audit sequencer has taken every pending
 * entry and signed its checkpoint — so the measurements below measure requests, not background work.
 */
export async function settle(url: string, log: (line: string) => void): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const started = Date.now();
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM platform.audit_pending`,
      );
      if (rows[0].n === 0 || Date.now() - started > 120_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    log(`background work settled after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    await client.end();
  }
}

/**
 * Private memory of the PostgreSQL backends the application's pools hold (application_name townhall),
 * read from /proc on this machine: the catalog cache of a connection that served every tenant shows
 * here. Needs the bench to run on the database server's machine as a user that may read its /proc.
 */
export async function backendMemory(
  url: string,
): Promise<{ count: number; totalMiB: number; maxMiB: number }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'townhall/%' AND datname = current_database()`,
    );
    const sizes = rows.map((r) => privateMiB(r.pid)).filter((v): v is number => v !== null);
    return {
      count: sizes.length,
      totalMiB: Math.round(sizes.reduce((a, b) => a + b, 0) * 10) / 10,
      maxMiB: Math.round(Math.max(0, ...sizes) * 10) / 10,
    };
  } finally {
    await client.end();
  }
}

export function privateMiB(pid: number): number | null {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = [...rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB$/gm)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    return kib / 1024;
  } catch {
    return null;
  }
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 102.4) / 10;
}

export function repositoryEntry(path: string): string {
  return join(repositoryRoot(), path);
}

const CHILD_ERRORS = new WeakMap<ChildProcess, string[]>();

/** The error lines a process started by `startNode` has logged so far. */
export function errorLines(child: ChildProcess): string[] {
  return CHILD_ERRORS.get(child) ?? [];
}

/** Starts `node entry` and resolves once it prints where it listens. */
export async function startNode(
  entry: string,
  env: NodeJS.ProcessEnv,
  prepare?: () => void,
): Promise<ChildProcess> {
  prepare?.();
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to Townhall's processes, not the bare server.
  const nodeArgs = Object.keys(env).length
    ? (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
    : [];
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const errors: string[] = [];
  const collect = (d: Buffer) => {
    const text = d.toString();
    if (out.length < 1 << 20) out += text;
    // Error and fatal log lines (pino levels 50 and 60) are kept, the last 200 of them.
    for (const line of text.split('\n')) if (/"level":(50|60)/.test(line)) errors.push(line);
    errors.splice(0, Math.max(0, errors.length - 200));
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  CHILD_ERRORS.set(child, errors);
  for (const deadline = Date.now() + 120_000; ;) {
    if (/Listening on /.test(out)) return child;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function call(
  url: string,
  opts: { method?: string; token?: string; host?: string; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: {
          ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.host ? { Host: opts.host } : {}),
          ...(opts.body ? { 'Content-Type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

/** Fails early, with the command that installs it, when wrk is missing. */
export async function requireWrk(): Promise<void> {
  await run('wrk', ['--version']).catch((err: NodeJS.ErrnoException) => {
    // wrk prints its version and exits 1; only a missing binary is a problem.
    if (err.code === 'ENOENT') throw new Error('wrk is not installed: apt-get install -y wrk');
  });
}

/** One wrk measurement after a 2 s warm-up: one thread, `connections` connections, an optional Lua script. */
export async function runWrk(
  url: string,
  opts: { connections: number; seconds: number; script?: string },
): Promise<WrkResult> {
  const script = opts.script ? ['-s', opts.script] : [];
  await run('wrk', ['-t1', `-c${opts.connections}`, '-d2s', ...script, url]);
  // wrk drops an answer slower than its timeout (2 s by default) from the latency distribution and counts
  // it as an error: with 10 s, a slow answer is measured in the p99 instead of failing the run.
  const { stdout } = await run(
    'wrk',
    ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '10s', '--latency', ...script, url],
    { maxBuffer: 1 << 20 },
  );
  return parseWrk(stdout);
}

/** A database of its own, the all-in-one process on it, and `tenants` tenants provisioned through the operator API. */
export interface BenchPlatform {
  db: Awaited<ReturnType<typeof freshBenchDatabase>>;
  env: NodeJS.ProcessEnv;
  operatorToken: string;
  /** `http://127.0.0.1:PORT` of the all-in-one process. */
  base: string;
  platform: ChildProcess;
  /** Every process started for the run, stopped by `close`. */
  started: ChildProcess[];
  tenants: { domain: string; id: string }[];
  /** A scratch folder, removed by `close`. */
  work: string;
  close(keepDatabase: boolean): Promise<void>;
}

/** The settings of the platform's pool that `npm run bench` passes on when set in its environment. */
const BENCH_DATABASE_SETTINGS = [
  'DATABASE_POOL_SIZE',
  'DATABASE_POOL_MAX_USES',
  'DATABASE_PREPARED_STATEMENTS',
];

export async function startBenchPlatform(
  name: string,
  tenants: number,
  log: (line: string) => void,
): Promise<BenchPlatform> {
  const db = await freshBenchDatabase(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL);
  const operatorToken = `bench-operator-${randomBytes(16).toString('hex')}`;
  const prefix = `th_bench_${name}_${process.pid}`;
  const config = benchConfig(db, { TOWNHALL_REDIS_PREFIX: prefix });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    TOWNHALL_DATABASE_APP_ROLE: config.database.appRole ?? 'off',
    REDIS_URL: config.redis.url,
    TOWNHALL_REDIS_PREFIX: prefix,
    TOWNHALL_SECRET_KEY: config.secretKey!.toString('base64'),
    TOWNHALL_OPERATOR_TOKEN: operatorToken,
    TOWNHALL_DEMO: 'false',
    TOWNHALL_ACTOR_KEY_POOL: '0',
    TOWNHALL_RATE_LIMIT: '1000000',
    TOWNHALL_TENANT_RATE_LIMIT: '100000000',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    // Database settings a run compares (a lever on and off): passed on from the bench's environment.
    ...Object.fromEntries(
      Object.entries(process.env).filter(([key]) => BENCH_DATABASE_SETTINGS.includes(key)),
    ),
  };
  const work = mkdtempSync(join(tmpdir(), `townhall-bench-${name}-`));
  const started: ChildProcess[] = [];
  const close = async (keepDatabase: boolean) => {
    for (const child of started) child.kill('SIGTERM');
    await Promise.all(
      started.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );
    rmSync(work, { recursive: true, force: true });
    if (!keepDatabase) await db.drop();
  };
  try {
    await preparePlatform(config, { migrate: true });
    await fillKeyPool(db.url, new SecretKeyring(config.secretKey!).box('actor-keys'), tenants);
    const port = await freePort();
    const platform = await startNode(repositoryEntry('dist/apps/townhall/src/main.js'), {
      ...env,
      PORT: String(port),
      TOWNHALL_MEDIA_ROOT: join(work, 'media'),
    });
    started.push(platform);
    const base = `http://127.0.0.1:${port}`;
    log(`provisioning ${tenants} tenants through the operator API …`);
    const created = await provisionTenants(base, operatorToken, tenants, log).catch((err: Error) => {
      // The operator API's 500 says only "quote the request id": show what the process logged about it.
      const id = /"requestId":"([^"]+)"/.exec(err.message)?.[1];
      const logged = errorLines(platform).filter((l) => id === undefined || l.includes(id));
      throw new Error(`${err.message}\n${logged.join('\n')}`);
    });
    await settle(db.url, log);
    return { db, env, operatorToken, base, platform, started, tenants: created, work, close };
  } catch (err) {
    await close(false);
    throw err;
  }
}

/** A bare node:http server answering `body` as JSON to everything: the ceiling to compare with. */
export async function startBareServer(bench: BenchPlatform, body: string): Promise<number> {
  const port = await freePort();
  const file = join(bench.work, `bare-${port}.js`);
  const bare = await startNode(file, {}, () =>
    writeFileSync(
      file,
      `const body = ${JSON.stringify(body)};\n` +
        `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }); s.end(body); })` +
        `.listen(${port}, '127.0.0.1', () => console.log('Listening on http://127.0.0.1:${port}'));`,
    ),
  );
  bench.started.push(bare);
  return port;
}
