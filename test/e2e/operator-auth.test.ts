import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuthError, BOOTSTRAP_OPERATOR_NAME, OperatorTokens } from '@townhall/auth';
import { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { actingAs } from '../support/audit';
import { createTestDatabase } from '../support/database';
import { expectProblem, startControlPlane } from './operator-support';

const BASE = '/api/platform/v1/tenants';

describe('operator tokens (real HTTP and PostgreSQL)', () => {
  const bootstrapToken = `bootstrap-token-${randomBytes(16).toString('hex')}`;
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplication;
  let http: Server;
  let ds: DataSource;
  let tokens: OperatorTokens;

  async function start(cfg: TownhallConfig): Promise<void> {
    app = await startControlPlane(cfg);
    http = app.getHttpServer() as Server;
    ds = app.get(DataSource);
    tokens = actingAs(app.get(OperatorTokens));
  }

  const list = (token: string) => request(http).get(BASE).set('Authorization', `Bearer ${token}`);

  async function operatorRow(name: string) {
    const rows = (await ds.query(
      `SELECT token_hash, token_hint, last_used_at, revoked_at FROM platform.operators WHERE name = $1`,
      [name],
    )) as { token_hash: Buffer; token_hint: string; last_used_at: Date | null; revoked_at: Date | null }[];
    return rows;
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({
      TOWNHALL_OPERATOR_TOKEN: bootstrapToken,
      TOWNHALL_WORKERS: 'false',
    }));
    await preparePlatform(config, { migrate: true });
    await start(config);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('creates the bootstrap operator from TOWNHALL_OPERATOR_TOKEN at start, storing only a hash', async () => {
    const rows = await operatorRow(BOOTSTRAP_OPERATOR_NAME);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash.equals(createHash('sha256').update(bootstrapToken).digest())).toBe(true);
    expect(rows[0].token_hint).toBe(bootstrapToken.slice(-4));
    const dump = JSON.stringify(
      await ds.query(`SELECT *, encode(token_hash, 'escape') AS raw FROM platform.operators`),
    );
    expect(dump).not.toContain(bootstrapToken);
    expect((await list(bootstrapToken)).status).toBe(200);
  });

  it('issues tokens that work over HTTP, and records their use at most once a minute', async () => {
    const { operator, token } = await tokens.create('alice@ops');
    expect(token).toMatch(/^thop_[A-Za-z0-9_-]{43}$/);
    expect(operator).toMatchObject({
      name: 'alice@ops',
      tokenHint: token.slice(-4),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(operator).not.toHaveProperty('tokenHash');

    expect((await list(token)).status).toBe(200);
    const [first] = await operatorRow('alice@ops');
    expect(first.last_used_at).toBeInstanceOf(Date);
    expect((await list(token)).status).toBe(200);
    const [second] = await operatorRow('alice@ops');
    expect(second.last_used_at).toEqual(first.last_used_at);

    await ds.query(
      `UPDATE platform.operators SET last_used_at = now() - interval '2 minutes' WHERE name = 'alice@ops'`,
    );
    expect((await list(token)).status).toBe(200);
    const [third] = await operatorRow('alice@ops');
    expect(third.last_used_at!.getTime()).toBeGreaterThan(Date.now() - 30_000);
  });

  it('refuses duplicate and malformed operator names', async () => {
    await tokens.create('bob');
    await expect(tokens.create('bob')).rejects.toMatchObject({ code: 'operator_exists' });
    await expect(tokens.create('-bob')).rejects.toBeInstanceOf(AuthError);
    await expect(tokens.create('bob smith')).rejects.toMatchObject({ code: 'invalid_operator_name' });
  });

  it('stops accepting a token once it is revoked', async () => {
    const { token } = await tokens.create('carol');
    expect((await list(token)).status).toBe(200);
    const revoked = await tokens.revoke('carol');
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    const res = await list(token);
    expectProblem(res, 401, 'invalid_token');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    await expect(tokens.revoke('nobody')).rejects.toMatchObject({ code: 'operator_not_found' });
  });

  it('refuses a valid token sent in the query string or body', async () => {
    expectProblem(await request(http).get(`${BASE}?access_token=${bootstrapToken}`), 401);
    const before = (await ds.query(`SELECT count(*)::int AS n FROM platform.tenants`)) as [{ n: number }];
    const res = await request(http).post(BASE).send({
      access_token: bootstrapToken,
      slug: 'sneaky',
      domain: 'sneaky.example',
      displayName: 'S',
      adminEmail: 'a@sneaky.example',
    });
    expectProblem(res, 401);
    expect(await ds.query(`SELECT count(*)::int AS n FROM platform.tenants`)).toEqual(before);
  });

  it('replaces the bootstrap token when TOWNHALL_OPERATOR_TOKEN changes, and is idempotent otherwise', async () => {
    await app.close();
    await start(config);
    expect(await operatorRow(BOOTSTRAP_OPERATOR_NAME)).toHaveLength(1);
    expect((await list(bootstrapToken)).status).toBe(200);

    const rotated = `rotated-token-${randomBytes(16).toString('hex')}`;
    await app.close();
    await start({ ...config, operatorToken: rotated });
    expect(await operatorRow(BOOTSTRAP_OPERATOR_NAME)).toHaveLength(1);
    expectProblem(await list(bootstrapToken), 401);
    expect((await list(rotated)).status).toBe(200);

    // A revoked bootstrap token stays revoked across restarts; only a new token brings it back.
    await tokens.revoke(BOOTSTRAP_OPERATOR_NAME);
    await app.close();
    await start({ ...config, operatorToken: rotated });
    expectProblem(await list(rotated), 401);
    const fresh = `fresh-token-${randomBytes(16).toString('hex')}`;
    await app.close();
    await start({ ...config, operatorToken: fresh });
    expect((await list(fresh)).status).toBe(200);
  });
});
