import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { generateActorKeyPair } from '@townhall/activitypub';
import { SecretBox } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { benchConfig, DEFAULT_BENCH_DATABASE_URL, freshBenchDatabase } from '../support/bench-database';
import { freePort } from '../../test/support/processes';
import { machineInfo } from '../support/machine';
import { repositoryRoot } from '../support/results';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';

const run = promisify(execFile);

/**
 * The shared request path of every app, measured with wrk against real processes on loopback: a bare
 * node:http server (the ceiling of this machine), then the all-in-one process with N tenants for
 * `/health/live`, a tenant's `/.well-known/host-meta` and a tenant's `/api/v1/instance`, each request
 * going to a random tenant's domain. Reported as requests per second, p50 and p99 latency, and ratios
 * to the bare server measured right before each of them. Then: how long a suspension takes to be
 * answered 503 by the all-in-one and by a second (instance) process, and what the PostgreSQL backends
 * of the application's pool hold in memory after serving every tenant (the per-connection catalog
 * cache grows with every tenant schema a connection touches).
 */
export const httpScenario: Scenario = {
  name: 'http',
  description:
    'Requests per second and latency of /health/live, host-meta and /api/v1/instance across N tenants vs a bare node:http server (wrk)',
  options: [
    { name: 'tenants', kind: 'int', default: 1000, min: 1, max: 5000, description: 'tenants served' },
    {
      name: 'seconds',
      kind: 'int',
      default: 10,
      min: 1,
      max: 300,
      description: 'wrk duration per measurement',
    },
    { name: 'connections', kind: 'int', default: 50, min: 1, max: 1000, description: 'wrk connections' },
  ],
  run: runHttpBench,
};

const GOALS: Record<string, { ratio: number; p99Ms: number }> = {
  '/health/live': { ratio: 0.5, p99Ms: 20 },
  '/.well-known/host-meta': { ratio: 0.35, p99Ms: 20 },
  '/api/v1/instance': { ratio: 0.25, p99Ms: 20 },
};

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: string | null;
}

async function runHttpBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const tenants = options.int('tenants');
  const seconds = options.int('seconds');
  const connections = options.int('connections');
  await run('wrk', ['--version']).catch((err: NodeJS.ErrnoException) => {
    // wrk prints its version and exits 1; only a missing binary is a problem.
    if (err.code === 'ENOENT') throw new Error('wrk is not installed: apt-get install -y wrk');
  });

  const db = await freshBenchDatabase(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL);
  const token = `bench-operator-${randomBytes(16).toString('hex')}`;
  const prefix = `th_bench_http_${process.pid}`;
  const config = benchConfig(db, { TOWNHALL_REDIS_PREFIX: prefix });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    TOWNHALL_DATABASE_APP_ROLE: config.database.appRole ?? 'off',
    REDIS_URL: config.redis.url,
    TOWNHALL_REDIS_PREFIX: prefix,
    TOWNHALL_SECRET_KEY: config.secretKey!.toString('base64'),
    TOWNHALL_OPERATOR_TOKEN: token,
    TOWNHALL_DEMO: 'false',
    TOWNHALL_ACTOR_KEY_POOL: '0',
    TOWNHALL_RATE_LIMIT: '1000000',
    TOWNHALL_TENANT_RATE_LIMIT: '100000000',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
  };
  const machine = await machineInfo(db.url);
  const work = mkdtempSync(join(tmpdir(), 'townhall-bench-http-'));
  const started: ChildProcess[] = [];
  try {
    await preparePlatform(config, { migrate: true });
    await fillKeyPool(db.url, new SecretBox(config.secretKey!), tenants);

    const platformPort = await freePort();
    const platform = await startNode(repositoryEntry('dist/apps/townhall/src/main.js'), {
      ...env,
      PORT: String(platformPort),
    });
    started.push(platform);
    const base = `http://127.0.0.1:${platformPort}`;
    log(`provisioning ${tenants} tenants through the operator API …`);
    const created = await provisionTenants(base, token, tenants, log);
    await settle(db.url, log);
    const domains = created.map((t) => t.domain);

    const barePort = await freePort();
    const bare = await startNode(join(work, 'bare.js'), {}, () =>
      writeFileSync(
        join(work, 'bare.js'),
        `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"status":"ok"}'); }).listen(${barePort}, '127.0.0.1', () => console.log('Listening on http://127.0.0.1:${barePort}'));`,
      ),
    );
    started.push(bare);
    const hostsScript = join(work, 'hosts.lua');
    writeFileSync(
      hostsScript,
      [
        `local hosts = { ${domains.map((d) => `"${d}"`).join(', ')} }`,
        'request = function() return wrk.format(nil, nil, { Host = hosts[math.random(#hosts)] }) end',
      ].join('\n'),
    );

    const wrk = async (url: string, script?: string): Promise<WrkResult> => {
      const args = [
        '-t1',
        `-c${connections}`,
        `-d${seconds}s`,
        '--latency',
        ...(script ? ['-s', script] : []),
        url,
      ];
      await run('wrk', ['-t1', `-c${connections}`, '-d2s', ...(script ? ['-s', script] : []), url]); // warm-up
      const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
      return parseWrk(stdout);
    };

    const rows: ResultRow[] = [];
    const measured: Record<string, { app: WrkResult; bare: WrkResult; ratio: number }> = {};
    for (const [path, script] of [
      ['/health/live', undefined],
      ['/.well-known/host-meta', hostsScript],
      ['/api/v1/instance', hostsScript],
    ] as const) {
      log(`wrk ${path}: bare node:http, then Townhall (${seconds} s each, ${connections} connections)`);
      const bareResult = await wrk(`http://127.0.0.1:${barePort}/`);
      const appResult = await wrk(`${base}${path}`, script);
      if (appResult.non2xx > 0 || appResult.errors) {
        throw new Error(
          `${path}: ${appResult.non2xx} non-2xx answers, socket errors: ${appResult.errors ?? 'none'}`,
        );
      }
      const ratio = appResult.requestsPerSecond / bareResult.requestsPerSecond;
      measured[path] = { app: appResult, bare: bareResult, ratio };
      rows.push(row(`bare node:http (before ${path})`, bareResult));
      rows.push(row(`${path}${script ? `, random tenant of ${tenants}` : ''}`, appResult, ratio));
    }

    log('suspension: time until the all-in-one and a second (instance) process answer 503');
    const instancePort = await freePort();
    const instance = await startNode(repositoryEntry('dist/apps/instance/src/main.js'), {
      ...env,
      PORT: String(instancePort),
    });
    started.push(instance);
    const suspension = await measureSuspension(base, `http://127.0.0.1:${instancePort}`, token, created[0]);
    rows.push({
      measurement: 'suspension answered 503: all-in-one / other process',
      n: 1,
      note: `${suspension.platformMs} ms / ${suspension.otherMs} ms`,
    });

    const backends = await backendMemory(db.url);
    rows.push({
      measurement: 'PostgreSQL backends of the app pool after the run',
      n: backends.count,
      note: `${backends.totalMiB} MiB private in all, largest ${backends.maxMiB} MiB`,
    });
    const platformRss = rssMiB(platform.pid!);
    rows.push({ measurement: 'all-in-one process RSS after the run', n: 1, note: `${platformRss} MiB` });

    const conclusions = Object.entries(measured).map(([path, m]) => {
      const goal = GOALS[path];
      const met = m.ratio >= goal.ratio && m.app.p99Ms <= goal.p99Ms;
      return (
        `${path}: ${Math.round(m.app.requestsPerSecond)} req/s = ${(m.ratio * 100).toFixed(1)} % of bare ` +
        `(goal ≥ ${goal.ratio * 100} %), p99 ${m.app.p99Ms} ms (goal ≤ ${goal.p99Ms} ms): ${met ? 'met' : 'NOT met'}`
      );
    });
    conclusions.push(
      `suspension seen within ${Math.max(suspension.platformMs, suspension.otherMs)} ms on every process (goal ≤ 1000 ms): ${Math.max(suspension.platformMs, suspension.otherMs) <= 1000 ? 'met' : 'NOT met'}`,
    );
    return {
      rows,
      conclusions,
      data: { tenants, seconds, connections, measured, suspension, backends, platformRssMiB: platformRss },
      machine,
    };
  } finally {
    for (const child of started) child.kill('SIGTERM');
    await Promise.all(
      started.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );
    rmSync(work, { recursive: true, force: true });
    if (!options.flag('keep')) await db.drop();
  }
}

function row(measurement: string, r: WrkResult, ratio?: number): ResultRow {
  return {
    measurement,
    n: r.requests,
    p50: r.p50Ms,
    p99: r.p99Ms,
    rate: `${Math.round(r.requestsPerSecond)}/s`,
    note: ratio === undefined ? undefined : `${(ratio * 100).toFixed(1)} % of bare`,
  };
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
async function fillKeyPool(url: string, box: SecretBox, count: number): Promise<void> {
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

async function provisionTenants(
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
async function settle(url: string, log: (line: string) => void): Promise<void> {
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

async function measureSuspension(
  base: string,
  other: string,
  token: string,
  { domain, id }: { domain: string; id: string },
): Promise<{ platformMs: number; otherMs: number }> {
  // Both processes have the tenant cached as active.
  for (const url of [base, other]) {
    for (let i = 0; i < 3; i++) {
      const res = await call(`${url}/api/v1/instance`, { host: domain });
      if (res.status !== 200) throw new Error(`${url}: ${res.status} before the suspension`);
    }
  }
  const suspended = await call(`${base}/api/platform/v1/tenants/${id}/suspend`, { method: 'POST', token });
  if (suspended.status !== 200) throw new Error(`suspend: ${suspended.status}`);
  const since = Date.now();
  const until503 = async (url: string): Promise<number> => {
    for (;;) {
      if ((await call(`${url}/api/v1/instance`, { host: domain })).status === 503) return Date.now() - since;
      if (Date.now() - since > 30_000) throw new Error(`${url} still serves the suspended tenant after 30 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const [platformMs, otherMs] = await Promise.all([until503(base), until503(other)]);
  return { platformMs, otherMs };
}

/**
 * Private memory of the PostgreSQL backends the application's pools hold (application_name townhall),
 * read from /proc on this machine: the catalog cache of a connection that served every tenant shows
 * here. Needs the bench to run on the database server's machine as a user that may read its /proc.
 */
async function backendMemory(url: string): Promise<{ count: number; totalMiB: number; maxMiB: number }> {
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

function privateMiB(pid: number): number | null {
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

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 102.4) / 10;
}

function repositoryEntry(path: string): string {
  return join(repositoryRoot(), path);
}

/** Starts `node entry` and resolves once it prints where it listens. */
async function startNode(entry: string, env: NodeJS.ProcessEnv, prepare?: () => void): Promise<ChildProcess> {
  prepare?.();
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (const deadline = Date.now() + 120_000; ;) {
    if (/Listening on /.test(out)) return child;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function call(
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
