import { Client } from 'pg';
import Redis from 'ioredis';
import { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';
import { ENTRY, processEnv, startProcess } from '../support/processes';

/**
 * README, `TOWNHALL_DEMO`: the all-in-one process provisions a demo tenant only when the platform has
 * no tenant, and not at all with the setting off. (That it does on a fresh platform, the quick start
 * test shows.) Each case is a real `npm start` process, stopped once it printed its addresses — which
 * it does after deciding about the demo tenant.
 */
jest.setTimeout(120_000);

describe('the demo tenant of the all-in-one process (real process, PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let db: Client;

  const tenants = async (): Promise<{ slug: string }[]> =>
    (await db.query(`SELECT slug FROM platform.tenants ORDER BY id`)).rows as { slug: string }[];

  /** Starts the all-in-one with `env`, waits for its summary, stops it and returns what it printed. */
  async function start(env: Record<string, string>): Promise<string> {
    const townhall = await startProcess(ENTRY.allInOne, processEnv(config, { PORT: '0', ...env }), {
      readyLine: /Health:/,
    });
    await townhall.stop();
    return townhall.stdout();
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
    const redis = new Redis(config.redis.url);
    const keys = await redis.keys(`${config.redis.keyPrefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('provisions none with TOWNHALL_DEMO=false, even on an empty platform', async () => {
    expect(await tenants()).toEqual([]);
    const printed = await start({ TOWNHALL_DEMO: 'false' });
    expect(printed).toContain('Operator API:');
    expect(printed).not.toContain('Demo tenant');
    expect(await tenants()).toEqual([]);
  });

  it('provisions none when the platform already has a tenant', async () => {
    await db.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       SELECT id, 'existing', 'Existing', 'a@existing.example', 'failed', 'default', 'tenant_' || id
         FROM (SELECT platform.next_id() AS id) s`,
    );
    const printed = await start({ TOWNHALL_DEMO: 'true' });
    expect(printed).toContain('Operator API:');
    expect(printed).not.toContain('Demo tenant');
    expect(await tenants()).toEqual([{ slug: 'existing' }]);
  });
});
