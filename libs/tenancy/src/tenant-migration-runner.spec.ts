import { DataSource, QueryFailedError } from 'typeorm';
import {
  forEachWithConcurrency,
  migrationFailureReason,
  TenantMigrationRunner,
} from './tenant-migration-runner';

describe('forEachWithConcurrency', () => {
  // A turn of the event loop: the other lanes run meanwhile, without waiting a fixed time.
  const tick = () => new Promise((r) => setImmediate(r));

  it('runs every item once and never more than `limit` at a time', async () => {
    const items = Array.from({ length: 23 }, (_, i) => i);
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    await forEachWithConcurrency(items, 4, async (item) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      seen.push(item);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(items);
    expect(peak).toBe(4);
  });

  it('handles fewer items than lanes, and no items', async () => {
    const seen: string[] = [];
    await forEachWithConcurrency(['a'], 8, async (item) => void seen.push(item));
    await forEachWithConcurrency([], 8, async () => void seen.push('never'));
    expect(seen).toEqual(['a']);
  });

  it('starts nothing new after a failure, waits for the running tasks, then rethrows', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await tick();
      if (item === 1) throw new Error('boom');
      await tick();
      finished.push(item);
    });
    await expect(run).rejects.toThrow('boom');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([0]);
  });
});

describe('migrationFailureReason', () => {
  const pgError = (code: string, message: string) =>
    new QueryFailedError('ALTER TABLE accounts …', [], Object.assign(new Error(message), { code }));

  it('names a lock timeout as a busy schema', () => {
    expect(migrationFailureReason(pgError('55P03', 'canceling statement due to lock timeout'), 250)).toMatch(
      /^lock timeout: schema busy .*250 ms/,
    );
  });

  it('names deadlocks and passes other database messages through', () => {
    expect(migrationFailureReason(pgError('40P01', 'deadlock detected'), 100)).toMatch(/^deadlock/);
    expect(
      migrationFailureReason(pgError('42701', 'column "x" of relation "accounts" already exists'), 100),
    ).toBe('migration failed: column "x" of relation "accounts" already exists');
    expect(migrationFailureReason('weird', 100)).toBe('migration failed: weird');
  });
});

describe('TenantMigrationRunner on a pool of one connection', () => {
  it('refuses to run, before taking the run’s lock, since that lock would hold the only connection', async () => {
    const createQueryRunner = jest.fn();
    const dataSource = { options: { extra: { max: 1 } }, createQueryRunner } as unknown as DataSource;
    await expect(new TenantMigrationRunner(dataSource).migrateAll({ concurrency: 1 })).rejects.toThrow(
      'a database pool of at least 2 connections (DATABASE_POOL_SIZE)',
    );
    expect(createQueryRunner).not.toHaveBeenCalled();
  });
});
