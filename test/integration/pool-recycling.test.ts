import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { dataSourceOptions } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';

/**
 * A pooled connection is replaced after DATABASE_POOL_MAX_USES transactions, so the catalog cache a
 * PostgreSQL backend builds for every tenant schema it touches cannot grow without bound.
 */
describe('pool recycling (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ DATABASE_POOL_SIZE: '1', DATABASE_POOL_MAX_USES: '3' }));
    await preparePlatform(config, { migrate: true });
  });

  afterAll(async () => {
    await drop?.();
  });

  async function backendsServing(transactions: number, cfg: TownhallConfig): Promise<number[]> {
    const ds = new DataSource({ ...dataSourceOptions(cfg), entities: [] });
    await ds.initialize();
    try {
      const pids: number[] = [];
      for (let i = 0; i < transactions; i++) {
        pids.push(
          await ds.transaction(async (m) => {
            const [{ pid }] = (await m.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
            return pid;
          }),
        );
      }
      return pids;
    } finally {
      await ds.destroy();
    }
  }

  it('replaces a connection after the configured number of transactions', async () => {
    const pids = await backendsServing(7, config);
    expect(new Set(pids.slice(0, 3)).size).toBe(1);
    expect(new Set(pids.slice(3, 6)).size).toBe(1);
    expect(pids[3]).not.toBe(pids[0]);
    expect(pids[6]).not.toBe(pids[3]);
  });

  it('keeps a connection for good with 0', async () => {
    const pids = await backendsServing(7, { ...config, database: { ...config.database, poolMaxUses: 0 } });
    expect(new Set(pids).size).toBe(1);
  });
});
