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
    redis?.disconnect();
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

describe('client addresses and failed authentications (real Redis)', () => {
  const FAILURES = 3;

  async function controlPlane(env: Record<string, string>) {
    const db = await createTestDatabase({
      TOWNHALL_OPERATOR_TOKEN: TOKEN,
      TOWNHALL_RATE_LIMIT: '5',
      TOWNHALL_AUTH_FAILURE_LIMIT: String(FAILURES),
      TOWNHALL_WORKERS: 'false',
      ...env,
    });
    await preparePlatform(db.config, { migrate: true });
    const app = await startControlPlane(db.config);
    return {
      http: app.getHttpServer() as Server,
      close: async () => {
        await app.close();
        await db.drop();
      },
    };
  }

  it('does not believe X-Forwarded-For from a peer that is not a configured proxy', async () => {
    const cp = await controlPlane({});
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await request(cp.http)
          .get(BASE)
          .set('X-Forwarded-For', `198.51.100.${i}`)
          .set('Authorization', `Bearer guessed-token-${i}-0123456789abcdef`);
        statuses.push(res.status);
      }
      // The first failures are 401; then the failure limit (3) and the request limit (5) of the one real
      // address answer 429, whatever address the header claims.
      expect(statuses.slice(0, FAILURES)).toEqual(Array(FAILURES).fill(401));
      expect(statuses.slice(FAILURES)).toEqual(Array(12 - FAILURES).fill(429));
    } finally {
      await cp.close();
    }
  });

  it('counts per forwarded client address behind a trusted proxy, and limits failures per address', async () => {
    const cp = await controlPlane({ TOWNHALL_TRUSTED_PROXIES: '127.0.0.1,::1' });
    try {
      const from = (address: string, token: string) =>
        request(cp.http).get(BASE).set('X-Forwarded-For', address).set('Authorization', `Bearer ${token}`);
      for (let i = 0; i < FAILURES; i++) {
        expect((await from('198.51.100.7', `guess-${i}-aaaaaaaaaaaaaaaaaaaaaaaa`)).status).toBe(401);
      }
      // That address has failed enough: even the right token is not checked from it now.
      const blocked = await from('198.51.100.7', TOKEN);
      expectProblem(blocked, 429, 'too_many_failures');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // Another client behind the same proxy is unaffected.
      expect((await from('198.51.100.8', TOKEN)).status).toBe(200);
      // A client-supplied hop in front of the proxy's own does not pick the address: the proxy's is used.
      expect((await from('198.51.100.7, 198.51.100.9', TOKEN)).status).toBe(200);
    } finally {
      await cp.close();
    }
  });

  it('limits failures per token prefix across addresses', async () => {
    const cp = await controlPlane({ TOWNHALL_TRUSTED_PROXIES: '127.0.0.1,::1', TOWNHALL_RATE_LIMIT: '100' });
    try {
      const known = 'thop_partlyKnown'; // 16 characters: a fragment of a token an attacker has
      const from = (address: string, token: string) =>
        request(cp.http).get(BASE).set('X-Forwarded-For', address).set('Authorization', `Bearer ${token}`);
      for (let i = 0; i < FAILURES; i++) {
        expect((await from(`203.0.113.${i}`, `${known}${i}completion-attempt`)).status).toBe(401);
      }
      expectProblem(await from('203.0.113.50', `${known}another-completion`), 429, 'too_many_failures');
      // Other tokens from that fresh address are checked as usual.
      expect((await from('203.0.113.50', 'thop_somethingElse-entirely')).status).toBe(401);
      expect((await from('203.0.113.51', TOKEN)).status).toBe(200);
    } finally {
      await cp.close();
    }
  });
});
