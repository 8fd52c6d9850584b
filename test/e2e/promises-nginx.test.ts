import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest, SimpleResponse } from '../support/http';
import { ENTRY, freePort, processEnv, ROOT, RunningProcess, startProcess } from '../support/processes';
import { startTenantPlatform, TenantPlatform } from './instance-support';

/**
 * infra/nginx/townhall.conf, the reverse-proxy sample the docs point to, run by a real nginx in front of
 * the three Townhall apps as production runs them (control plane, instance, gateway, each its own
 * process). The test adapts only what a deployment adapts — the listen lines (plain HTTP on loopback)
 * and the upstream ports — and checks what infra/README.md promises: ActivityPub paths reach the
 * gateway and the rest of a tenant domain the instance app; the platform's surfaces are refused on
 * tenant domains, in any spelling, by nginx itself; the operator API only from the operator network;
 * X-Forwarded-For is replaced, so a client cannot choose the address Townhall counts it under.
 */
jest.setTimeout(120_000);

const SAMPLE = join(ROOT, 'infra', 'nginx', 'townhall.conf');
const PLATFORM_HOST = 'platform.example';
const RATE_LIMIT = 20;

/** The nginx binary; .ci/run installs it when it is missing. */
function nginxBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin'])) {
    if (dir && existsSync(join(dir, 'nginx'))) return join(dir, 'nginx');
  }
  throw new Error(
    'nginx is not installed: the reverse-proxy sample is tested against it. Install it (`apt-get install -y nginx-light`; .ci/run does).',
  );
}

/** `[major, minor, patch]` of the installed nginx. */
function nginxVersion(nginx: string): number[] {
  const printed = spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr;
  const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(printed);
  if (!version) throw new Error(`cannot tell the nginx version from: ${printed}`);
  return version.slice(1).map(Number);
}

/** Replaces every `from` in `text`, failing unless it occurs exactly `times` times (the sample changed). */
function replaceExactly(text: string, from: string | RegExp, to: string, times: number): string {
  const pattern =
    typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : from;
  const found = text.match(pattern)?.length ?? 0;
  if (found !== times)
    throw new Error(`infra/nginx/townhall.conf: expected ${times} × ${String(from)}, found ${found}`);
  return text.replace(pattern, to);
}

/**
 * The sample as a deployment on this machine would run it: listening on loopback, plain HTTP, its
 * upstreams at the test's processes. `http2 on;` needs nginx 1.25.1 or later; older versions get the
 * sample without it (the routing rules under test do not depend on the HTTP version).
 */
async function adaptedSample(
  ports: { proxy: number; control: number; instance: number; gateway: number },
  version: number[],
): Promise<string> {
  let conf = await readFile(SAMPLE, 'utf8');
  conf = replaceExactly(conf, 'listen 443 ssl;', `listen 127.0.0.1:${ports.proxy};`, 2);
  conf = replaceExactly(conf, 'server 127.0.0.1:3000;', `server 127.0.0.1:${ports.control};`, 1);
  conf = replaceExactly(conf, 'server 127.0.0.1:3001;', `server 127.0.0.1:${ports.instance};`, 1);
  conf = replaceExactly(conf, 'server 127.0.0.1:3002;', `server 127.0.0.1:${ports.gateway};`, 1);
  const [major, minor, patch] = version;
  const knowsHttp2On = major > 1 || minor > 25 || (minor === 25 && patch >= 1);
  if (!knowsHttp2On) conf = replaceExactly(conf, /^\s*http2 on;\s*$/gm, '', 2);
  return conf;
}

async function waitForPort(port: number, nginx: ChildProcess, errors: () => string): Promise<void> {
  for (const deadline = Date.now() + 10_000; ;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    if (nginx.exitCode !== null || Date.now() > deadline)
      throw new Error(`nginx did not start:\n${errors()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the nginx sample in front of Townhall (real nginx, processes, PostgreSQL and Redis)', () => {
  let platform: TenantPlatform;
  let apps: RunningProcess[] = [];
  let nginx: ChildProcess | undefined;
  let dir: string;
  let proxy: string;

  /** A request through nginx to `host`. */
  const via = (host: string, path: string, headers: Record<string, string> = {}): Promise<SimpleResponse> =>
    httpRequest(`${proxy}${path}`, { headers: { Host: host, ...headers } });

  /** nginx answered itself: its own error page, no request id (every Townhall answer has one). */
  const refusedByNginx = (res: SimpleResponse, status: number) => {
    expect({
      status: res.status,
      type: res.headers['content-type'],
      id: res.headers['x-request-id'],
    }).toEqual({
      status,
      type: 'text/html',
      id: undefined,
    });
    expect(res.text).toContain('<center>nginx');
  };

  beforeAll(async () => {
    const binary = nginxBinary();
    const version = nginxVersion(binary);
    platform = await startTenantPlatform({
      env: {
        TOWNHALL_PLATFORM_HOSTS: PLATFORM_HOST,
        TOWNHALL_TRUSTED_PROXIES: '127.0.0.1',
        TOWNHALL_TENANT_RATE_LIMIT: String(RATE_LIMIT),
        TOWNHALL_WORKERS: 'false',
      },
      active: [
        { slug: 'bmi', domain: 'social.bmi.example', displayName: 'Ministry', adminEmail: 'a@bmi.example' },
        {
          slug: 'counted',
          domain: 'social.counted.example',
          displayName: 'Counted',
          adminEmail: 'a@counted.example',
        },
      ],
    });
    const env = processEnv(platform.config, {
      PORT: '0',
      TOWNHALL_PLATFORM_HOSTS: PLATFORM_HOST,
      TOWNHALL_TRUSTED_PROXIES: '127.0.0.1',
      TOWNHALL_TENANT_RATE_LIMIT: String(RATE_LIMIT),
      TOWNHALL_WORKERS: 'false',
    });
    apps = await Promise.all(
      [ENTRY.controlPlane, ENTRY.instance, ENTRY.gateway].map((entry) => startProcess(entry, env)),
    );
    const [control, instance, gateway] = apps;

    dir = await mkdtemp(join(tmpdir(), 'townhall-nginx-'));
    // As root, nginx's workers run as an unprivileged user that must reach the prefix.
    await chmod(dir, 0o755);
    const port = await freePort();
    await writeFile(
      join(dir, 'townhall.conf'),
      await adaptedSample(
        { proxy: port, control: control.port, instance: instance.port, gateway: gateway.port },
        version,
      ),
    );
    await writeFile(
      join(dir, 'nginx.conf'),
      [
        'worker_processes 1;',
        'pid nginx.pid;',
        'events { worker_connections 64; }',
        'http {',
        '  access_log off;',
        '  client_body_temp_path client_body; proxy_temp_path proxy;',
        '  fastcgi_temp_path fastcgi; uwsgi_temp_path uwsgi; scgi_temp_path scgi;',
        '  include townhall.conf;',
        '}',
        '',
      ].join('\n'),
    );
    const args = ['-p', `${dir}/`, '-c', 'nginx.conf', '-e', 'error.log'];
    const check = spawnSync(binary, [...args, '-t'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx refuses the adapted sample:\n${check.stderr}`);
    nginx = spawn(binary, [...args, '-g', 'daemon off;'], { stdio: 'ignore' });
    await waitForPort(
      port,
      nginx,
      () => spawnSync('cat', [join(dir, 'error.log')], { encoding: 'utf8' }).stdout,
    );
    proxy = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
    await Promise.all(apps.map((app) => app.stop()));
    await platform?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends a tenant domain’s ActivityPub paths to the gateway and the rest to the instance app', async () => {
    const instance = await via('social.bmi.example', '/api/v1/instance');
    expect(instance.status).toBe(200);
    expect(instance.json()).toMatchObject({ uri: 'social.bmi.example', title: 'Ministry' });
    const discovery = await via('social.bmi.example', '/.well-known/nodeinfo');
    expect(discovery.status).toBe(200);
    expect(discovery.json()).toMatchObject({
      links: [expect.objectContaining({ href: expect.stringContaining('/nodeinfo/2.1') })],
    });
    const nodeinfo = await via('social.bmi.example', '/nodeinfo/2.1');
    expect(nodeinfo.status).toBe(200);
    expect(nodeinfo.json()).toMatchObject({ version: '2.1' });
    // Under /.well-known/, but the instance app's: the OAuth metadata apps discover sign-in with.
    const oauth = await via('social.bmi.example', '/.well-known/oauth-authorization-server');
    expect(oauth.status).toBe(200);
    expect(oauth.json()).toMatchObject({ token_endpoint: expect.stringContaining('/oauth/token') });
  });

  it.each([
    '/metrics',
    '/METRICS',
    '/Metrics/',
    '//metrics',
    '/%6Detrics',
    '/health/live',
    '/Health/Ready',
    '/HEALTH',
    '/api/platform/v1/tenants',
    '/API/Platform/v1/tenants',
    '//api/platform/v1/tenants',
    '/api/regulator/v1/checkpoints',
    '/Api/Regulator/v1/audit/export',
  ])('refuses %s on a tenant domain before it reaches Townhall', async (path) => {
    refusedByNginx(await via('social.bmi.example', path), 404);
  });

  it('leaves the tenant’s own paths that only look alike to Townhall', async () => {
    // Not one of the refused prefixes: Townhall decides (no such route, so its own 404 problem).
    const res = await via('social.bmi.example', '/healthz');
    expect(res.status).toBe(404);
    // Townhall's answer (a tenant path: Mastodon's error shape), not nginx's.
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toEqual({ error: expect.any(String) });
  });

  it('serves the regulator API on the platform host, the operator API only to the operator network, nothing else', async () => {
    const regulator = await via(PLATFORM_HOST, '/api/regulator/v1/checkpoints');
    expect(regulator.status).toBe(401);
    expect(regulator.headers['content-type']).toMatch(/^application\/problem\+json/);
    refusedByNginx(await via(PLATFORM_HOST, '/api/platform/v1/tenants'), 403);
    for (const path of ['/metrics', '/Health/Ready', '/', '/api/v1/instance']) {
      refusedByNginx(await via(PLATFORM_HOST, path), 404);
    }
  });

  it('has every app process answer health and metrics on its own address (README, "Running in production")', async () => {
    for (const app of apps) {
      for (const path of ['/health/live', '/health/ready']) {
        expect({ app: app.url, path, status: (await httpRequest(`${app.url}${path}`)).status }).toEqual({
          app: app.url,
          path,
          status: 200,
        });
      }
      expect((await httpRequest(`${app.url}/metrics`)).text).toMatch(/^http_requests_total/m);
    }
  });

  it('replaces X-Forwarded-For, so a client cannot pick the address its requests are counted under', async () => {
    const [, instance] = apps;
    // Townhall does believe X-Forwarded-For from this address: straight to the instance app, every
    // made-up client gets a budget of its own.
    for (let i = 1; i <= RATE_LIMIT + 1; i++) {
      const direct = await httpRequest(`${instance.url}/api/v1/instance`, {
        headers: { Host: 'social.counted.example', 'X-Forwarded-For': `198.51.100.${i}` },
      });
      expect([direct.status, direct.headers['x-ratelimit-remaining']]).toEqual([200, String(RATE_LIMIT - 1)]);
    }
    // Through nginx the header is the client's real address, whatever the client sent.
    const remaining: (string | number)[] = [];
    for (let i = 1; i <= RATE_LIMIT + 1; i++) {
      const res = await via('social.counted.example', '/api/v1/instance', {
        'X-Forwarded-For': `203.0.113.${i}`,
      });
      remaining.push(res.status === 200 ? (res.headers['x-ratelimit-remaining'] as string) : res.status);
    }
    expect(remaining).toEqual([
      ...Array.from({ length: RATE_LIMIT }, (_, i) => String(RATE_LIMIT - 1 - i)),
      429,
    ]);
  });
});
