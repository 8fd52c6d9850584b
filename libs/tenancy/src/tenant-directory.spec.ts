import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { PlatformEvents, type RedisConnection, type TownhallConfig } from '@townhall/core';
import type { DataSource } from 'typeorm';
import { TenantDirectory } from './tenant-directory';

/** A Redis subscriber as far as the directory uses it: it connects, subscribes, hears and drops. */
class FakeSubscriber extends EventEmitter {
  status = 'wait';
  readonly channels: string[] = [];

  connect(): Promise<void> {
    this.status = 'ready';
    this.emit('ready');
    return Promise.resolve();
  }

  subscribe(channel: string): Promise<number> {
    this.channels.push(channel);
    return Promise.resolve(1);
  }

  quit(): Promise<void> {
    this.status = 'end';
    return Promise.resolve();
  }
}

/**
 * The directory's rules (docs/architecture.md, "Tenant directory"): answers come from the cache only
 * while the process is subscribed to tenant changes and for at most TOWNHALL_TENANT_CACHE_MS; an
 * announcement forgets everything, and a lookup in flight when it arrives is not kept; 0 caches nothing.
 */
describe('TenantDirectory', () => {
  let subscriber: FakeSubscriber;
  let status: string;
  let queries: number;
  /** Resolves the lookup in flight, when the test holds it back. */
  let release: (() => void) | undefined;

  const dataSource = {
    query: jest.fn(async () => {
      queries++;
      if (release === undefined) return rows();
      await new Promise<void>((resolve) => (release = resolve));
      return rows();
    }),
  } as unknown as DataSource;
  const rows = () => [
    {
      id: '4711',
      schema_name: 'tenant_4711',
      status,
      display_name: 'Ministry',
      primary_domain: 'social.bmi.example',
    },
  ];

  function directory(tenantCacheMs = 5000): TenantDirectory {
    const redis = {
      subscriber: () => subscriber,
      key: (k: string) => `townhall:${k}`,
    } as unknown as RedisConnection;
    const config = { tenantHttp: { tenantCacheMs } } as TownhallConfig;
    return new TenantDirectory(dataSource, new PlatformEvents(redis), config);
  }

  /** Lets the subscription's promise chain settle. */
  const settled = () => new Promise((r) => setImmediate(r));

  const statusAt = async (d: TenantDirectory) => (await d.atHost('Social.BMI.Example.'))?.ref.status;

  beforeEach(() => {
    subscriber = new FakeSubscriber();
    status = 'active';
    queries = 0;
    release = undefined;
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['setImmediate', 'nextTick'] });
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('answers from its cache while subscribed, within the maximum age', async () => {
    const d = directory();
    await d.listen();
    await settled();
    expect(subscriber.channels).toEqual(['townhall:tenants:changed']);
    expect(await statusAt(d)).toBe('active');
    status = 'suspended';
    expect(await statusAt(d)).toBe('active');
    expect(queries).toBe(1);
    jest.setSystemTime(1_000_000 + 5000);
    expect(await statusAt(d)).toBe('suspended');
    expect(queries).toBe(2);
  });

  it('forgets everything when any process announces a change', async () => {
    const d = directory();
    await d.listen();
    await settled();
    await statusAt(d);
    status = 'suspended';
    subscriber.emit('message', 'townhall:tenants:changed', '4711');
    expect(await statusAt(d)).toBe('suspended');
  });

  it('does not keep an answer that was read before an announcement arrived', async () => {
    const d = directory();
    await d.listen();
    await settled();
    release = () => undefined;
    const inFlight = statusAt(d);
    await settled();
    subscriber.emit('message', 'townhall:tenants:changed', '4711');
    release();
    expect(await inFlight).toBe('active');
    release = undefined;
    status = 'suspended';
    expect(await statusAt(d)).toBe('suspended');
  });

  it('looks every host up while it is not subscribed, and starts empty once it is again', async () => {
    const d = directory();
    expect(await statusAt(d)).toBe('active');
    expect(await statusAt(d)).toBe('active');
    expect(queries).toBe(2); // not listening yet
    await d.listen();
    await settled();
    await statusAt(d);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined); // the drop is logged
    subscriber.emit('close');
    status = 'suspended';
    expect(await statusAt(d)).toBe('suspended');
  });

  it('caches nothing with TOWNHALL_TENANT_CACHE_MS=0, and does not even subscribe', async () => {
    const d = directory(0);
    await d.listen();
    await settled();
    expect(subscriber.channels).toEqual([]);
    await statusAt(d);
    status = 'suspended';
    expect(await statusAt(d)).toBe('suspended');
  });

  it('answers null for a Host that is no host name, without asking the database', async () => {
    const d = directory();
    expect(await d.atHost('social.bmi.example/admin')).toBeNull();
    expect(await d.atHost(undefined)).toBeNull();
    expect(queries).toBe(0);
  });

  it('asks the database once for lookups of one domain at the same time', async () => {
    const d = directory();
    await d.listen();
    await settled();
    release = () => undefined;
    const answers = Promise.all([statusAt(d), statusAt(d), statusAt(d)]);
    await settled();
    release();
    expect(await answers).toEqual(['active', 'active', 'active']);
    expect(queries).toBe(1);
  });

  it('reads an entry past half its lifetime again in the background, serving it meanwhile', async () => {
    const d = directory();
    await d.listen();
    await settled();
    await statusAt(d);
    status = 'suspended';
    jest.setSystemTime(1_000_000 + 2500);
    // Still within its lifetime: answered from the cache, and read again behind it.
    expect(await statusAt(d)).toBe('active');
    await settled();
    expect(queries).toBe(2);
    expect(await statusAt(d)).toBe('suspended');
    expect(queries).toBe(2);
  });
});
