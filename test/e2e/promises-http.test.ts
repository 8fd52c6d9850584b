import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';
import { expectProblem, startControlPlane } from './operator-support';

/** README, `TOWNHALL_BODY_LIMIT_BYTES`: the largest request body accepted, 413 above. */
describe('the request body limit (real HTTP and PostgreSQL)', () => {
  const LIMIT = 2048;
  const token = `body-limit-${randomBytes(16).toString('hex')}`;
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplication;

  const tenants = async (): Promise<number> =>
    (
      (await app.get(DataSource).query(`SELECT count(*)::int AS n FROM platform.tenants`)) as [{ n: number }]
    )[0].n;

  /** A tenant registration whose JSON is exactly `size` bytes, padded in a field nobody reads. */
  function bodyOf(size: number, slug: string): string {
    const body = {
      slug,
      domain: `social.${slug}.example`,
      displayName: slug,
      adminEmail: `a@${slug}.example`,
    };
    const bare = JSON.stringify({ ...body, pad: '' });
    return JSON.stringify({ ...body, pad: ' '.repeat(size - Buffer.byteLength(bare)) });
  }

  const post = (body: string) =>
    request(app.getHttpServer() as Server)
      .post('/api/platform/v1/tenants')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send(body);

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({
      TOWNHALL_OPERATOR_TOKEN: token,
      TOWNHALL_WORKERS: 'false',
      TOWNHALL_BODY_LIMIT_BYTES: String(LIMIT),
    }));
    await preparePlatform(config, { migrate: true });
    app = await startControlPlane(config);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('refuses a body one byte over the limit with 413 problem details, and writes nothing', async () => {
    expectProblem(await post(bodyOf(LIMIT + 1, 'over')), 413);
    expect(await tenants()).toBe(0);
  });

  it('reads a body of exactly the limit (then validation decides)', async () => {
    // `pad` is not a field of the request: the whitelist refuses it, after the body was read.
    const res = await post(bodyOf(LIMIT, 'exact'));
    expectProblem(res, 400);
    expect(JSON.stringify(res.body)).toContain('pad');
    expect(await tenants()).toBe(0);
  });
});
