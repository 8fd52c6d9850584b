import type { TownhallConfig } from '@townhall/core';
import { TenantContext, type TenantRef, type TenantTransactions } from '@townhall/tenancy';
import { LocalUsageCache } from './local-usage';

const tenant = (id: string): TenantRef => ({
  id,
  schema: `tenant_${id}`,
  domain: `${id}.example`,
  status: 'active',
});

describe('LocalUsageCache', () => {
  let counts: number;
  let fail = false;
  const transactions = {
    run: jest.fn(async () => {
      counts++;
      if (fail) throw new Error('database gone');
      return { users: counts, activeMonth: 0, activeHalfyear: 0, localPosts: 0 };
    }),
  } as unknown as TenantTransactions;
  const config = (usageCacheMs: number) => ({ tenantHttp: { usageCacheMs } }) as TownhallConfig;

  beforeEach(() => {
    counts = 0;
    fail = false;
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => jest.useRealTimers());

  it('counts once per tenant within the maximum age, and again after it', async () => {
    const cache = new LocalUsageCache(transactions, config(60_000));
    const first = await TenantContext.run(tenant('1'), () => cache.current());
    const again = await TenantContext.run(tenant('1'), () => cache.current());
    const other = await TenantContext.run(tenant('2'), () => cache.current());
    expect([first.users, again.users, other.users]).toEqual([1, 1, 2]);
    jest.setSystemTime(1_000_000 + 60_000);
    expect((await TenantContext.run(tenant('1'), () => cache.current())).users).toBe(3);
  });

  it('shares one count between concurrent requests', async () => {
    const cache = new LocalUsageCache(transactions, config(60_000));
    const both = await TenantContext.run(tenant('1'), () => Promise.all([cache.current(), cache.current()]));
    expect(both.map((u) => u.users)).toEqual([1, 1]);
    expect(counts).toBe(1);
  });

  it('keeps no failed count', async () => {
    const cache = new LocalUsageCache(transactions, config(60_000));
    fail = true;
    await expect(TenantContext.run(tenant('1'), () => cache.current())).rejects.toThrow('database gone');
    fail = false;
    expect((await TenantContext.run(tenant('1'), () => cache.current())).users).toBe(2);
  });

  it('counts every time when the maximum age is 0', async () => {
    const cache = new LocalUsageCache(transactions, config(0));
    await TenantContext.run(tenant('1'), () => cache.current());
    await TenantContext.run(tenant('1'), () => cache.current());
    expect(counts).toBe(2);
  });
});
