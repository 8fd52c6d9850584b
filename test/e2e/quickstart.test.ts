import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, testApplicationRole } from '../support/database';
import { httpRequest } from '../support/http';

/**
 * The README's first command, as a new user runs it: `npm start` against a database that does not
 * exist yet. It must create the database, migrate, provision the demo tenant, print how to reach it,
 * and serve the demo tenant's /api/v1/instance.
 */
describe('quick start: npm start on a fresh database', () => {
  const database = `townhall_quickstart_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'townhall-quickstart-'));
  let child: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    // `npm start` runs node as its child: end the whole process group, not just npm.
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('close', r)); // 'close': every process holding its pipes is gone
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child!.pid!, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await dropDatabase(database);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the demo tenant and prints how to reach it', async () => {
    child = spawn('npm', ['start', '--silent'], {
      cwd: join(__dirname, '../..'),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        NODE_ENV: 'development',
        LOG_PRETTY: 'false',
        LOG_LEVEL: 'warn',
        PORT: '0',
        DATABASE_URL: `postgres://127.0.0.1:5432/${database}`,
        // The machine's PostgreSQL serves other test databases: a role of this database's own.
        TOWNHALL_DATABASE_APP_ROLE: testApplicationRole(database),
        TOWNHALL_REDIS_PREFIX: `th_${database}`,
        TOWNHALL_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));

    const deadline = Date.now() + 150_000;
    while (!/Health:/.test(output)) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not come up in time:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const url = /Listening on (http:\/\/\S+)/.exec(output)![1];
    expect(output).toMatch(/Demo tenant:\s+http:\/\/demo\.localhost:\d+\/api\/v1\/instance/);
    const token = /Operator token \(shown once, keep it\): (\S+)/.exec(output)?.[1];
    expect(token).toBeDefined();

    const res = await httpRequest(`${url}/api/v1/instance`, { headers: { Host: 'demo.localhost' } });
    expect(res.status).toBe(200);
    const instance = res.json<{ uri: string; title: string; version: string }>();
    expect(instance).toMatchObject({ uri: 'demo.localhost', title: 'Townhall Demo' });
    expect(instance.version).toMatch(/compatible; Townhall/);

    const tenants = await fetch(`${url}/api/platform/v1/tenants`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(tenants.status).toBe(200);
    const body = (await tenants.json()) as { items: { slug: string; status: string }[] };
    expect(body.items).toEqual([expect.objectContaining({ slug: 'demo', status: 'active' })]);
  }, 180_000);
});
