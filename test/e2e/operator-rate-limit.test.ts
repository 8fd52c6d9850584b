import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';
import { expectProblem, startControlPlane } from './operator-support';

const TOKEN = `rate-limit-test-${randomBytes(16).toString('hex')}`;
const BASE = '/api/platform/v1/tenants';
const LIMIT = 4;

describe('operator API rate limit (real Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let first: INestApplication;
  let second: INestApplication;
  let redis: Redis;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({
      TOWNHALL_OPERATOR_TOKEN: TOKEN,
      TOWNHALL_RATE_LIMIT: String(LIMIT),
      TOWNHALL_RATE_LIMIT_WINDOW_MS: '60000',
      TOWNHALL_WORKERS: 'false',
    }));
    await preparePlatform(config, { migrate: true });
    // Two processes of the control plane: the budget must be shared through Redis, not kept per process.
    first = await startControlPlane(config);
    second = await startControlPlane(config);
    redis = new Redis(config.redis.url);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${config.redis.keyPrefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await first?.close();
    await second?.close();
    await drop?.();
  });

  it('answers 429 problem details with Retry-After once the budget shared by all processes is spent, wrong tokens included', async () => {
    const a = first.getHttpServer() as Server;
    const b = second.getHttpServer() as Server;
    const auth = { Authorization: `Bearer ${TOKEN}` };

    const ok1 = await request(a).get(BASE).set(auth);
    expect(ok1.status).toBe(200);
    expect(ok1.headers['x-ratelimit-limit']).toBe(String(LIMIT));
    expect((await request(b).get(BASE).set(auth)).status).toBe(200);
    // Guessing tokens spends the budget too: the limit runs before authentication.
    expect(
      (await request(a).get(BASE).set('Authorization', 'Bearer guessed-token-0123456789abcdef')).status,
    ).toBe(401);
    expect((await request(b).post(`${BASE}/123/suspend`).set(auth)).status).toBe(404);

    const limited = await request(b).get(BASE).set(auth);
    expectProblem(limited, 429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);

    const limitedWrite = await request(a)
      .post(BASE)
      .set(auth)
      .send({ slug: 'late', domain: 'late.example', displayName: 'Late', adminEmail: 'a@late.example' });
    expectProblem(limitedWrite, 429);
    expect(limitedWrite.headers['retry-after']).toEqual(expect.any(String));

    // Counted in Redis under this installation's key prefix.
    expect(await redis.keys(`${config.redis.keyPrefix}:rate-limit:*`)).not.toHaveLength(0);
  });
});
