import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { dropDatabase, testApplicationRole } from '../support/database';
import { httpRequest } from '../support/http';
import { ROOT, RunningProcess, startProcess } from '../support/processes';
import { removeRedisKeys } from '../support/redis';
import { runDatabasePrefix, testRedisPrefix } from '../support/test-run';

/**
 * The README's first command, as a new user runs it: `npm start` against a database that does not
 * exist yet. It must create the database, migrate, provision the demo tenant, print how to reach it,
 * and serve the demo tenant's /api/v1/instance.
 *
 * `npm start` is `npm run build && node <entry>`. Building here would rewrite dist/ while other test
 * files run it (`npm test` builds once, before any test), so this test checks that the start script is
 * exactly that, then runs the entry it names, as the script does after its build.
 */
const START_SCRIPT = /^npm run build && node (\S+)$/;

describe('quick start: npm start on a fresh database', () => {
  const database = `${runDatabasePrefix()}quickstart_${randomBytes(4).toString('hex')}`;
  const redis = {
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyPrefix: testRedisPrefix(database),
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'townhall-quickstart-'));
  let townhall: RunningProcess | undefined;

  afterAll(async () => {
    await townhall?.stop();
    await removeRedisKeys({ redis });
    await dropDatabase(database);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('npm start builds, then starts the all-in-one entry point and nothing else', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.start).toMatch(START_SCRIPT);
    expect(START_SCRIPT.exec(scripts.start)![1]).toBe('dist/apps/townhall/src/main.js');
    expect(scripts.test).toBe('npm run build && jest');
  });

  /** The environment a new user has, but for this test's database, Redis prefix and data folder. */
  const userEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    NODE_ENV: 'development',
    LOG_PRETTY: 'false',
    LOG_LEVEL: 'warn',
    DATABASE_URL: `postgres://127.0.0.1:5432/${database}`,
    // The machine's PostgreSQL serves other test databases: a role of this database's own.
    TOWNHALL_DATABASE_APP_ROLE: testApplicationRole(database),
    TOWNHALL_REDIS_PREFIX: redis.keyPrefix,
    TOWNHALL_DATA_DIR: dataDir,
  };

  /** What `npm start` runs after its build, started when a test first asks for it. */
  async function started(): Promise<RunningProcess> {
    if (townhall) return townhall;
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const entry = START_SCRIPT.exec(scripts.start)?.[1];
    if (!entry) throw new Error(`the start script is not "npm run build && node <entry>": ${scripts.start}`);
    townhall = await startProcess(
      join(ROOT, entry),
      { ...userEnv, PORT: '0' },
      { readyLine: /Health:/, timeoutMs: 150_000 },
    );
    return townhall;
  }

  it('serves the demo tenant and prints how to reach it', async () => {
    const townhall = await started();
    const output = townhall.stdout() + townhall.stderr();
    expect(output).toMatch(/Demo tenant:\s+http:\/\/demo\.localhost:\d+\/api\/v1\/instance/);
    const token = /Operator token \(shown once, keep it\): (\S+)/.exec(output)?.[1];
    expect(token).toBeDefined();

    const res = await httpRequest(`${townhall.url}/api/v1/instance`, { headers: { Host: 'demo.localhost' } });
    expect(res.status).toBe(200);
    const instance = res.json<{ uri: string; title: string; version: string }>();
    expect(instance).toMatchObject({ uri: 'demo.localhost', title: 'Townhall Demo' });
    expect(instance.version).toMatch(/compatible; Townhall/);

    const tenants = await fetch(`${townhall.url}/api/platform/v1/tenants`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(tenants.status).toBe(200);
    const body = (await tenants.json()) as { items: { slug: string; status: string }[] };
    expect(body.items).toEqual([expect.objectContaining({ slug: 'demo', status: 'active' })]);
  }, 180_000);

  it('lets a newcomer post as the README\'s "Post as an agency" says, command for command', async () => {
    const townhall = await started();
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Post as an agency'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
    if (!block) throw new Error('README.md has no shell block under "Post as an agency"');
    // As written, but for the port this platform listens on and where the photo is.
    const photo = join(dataDir, 'photo.jpg');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } })
      .jpeg()
      .toFile(photo);
    const script = block
      .replaceAll('http://127.0.0.1:3000', townhall.url)
      .replaceAll('file=@photo.jpg', `file=@${photo}`);
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: ROOT,
      env: userEnv,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ status: run.status, stderr: run.stderr }).toMatchObject({ status: 0 });
    // What citizens read: both statuses, the second with its picture and description.
    const timeline = await httpRequest(`${townhall.url}/api/v1/timelines/public`, {
      headers: { Host: 'demo.localhost' },
    });
    expect(timeline.status).toBe(200);
    const statuses =
      timeline.json<
        { content: string; account: { username: string }; media_attachments: { description: string }[] }[]
      >();
    expect(statuses.map((s) => [s.account.username, s.content.replace(/<[^>]+>/g, '')])).toEqual([
      ['press', 'Opening day'],
      ['press', 'Hello from the press office #demo'],
    ]);
    expect(statuses[0].media_attachments).toEqual([
      expect.objectContaining({ description: 'The new town hall' }),
    ]);
    // And on the tenant's public pages, as the README says: the profile with its picture described, the
    // account's feed, the hashtag page.
    const page = async (path: string) => {
      const res = await httpRequest(`${townhall.url}${path}`, { headers: { Host: 'demo.localhost' } });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      return res.text;
    };
    const profile = (await page('/@press')).replace(/\s+/g, ' ');
    expect(profile).toContain('Opening day');
    expect(profile).toMatch(/<img [^>]*alt="The new town hall"/);
    expect(await page('/@press.rss')).toContain('<rss version="2.0"');
    expect(await page('/tags/demo')).toContain('Hello from the press office');
    // The account's password was printed once, as the README says.
    expect(run.stdout).toMatch(/password/i);
  }, 180_000);
});
