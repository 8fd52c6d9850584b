import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';
import { ENTRY, freePort, processEnv, rawHttp, RunningProcess, startProcess } from '../support/processes';
import { waitFor, waitForStatus } from '../support/wait';

const TOKEN = `edge-test-${randomBytes(16).toString('hex')}`;
const RATE_LIMIT = 5;

/** A request with exactly the headers given (fetch would replace Host). */
function call(
  base: string,
  path: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = httpRequest(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { Host: opts.host } : {}), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/**
 * The shared HTTP edge of every process, tried over real sockets against real processes: what reaches
 * the log, framing that would let a proxy and the app disagree, oversized nesting, the tenant rate limit,
 * a suspension seen by another process, and the separate operations port.
 */
describe('the HTTP edge (real processes, PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let platform: RunningProcess;
  let instance: RunningProcess;
  let opsPort: number;
  const auth = { Authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    opsPort = await freePort();
    const shared = {
      TOWNHALL_OPERATOR_TOKEN: TOKEN,
      TOWNHALL_TENANT_RATE_LIMIT: String(RATE_LIMIT),
      LOG_PRETTY: 'false',
      LOG_LEVEL: 'debug',
    };
    platform = await startProcess(
      ENTRY.allInOne,
      processEnv(config, { ...shared, PORT: '0', TOWNHALL_OPS_PORT: String(opsPort) }),
      { readyLine: /Demo tenant:/ },
    );
    // A second process, serving tenants only, that remembers tenants for a minute unless told otherwise.
    instance = await startProcess(
      ENTRY.instance,
      processEnv(config, { ...shared, PORT: '0', TOWNHALL_TENANT_CACHE_MS: '60000' }),
    );
  });

  afterAll(async () => {
    await platform?.stop();
    await instance?.stop();
    await drop?.();
  });

  /** Provisions a tenant through the operator API and waits until it is active. */
  async function activeTenant(slug: string): Promise<{ id: string; domain: string }> {
    const domain = `${slug}.edge.example`;
    const created = await call(platform.url, '/api/platform/v1/tenants', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ slug, domain, displayName: slug, adminEmail: `press@${domain}` }),
    });
    expect(created.status).toBe(202);
    const { id } = JSON.parse(created.text) as { id: string };
    await waitForStatus(
      async () =>
        JSON.parse((await call(platform.url, `/api/platform/v1/tenants/${id}`, { headers: auth })).text) as {
          status: string;
        },
      ['active'],
      { timeoutMs: 30_000, what: `tenant ${slug}` },
    );
    return { id, domain };
  }

  function logLines(proc: RunningProcess): Record<string, unknown>[] {
    return proc
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('keeps credentials out of the log and logs refusals below error level', async () => {
    const query = `q-secret-${randomBytes(8).toString('hex')}`;
    const header = `h-secret-${randomBytes(8).toString('hex')}`;
    const cookie = `c-secret-${randomBytes(8).toString('hex')}`;
    const refused = await call(platform.url, `/api/platform/v1/tenants?access_token=${query}&limit=5`);
    expect(refused.status).toBe(401);
    expect(
      (
        await call(platform.url, '/api/platform/v1/tenants', {
          headers: { Authorization: `Bearer ${header}`, Cookie: `sid=${cookie}` },
        })
      ).status,
    ).toBe(401);
    expect((await call(platform.url, '/api/v1/instance', { host: 'nobody.edge.example' })).status).toBe(404);
    const { id, domain } = await activeTenant('logged');
    expect(
      (await call(platform.url, `/api/platform/v1/tenants/${id}/suspend`, { method: 'POST', headers: auth }))
        .status,
    ).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await call(platform.url, '/api/v1/instance', { host: domain })).status).toBe(503);
    }
    // The process writes a request's log line after its answer: wait for the last one.
    await waitFor(
      () => logLines(platform).filter((l) => l.status === 503 && l.url === '/api/v1/instance').length >= 3,
      { timeoutMs: 10_000, what: 'the log lines of the refused requests' },
    );
    const out = platform.stdout() + platform.stderr();
    for (const secret of [query, header, cookie]) expect(out).not.toContain(secret);
    const lines = logLines(platform);
    expect(lines).toContainEqual(
      expect.objectContaining({
        url: '/api/platform/v1/tenants?access_token=[redacted]&limit=5',
        status: 401,
      }),
    );
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('refuses two Host headers, and an absolute-form target that names another host', async () => {
    const two = await rawHttp(
      platform.port,
      'GET /api/v1/instance HTTP/1.1\r\nHost: demo.localhost\r\nHost: other.localhost\r\nConnection: close\r\n\r\n',
    );
    expect(two.status).toBe(400);
    // A tenant's path: Mastodon's error shape.
    expect(two.response).toMatch(/content-type: application\/json/i);
    expect(two.response).toContain('{"error":"A request carries exactly one Host header."}');
    const disagreeing = await rawHttp(
      platform.port,
      'GET http://other.localhost/api/v1/instance HTTP/1.1\r\nHost: demo.localhost\r\nConnection: close\r\n\r\n',
    );
    expect(disagreeing.status).toBe(400);
    const agreeing = await rawHttp(
      platform.port,
      'GET http://demo.localhost/api/v1/instance HTTP/1.1\r\nHost: demo.localhost\r\nConnection: close\r\n\r\n',
    );
    expect(agreeing.status).toBe(200);
    expect(agreeing.response).toContain('"uri":"demo.localhost"');
  });

  it('refuses deeply nested JSON with 400 before validation, and creates nothing', async () => {
    const nested = '['.repeat(20_000) + ']'.repeat(20_000);
    const res = await call(platform.url, '/api/platform/v1/tenants', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: `{"slug":"deep","domain":"deep.edge.example","displayName":${nested},"adminEmail":"a@deep.edge.example"}`,
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text)).toMatchObject({ detail: expect.stringContaining('nested deeper than 100') });
    const list = await call(platform.url, '/api/platform/v1/tenants?limit=200', { headers: auth });
    expect(list.text).not.toContain('deep.edge.example');
  });

  it('reads multipart bodies with bounds: too many files is refused with 413 before any handler runs', async () => {
    const { domain } = await activeTenant('multipart');
    const boundary = 'townhall-boundary';
    const part = (name: string, body: string, file = false) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${name}.bin"` : ''}\r\n` +
      `${file ? 'Content-Type: application/octet-stream\r\n' : ''}\r\n${body}\r\n`;
    const send = (parts: string) =>
      call(platform.url, '/api/v1/apps', {
        method: 'POST',
        host: domain,
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body: `${parts}--${boundary}--\r\n`,
      });
    const ok = await send(
      part('client_name', 'Multipart app') + part('redirect_uris[]', 'https://a.test/cb'),
    );
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toMatchObject({
      name: 'Multipart app',
      redirect_uris: ['https://a.test/cb'],
    });
    const files = [1, 2, 3, 4, 5].map((i) => part(`f${i}`, 'x'.repeat(10), true)).join('');
    const tooMany = await send(
      part('client_name', 'Refused app') + part('redirect_uris', 'https://b.test/cb') + files,
    );
    expect(tooMany.status).toBe(413);
    expect(JSON.parse(tooMany.text)).toEqual({ error: expect.any(String) });
  });

  it('limits requests per tenant and client address, with Mastodon’s rate-limit headers', async () => {
    const { domain } = await activeTenant('limited');
    const other = await activeTenant('unlimited');
    for (let i = 0; i < RATE_LIMIT; i++) {
      const res = await call(platform.url, '/api/v1/instance', { host: domain });
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe(String(RATE_LIMIT));
      expect(res.headers['x-ratelimit-remaining']).toBe(String(RATE_LIMIT - 1 - i));
      expect(Date.parse(res.headers['x-ratelimit-reset'] as string)).toBeGreaterThan(Date.now());
    }
    const limited = await call(platform.url, '/api/v1/instance', { host: domain });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(limited.text)).toEqual({ error: expect.stringMatching(/^Too many requests/) });
    // Another tenant's budget is its own.
    expect((await call(platform.url, '/api/v1/instance', { host: other.domain })).status).toBe(200);
  });

  it('has every process answer 503 within a second of a suspension, though it caches tenants for a minute', async () => {
    const { id, domain } = await activeTenant('suspended-everywhere');
    // The other process has the tenant cached as active.
    expect((await call(instance.url, '/api/v1/instance', { host: domain })).status).toBe(200);
    expect((await call(instance.url, '/api/v1/instance', { host: domain })).status).toBe(200);
    const suspended = await call(platform.url, `/api/platform/v1/tenants/${id}/suspend`, {
      method: 'POST',
      headers: auth,
    });
    expect(suspended.status).toBe(200);
    const since = Date.now();
    let status = 0;
    while (Date.now() - since < 1000) {
      status = (await call(instance.url, '/api/v1/instance', { host: domain })).status;
      if (status === 503) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(503);
    // And back once resumed.
    await call(platform.url, `/api/platform/v1/tenants/${id}/resume`, { method: 'POST', headers: auth });
    const resumed = Date.now();
    while (Date.now() - resumed < 1000) {
      status = (await call(instance.url, '/api/v1/instance', { host: domain })).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
  });

  it('serves health and metrics on the operations port only, when one is set', async () => {
    const ops = `http://127.0.0.1:${opsPort}`;
    expect((await call(ops, '/health/live')).status).toBe(200);
    expect((await call(ops, '/health/ready')).status).toBe(200);
    // A request on the main port, which the metrics count.
    expect((await call(platform.url, '/api/platform/v1/tenants', { headers: auth })).status).toBe(200);
    expect((await call(ops, '/metrics')).text).toMatch(
      /^http_requests_total\{method="GET",route="\/api\/platform\/v1\/tenants",status="200"\} \d+$/m,
    );
    expect((await call(ops, '/api/platform/v1/tenants', { headers: auth })).status).toBe(404);
    expect((await call(platform.url, '/health/live')).status).toBe(404);
    expect((await call(platform.url, '/metrics')).status).toBe(404);
    // A process without one serves them on its main port, at platform addresses.
    expect((await call(instance.url, '/health/live')).status).toBe(200);
  });
});
