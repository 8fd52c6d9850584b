import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo } from '../support/machine';
import {
  backendMemory,
  call,
  freePort,
  repositoryEntry,
  requireWrk,
  rssMiB,
  runWrk,
  startBareServer,
  startBenchPlatform,
  startNode,
  type WrkResult,
} from '../support/platform-process';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';

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

async function runHttpBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const tenants = options.int('tenants');
  const seconds = options.int('seconds');
  const connections = options.int('connections');
  await requireWrk();
  const bench = await startBenchPlatform('http', tenants, log);
  const { base, work, started } = bench;
  const token = bench.operatorToken;
  const created = bench.tenants;
  const env = bench.env;
  const machine = await machineInfo(bench.db.url);
  try {
    const platform = bench.platform;
    const domains = created.map((t) => t.domain);
    const barePort = await startBareServer(bench, '{"status":"ok"}');
    const hostsScript = join(work, 'hosts.lua');
    writeFileSync(
      hostsScript,
      [
        `local hosts = { ${domains.map((d) => `"${d}"`).join(', ')} }`,
        'request = function() return wrk.format(nil, nil, { Host = hosts[math.random(#hosts)] }) end',
      ].join('\n'),
    );

    const wrk = (url: string, script?: string): Promise<WrkResult> =>
      runWrk(url, { connections, seconds, script });

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

    const backends = await backendMemory(bench.db.url);
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
    await bench.close(options.flag('keep'));
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
