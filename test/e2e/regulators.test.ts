import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { RegulatorDescription } from '@townhall/auth';
import { AuditStore } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { cliEnv, runCliInProcess } from '../support/cli';
import { expectProblem } from './operator-support';
import { loggedEntries, RegulatorTestPlatform, startRegulatorPlatform } from './regulator-support';

const BASE = '/api/platform/v1/regulators';
const REGULATOR_KEYS = '/api/regulator/v1/audit/keys';
const DAY = 86_400_000;

type RegulatorView = RegulatorDescription & { token?: string };

const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

describe('regulators: the operator API and CLI (real HTTP, PostgreSQL and Redis)', () => {
  let platform: RegulatorTestPlatform;
  let config: TownhallConfig;
  let app: INestApplication;
  let http: Server;
  let ds: DataSource;
  let auth: { Authorization: string };
  let tenantA: string;
  let tenantB: string;
  let operatorId: string;

  const api = () => request(http);
  const create = (body: Record<string, unknown>) => api().post(BASE).set(auth).send(body);
  const regulatorCount = async () =>
    ((await ds.query(`SELECT count(*)::int AS n FROM platform.regulators`)) as [{ n: number }])[0].n;

  beforeAll(async () => {
    platform = await startRegulatorPlatform(['reg-a', 'reg-b']);
    ({ config, app, http, ds, operator: auth } = platform);
    [tenantA, tenantB] = platform.tenantIds;
    [{ id: operatorId }] = (await ds.query(
      `SELECT id::text AS id FROM platform.operators WHERE name = 'bootstrap'`,
    )) as { id: string }[];
  });

  afterAll(async () => {
    await platform?.close();
  });

  describe('POST /regulators', () => {
    it('issues a scoped token once, stores only its hash, and records the issue without the name', async () => {
      const name = 'Data Protection Authority — case 2025-117';
      const expiresAt = inDays(90);
      const res = await create({ name, tenantIds: [tenantB, tenantA, tenantA], expiresAt });
      expect(res.status).toBe(201);
      const body = res.body as RegulatorView;
      expect(body.token).toMatch(/^thrg_[A-Za-z0-9_-]{43}$/);
      expect(body).toMatchObject({
        name,
        all: false,
        tenantIds: [tenantA, tenantB].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
        status: 'active',
        expiresAt,
        tokenHint: body.token!.slice(-4),
        createdBy: operatorId,
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(res.headers.location).toBe(`${BASE}/${body.id}`);
      expect(res.headers['cache-control']).toBe('no-store');

      // Only the SHA-256 of the token is kept, and it is never shown again.
      const [row] = (await ds.query(`SELECT token_hash FROM platform.regulators WHERE id = $1`, [
        body.id,
      ])) as {
        token_hash: Buffer;
      }[];
      expect(row.token_hash.equals(createHash('sha256').update(body.token!).digest())).toBe(true);
      const dump = JSON.stringify(
        await ds.query(`SELECT *, encode(token_hash, 'escape') FROM platform.regulators`),
      );
      expect(dump).not.toContain(body.token);
      const shown = await api().get(`${BASE}/${body.id}`).set(auth);
      expect(shown.status).toBe(200);
      expect(shown.body).not.toHaveProperty('token');
      expect(JSON.stringify((await api().get(BASE).set(auth)).body)).not.toContain(body.token);

      // The token works on the regulator API at once.
      expect((await api().get(REGULATOR_KEYS).set('Authorization', `Bearer ${body.token}`)).status).toBe(200);

      const entries = (await loggedEntries(app)).filter(
        (e) => e.action === 'regulator.create' && e.target.id === body.id,
      );
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        outcome: 'success',
        tenant: null,
        actor: { type: 'operator', id: operatorId },
        target: { type: 'regulator', id: body.id },
        requestId: res.headers['x-request-id'],
        details: { all: false, tenantIds: body.tenantIds, expiresAt },
      });
      expect(JSON.stringify(entries[0])).not.toContain('Data Protection Authority');
    });

    it('issues a token for the whole platform, with a date as expiry', async () => {
      const day = new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10);
      const res = await create({ name: 'External auditor', all: true, expiresAt: day });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ all: true, tenantIds: [], expiresAt: `${day}T00:00:00.000Z` });
    });

    it('refuses malformed requests with 400 problem details and writes no regulator', async () => {
      const before = await regulatorCount();
      const bad: [Record<string, unknown>, string | undefined][] = [
        [{ name: 'x', expiresAt: inDays(1) }, 'invalid_regulator'], // no scope
        [{ name: 'x', all: true, tenantIds: [tenantA], expiresAt: inDays(1) }, 'invalid_regulator'],
        [{ name: 'x', all: false, tenantIds: [tenantA], expiresAt: inDays(1) }, undefined],
        [{ name: 'x', tenantIds: [], expiresAt: inDays(1) }, undefined],
        [{ name: 'x', tenantIds: ['abc'], expiresAt: inDays(1) }, undefined],
        [{ name: 'x', tenantIds: ['99999999999999999999'], expiresAt: inDays(1) }, undefined],
        [{ name: 'x', tenantIds: ['9223372036854775807'], expiresAt: inDays(1) }, 'unknown_tenants'],
        [{ name: 'x', all: true, expiresAt: inDays(-1) }, 'invalid_regulator'], // past
        [{ name: 'x', all: true, expiresAt: inDays(731) }, 'invalid_regulator'], // beyond two years
        [{ name: 'x', all: true, expiresAt: 'next tuesday' }, 'invalid_regulator'],
        [{ name: 'x', all: true, expiresAt: '2027-02-30' }, 'invalid_regulator'],
        [{ name: 'x', all: true }, undefined],
        [{ name: '   ', all: true, expiresAt: inDays(1) }, undefined],
        [{ name: 'x'.repeat(101), all: true, expiresAt: inDays(1) }, undefined],
        [{ name: 'Authority\u0000', all: true, expiresAt: inDays(1) }, undefined],
        [{ name: 'Authority\u202e', all: true, expiresAt: inDays(1) }, undefined],
        [{ name: 'Autho\u200brity', all: true, expiresAt: inDays(1) }, undefined],
        [{ name: 'x', all: true, expiresAt: inDays(1), token: 'thrg_mine' }, undefined],
      ];
      for (const [body, code] of bad) {
        const res = await create(body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expectProblem(res, 400, code);
      }
      expect(await regulatorCount()).toBe(before);
    });

    it('needs an operator token: 401 without one, and a regulator token is not one', async () => {
      const before = await regulatorCount();
      const missing = await api()
        .post(BASE)
        .send({ name: 'x', all: true, expiresAt: inDays(1) });
      expectProblem(missing, 401, 'missing_token');
      const issued = (await create({ name: 'Regulator', all: true, expiresAt: inDays(1) }))
        .body as RegulatorView;
      const asRegulator = await api().get(BASE).set('Authorization', `Bearer ${issued.token}`);
      expectProblem(asRegulator, 401, 'invalid_token');
      expect(await regulatorCount()).toBe(before + 1);
    });
  });

  describe('GET /regulators', () => {
    it('pages newest first with a cursor and a Link header', async () => {
      for (let i = 0; i < 3; i++) await create({ name: `Page ${i}`, all: true, expiresAt: inDays(10) });
      const total = await regulatorCount();
      const seen: string[] = [];
      let url = `${BASE}?limit=2`;
      for (;;) {
        const res = await api().get(url).set(auth);
        expect(res.status).toBe(200);
        const page = res.body as { items: RegulatorView[]; nextCursor: string | null };
        seen.push(...page.items.map((r) => r.id));
        if (page.nextCursor === null) {
          expect(res.headers.link).toBeUndefined();
          break;
        }
        expect(res.headers.link).toBe(`<${BASE}?limit=2&cursor=${page.nextCursor}>; rel="next"`);
        url = `${BASE}?limit=2&cursor=${page.nextCursor}`;
      }
      expect(seen).toHaveLength(total);
      expect([...seen].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1))).toEqual(seen);
      for (const query of ['limit=0', 'cursor=x', 'limit=', 'limit=1e1', 'limit=0x10', 'limit=%202']) {
        expectProblem(await api().get(`${BASE}?${query}`).set(auth), 400);
      }
    });

    it('answers 404 for unknown and malformed ids', async () => {
      expectProblem(await api().get(`${BASE}/9223372036854775807`).set(auth), 404, 'regulator_not_found');
      expectProblem(await api().get(`${BASE}/abc`).set(auth), 404, 'regulator_not_found');
    });
  });

  describe('DELETE /regulators/{id}', () => {
    it('revokes: the token stops working with the next request, and the revocation is recorded', async () => {
      const issued = (await create({ name: 'Short-lived', tenantIds: [tenantA], expiresAt: inDays(5) }))
        .body as RegulatorView;
      const asRegulator = () => api().get(REGULATOR_KEYS).set('Authorization', `Bearer ${issued.token}`);
      expect((await asRegulator()).status).toBe(200);

      const res = await api().delete(`${BASE}/${issued.id}`).set(auth);
      expect(res.status).toBe(200);
      const revoked = res.body as RegulatorView;
      expect(revoked).toMatchObject({ id: issued.id, status: 'revoked', revokedAt: expect.any(String) });

      const refused = await asRegulator();
      expectProblem(refused, 401, 'invalid_token');
      expect(refused.body.detail).toMatch(/revoked/);

      // Revoking again keeps the first time.
      const again = await api().delete(`${BASE}/${issued.id}`).set(auth);
      expect(again.status).toBe(200);
      expect((again.body as RegulatorView).revokedAt).toBe(revoked.revokedAt);

      const entries = (await loggedEntries(app)).filter(
        (e) => e.action === 'regulator.revoke' && e.target.id === issued.id,
      );
      expect(entries.map((e) => [e.outcome, e.details.alreadyRevoked])).toEqual([
        ['success', false],
        ['success', true],
      ]);
      expect(entries[0].requestId).toBe(res.headers['x-request-id']);
    });

    it('answers 404 for an unknown regulator', async () => {
      expectProblem(await api().delete(`${BASE}/9223372036854775807`).set(auth), 404, 'regulator_not_found');
      expectProblem(await api().delete(`${BASE}/nope`).set(auth), 404, 'regulator_not_found');
    });
  });

  describe('GET /audit/keys', () => {
    it('serves the audit signing keys to anyone, in the shape the verifier reads', async () => {
      // The first checkpoint makes the first key (the tenants' registration is in the log to sign).
      await app.get(AuditStore).checkpointNow();
      const res = await api().get('/api/platform/v1/audit/keys');
      expect(res.status).toBe(200);
      const { keys } = res.body as { keys: Record<string, unknown>[] };
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(Object.keys(key).sort()).toEqual([
          'algorithm',
          'keyId',
          'publicKeyPem',
          'validFrom',
          'validTo',
        ]);
        expect(key).toMatchObject({ algorithm: 'ed25519', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
        expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      }
    });
  });

  it('documents the endpoints in the operator API’s OpenAPI document', async () => {
    const doc = (await api().get('/api/platform/docs/openapi.json')).body as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.paths[BASE]).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths[`${BASE}/{id}`]).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths[BASE].post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '429']),
    );
    expect(doc.paths[BASE].post.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.paths[`${BASE}/{id}`].delete.responses)).toEqual(
      expect.arrayContaining(['200', '404']),
    );
    expect(doc.paths['/api/platform/v1/audit/keys'].get.security).toBeUndefined();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/regulator'))).toEqual([]);
  });

  describe('townhall regulators (CLI)', () => {
    const townhall = (args: string[]) => runCliInProcess(args, cliEnv(config));

    it('creates (by tenant slug), lists and revokes a regulator, each change recorded', async () => {
      const expires = new Date(Date.now() + 60 * DAY).toISOString().slice(0, 10);
      const created = await townhall([
        'regulators',
        'create',
        'CLI regulator',
        '--tenant',
        'reg-a',
        '--tenant',
        tenantB,
        '--expires-at',
        expires,
        '--json',
      ]);
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(created.stderr).toMatch(/shown only once/);
      const issued = JSON.parse(created.stdout) as RegulatorView;
      expect(issued).toMatchObject({
        name: 'CLI regulator',
        all: false,
        status: 'active',
        createdBy: null,
        expiresAt: `${expires}T00:00:00.000Z`,
      });
      expect([...issued.tenantIds].sort()).toEqual([tenantA, tenantB].sort());
      expect(issued.token).toMatch(/^thrg_/);
      expect((await api().get(REGULATOR_KEYS).set('Authorization', `Bearer ${issued.token}`)).status).toBe(
        200,
      );

      const listed = await townhall(['regulators', 'list', '--json']);
      expect(listed.code).toBe(0);
      const listedAll = JSON.parse(listed.stdout) as RegulatorView[];
      expect(listedAll.find((r) => r.id === issued.id)).toMatchObject({ status: 'active' });
      expect(listedAll).toHaveLength(await regulatorCount());
      expect(listed.stdout).not.toContain(issued.token);

      const table = await townhall(['regulators', 'list']);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain('CLI regulator');

      const revoked = await townhall(['regulators', 'revoke', issued.id, '--json']);
      expect(revoked.code).toBe(0);
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: issued.id, status: 'revoked' });
      expectProblem(await api().get(REGULATOR_KEYS).set('Authorization', `Bearer ${issued.token}`), 401);

      const entries = (await loggedEntries(app)).filter((e) => e.target.id === issued.id);
      expect(entries.map((e) => [e.action, e.outcome, e.actor.type, e.actor.id])).toEqual([
        ['regulator.create', 'success', 'system', 'cli'],
        ['regulator.revoke', 'success', 'system', 'cli'],
      ]);
    });

    it('refuses a missing scope, both scopes, a bad expiry or an unknown tenant, writing nothing', async () => {
      const before = await regulatorCount();
      const noScope = await townhall(['regulators', 'create', 'x', '--expires-at', inDays(1)]);
      expect(noScope.code).toBe(2);
      expect(noScope.stderr).toMatch(/--tenant .*--all/);
      const both = await townhall([
        'regulators',
        'create',
        'x',
        '--all',
        '--tenant',
        'reg-a',
        '--expires-at',
        inDays(1),
      ]);
      expect(both.code).toBe(2);
      const noExpiry = await townhall(['regulators', 'create', 'x', '--all']);
      expect(noExpiry.code).toBe(2);
      expect(noExpiry.stderr).toMatch(/--expires-at/);
      const past = await townhall(['regulators', 'create', 'x', '--all', '--expires-at', '2020-01-01']);
      expect(past.code).toBe(1);
      expect(past.stderr).toMatch(/expiresAt must be in the future/);
      const unknown = await townhall([
        'regulators',
        'create',
        'x',
        '--tenant',
        'no-such',
        '--expires-at',
        inDays(1),
      ]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no-such/);
      const missing = await townhall(['regulators', 'revoke', '9223372036854775807']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/Regulator not found/);
      expect(await regulatorCount()).toBe(before);
    });

    it('--help shows examples', async () => {
      const help = await townhall(['regulators', 'create', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/--tenant <tenant>[\s\S]*--all[\s\S]*--expires-at <date>[\s\S]*Examples:/);
    });
  });
});
