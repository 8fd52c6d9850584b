import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  AUDIT_CSV_COLUMNS,
  AuditCheckpoint,
  AuditEntry,
  AuditStore,
  verifyAuditBundle,
} from '@townhall/compliance';
import { requireBuiltCli, runCli } from '../support/cli';
import { expectProblem } from './operator-support';
import { loggedEntries, RegulatorTestPlatform, startRegulatorPlatform } from './regulator-support';

const API = '/api/regulator/v1';
const EXPORT = `${API}/audit/export`;
const DAY = 86_400_000;

interface BundleLine {
  type: string;
  entry?: AuditEntry;
  range?: { from: number; to: number };
  filters?: { tenant: string | null; actions: string[] | null };
}

const parseBundle = (text: string): BundleLine[] =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as BundleLine);

describe('regulator API (real HTTP, PostgreSQL and Redis)', () => {
  let platform: RegulatorTestPlatform;
  let app: INestApplication;
  let http: Server;
  let ds: DataSource;
  let store: AuditStore;
  let operator: { Authorization: string };
  let dir: string;
  let tenantA: string;
  let tenantB: string;
  /** Scoped to tenant A. */
  let scoped: { id: string; token: string };
  /** The whole platform. */
  let everything: { id: string; token: string };

  const as = (token: string) => ({ Authorization: `Bearer ${token}` });
  const api = () => request(http);

  /** Text responses (NDJSON, CSV) kept as text whatever their content type. */
  const download = (path: string, token: string) =>
    api()
      .get(path)
      .set(as(token))
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done(null, text));
      });

  async function issue(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const res = await api()
      .post('/api/platform/v1/regulators')
      .set(operator)
      .send({ expiresAt: new Date(Date.now() + 30 * DAY).toISOString(), ...body });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  }

  const exportsRecorded = async () => (await loggedEntries(app)).filter((e) => e.action === 'audit.export');

  beforeAll(async () => {
    platform = await startRegulatorPlatform(['alpha', 'beta']);
    ({ app, http, ds, operator } = platform);
    [tenantA, tenantB] = platform.tenantIds;
    store = app.get(AuditStore);
    dir = await mkdtemp(join(tmpdir(), 'townhall-regulator-api-'));
    scoped = await issue({ name: 'Authority of A', tenantIds: [tenantA] });
    everything = await issue({ name: 'Platform auditor', all: true });
    // What the sequencer does on its timer in a process with workers.
    await store.checkpointNow();
  });

  afterAll(async () => {
    await platform?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('scope', () => {
    it('refuses a tenant outside the regulator’s scope with 403, and records the refusal', async () => {
      const res = await api().get(`${EXPORT}?tenant=${tenantB}`).set(as(scoped.token));
      expectProblem(res, 403, 'tenant_out_of_scope');

      const denied = (await exportsRecorded()).filter((e) => e.requestId === res.headers['x-request-id']);
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({
        outcome: 'denied',
        tenant: tenantB,
        target: { type: 'tenant', id: tenantB },
        actor: { type: 'regulator', id: scoped.id, via: `token:${scoped.id}` },
        details: { format: 'ndjson', filters: { tenant: tenantB } },
      });
    });

    it('refuses a platform-wide export to a regulator scoped to tenants, recorded too', async () => {
      const res = await api().get(EXPORT).set(as(scoped.token));
      expectProblem(res, 403, 'tenant_out_of_scope');
      const denied = (await exportsRecorded()).filter((e) => e.requestId === res.headers['x-request-id']);
      expect(denied.map((e) => [e.outcome, e.tenant])).toEqual([['denied', null]]);
    });

    it('checks the scope before the range: an out-of-scope tenant with from > to is a recorded 403', async () => {
      const res = await api().get(`${EXPORT}?tenant=${tenantB}&from=5&to=2`).set(as(scoped.token));
      expectProblem(res, 403, 'tenant_out_of_scope');
      const denied = (await exportsRecorded()).filter((e) => e.requestId === res.headers['x-request-id']);
      expect(denied).toMatchObject([
        { outcome: 'denied', tenant: tenantB, details: { filters: { from: 5, to: 2 } } },
      ]);
    });

    it('records a tenant id nobody registered as the target only, never as the entry’s tenant', async () => {
      const unknown = '9223372036854775807'; // the largest id: valid, and no tenant has it
      const denied = await api().get(`${EXPORT}?tenant=${unknown}`).set(as(scoped.token));
      expectProblem(denied, 403, 'tenant_out_of_scope');
      const exported = await download(`${EXPORT}?tenant=${unknown}`, everything.token);
      expect(exported.status).toBe(200);
      const ids: unknown[] = [denied.headers['x-request-id'], exported.headers['x-request-id']];
      const recorded = (await exportsRecorded()).filter((e) => ids.includes(e.requestId));
      expect(recorded.map((e) => [e.outcome, e.tenant, e.target, e.tenantSeq])).toEqual([
        ['denied', null, { type: 'tenant', id: unknown }, undefined],
        ['success', null, { type: 'tenant', id: unknown }, undefined],
      ]);
    });

    it('refuses a tenant id beyond the 64-bit range with 400, recording nothing', async () => {
      const before = (await exportsRecorded()).length;
      for (const tenant of ['9223372036854775808', '9999999999999999999']) {
        const res = await api().get(`${EXPORT}?tenant=${tenant}`).set(as(everything.token));
        expectProblem(res, 400);
      }
      expect((await exportsRecorded()).length).toBe(before);
    });
  });

  describe('export', () => {
    it('streams a bundle of the tenant that the offline verifier accepts, and records the export first', async () => {
      const res = await download(`${EXPORT}?tenant=${tenantA}`, scoped.token);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const text = res.body as string;
      const lines = parseBundle(text);
      const header = lines[0];
      expect(header).toMatchObject({ type: 'header', filters: { tenant: tenantA, actions: null } });
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="townhall-audit-${tenantA}-${header.range!.from}-${header.range!.to}.ndjson"`,
      );
      const shown = lines.filter((l) => l.type === 'entry').map((l) => l.entry!);
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.every((e) => e.tenant === tenantA)).toBe(true);

      const keys = await api().get(`${API}/audit/keys`).set(as(scoped.token));
      expect(keys.status).toBe(200);
      const platformKeys = await api().get('/api/platform/v1/audit/keys');
      expect(keys.body).toEqual(platformKeys.body);
      const result = await verifyAuditBundle(text, keys.body as { keys: [] });
      expect(result).toMatchObject({ ok: true, summary: { filters: { tenant: tenantA } } });

      // The regulator's own download, checked by the command a regulator runs.
      requireBuiltCli();
      const bundlePath = join(dir, 'export.ndjson');
      const keysPath = join(dir, 'keys.json');
      await writeFile(bundlePath, text);
      await writeFile(keysPath, JSON.stringify(keys.body));
      // Nothing but PATH: the verifier needs no database and no network.
      const run = await runCli(['audit', 'verify', bundlePath, '--key', keysPath], {
        PATH: process.env.PATH ?? '',
      });
      expect(run.code).toBe(0);

      // The export is itself in the log — beyond the range it exported, so the next export shows it.
      const recorded = (await exportsRecorded()).filter((e) => e.requestId === res.headers['x-request-id']);
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toMatchObject({
        outcome: 'success',
        tenant: tenantA,
        actor: { type: 'regulator', id: scoped.id },
        details: { format: 'ndjson', range: header.range, filters: { tenant: tenantA, actions: null } },
      });
      expect(recorded[0].seq).toBeGreaterThanOrEqual(header.range!.to);
      const later = await download(`${EXPORT}?tenant=${tenantA}&from=${header.range!.to}`, scoped.token);
      expect(later.status).toBe(200);
      const laterEntries = parseBundle(later.body as string)
        .filter((l) => l.type === 'entry')
        .map((l) => l.entry!);
      expect(laterEntries).toContainEqual(recorded[0]);
      expect(await verifyAuditBundle(later.body as string, keys.body as { keys: [] })).toMatchObject({
        ok: true,
      });
    });

    it('proves the newest checkpoint extends a checkpoint the regulator kept (since)', async () => {
      const kept = (await api().get(`${API}/checkpoints/latest`).set(as(everything.token)))
        .body as AuditCheckpoint;
      await api().get(`${EXPORT}?tenant=${tenantA}`).set(as(scoped.token)); // one more entry
      await store.checkpointNow();
      const res = await download(`${EXPORT}?since=${kept.treeSize}&from=${kept.treeSize}`, everything.token);
      expect(res.status).toBe(200);
      const lines = parseBundle(res.body as string);
      expect(lines.map((l) => l.type)).toContain('consistency');
      const keys = (await api().get('/api/platform/v1/audit/keys')).body as { keys: [] };
      expect(await verifyAuditBundle(res.body as string, keys, { since: kept })).toMatchObject({ ok: true });
    });

    it('filters by action; a platform-wide regulator may export everything', async () => {
      const res = await download(`${EXPORT}?actions=regulator.create,tenant.create`, everything.token);
      expect(res.status).toBe(200);
      const entries = parseBundle(res.body as string)
        .filter((l) => l.type === 'entry')
        .map((l) => l.entry!);
      expect(new Set(entries.map((e) => e.action))).toEqual(new Set(['regulator.create', 'tenant.create']));
      expect(entries.some((e) => e.tenant === null)).toBe(true);
    });

    it('renders the same entries as CSV for reading, without any of the evidence', async () => {
      const ndjson = await download(`${EXPORT}?tenant=${tenantA}&to=5`, scoped.token);
      const csv = await download(`${EXPORT}?tenant=${tenantA}&to=5&format=csv`, scoped.token);
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.headers['content-disposition']).toMatch(
        /^attachment; filename="townhall-audit-\d+-0-5\.csv"$/,
      );
      const rows = (csv.body as string).split('\r\n').filter((r) => r.length > 0);
      expect(rows[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
      const entries = parseBundle(ndjson.body as string).filter((l) => l.type === 'entry');
      expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(entries.map((l) => String(l.entry!.seq)));
      expect(csv.body as string).not.toMatch(/leafHash|signature|rootHash/);
      const recorded = (await exportsRecorded()).filter((e) => e.requestId === csv.headers['x-request-id']);
      expect(recorded.map((e) => e.details.format)).toEqual(['csv']);
    });

    it('refuses malformed parameters with 400 and records nothing', async () => {
      const before = (await exportsRecorded()).length;
      const bad = [
        `from=abc`,
        `from=1e3`,
        `from=-1`,
        `from=01`,
        `to=1&to=2`,
        `from=5&to=2`,
        `to=9007199254740993`,
        `tenant=abc`,
        `actions=`,
        `actions=Tenant.Create`,
        `actions=${Array.from({ length: 21 }, (_, i) => `a.b${i}`).join(',')}`,
        `format=xml`,
        `since=x`,
        `colour=blue`,
        `to=999999`, // beyond the newest checkpoint
        `since=999999`,
      ];
      for (const query of bad) {
        const res = await api().get(`${EXPORT}?tenant=${tenantA}&${query}`).set(as(scoped.token));
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expectProblem(res, 400);
      }
      expect((await exportsRecorded()).length).toBe(before);
    });
  });

  describe('checkpoints', () => {
    it('lists checkpoints by ascending tree size with keyset pages; latest is the newest', async () => {
      await store.checkpointNow();
      await api().get(`${EXPORT}?tenant=${tenantA}`).set(as(scoped.token));
      await store.checkpointNow();
      const all: AuditCheckpoint[] = [];
      let url = `${API}/checkpoints?limit=1`;
      for (;;) {
        const res = await api().get(url).set(as(scoped.token));
        expect(res.status).toBe(200);
        const page = res.body as { items: AuditCheckpoint[]; nextAfter: number | null };
        all.push(...page.items);
        if (page.nextAfter === null) break;
        expect(res.headers.link).toBe(`<${API}/checkpoints?after=${page.nextAfter}&limit=1>; rel="next"`);
        url = `${API}/checkpoints?after=${page.nextAfter}&limit=1`;
      }
      expect(all.length).toBeGreaterThan(1);
      const sizes = all.map((cp) => cp.treeSize);
      expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
      const latest = await api().get(`${API}/checkpoints/latest`).set(as(scoped.token));
      expect(latest.status).toBe(200);
      expect(latest.body).toEqual(all[all.length - 1]);
      const after = await api().get(`${API}/checkpoints?after=${sizes[0]}`).set(as(scoped.token));
      expect((after.body as { items: AuditCheckpoint[] }).items.map((cp) => cp.treeSize)).toEqual(
        sizes.slice(1),
      );
      expectProblem(await api().get(`${API}/checkpoints?limit=0`).set(as(scoped.token)), 400);
      expectProblem(await api().get(`${API}/checkpoints?after=x`).set(as(scoped.token)), 400);
    });

    it('proves a newer checkpoint extends one kept, which townhall audit verify-consistency checks offline', async () => {
      const kept = (await api().get(`${API}/checkpoints/latest`).set(as(scoped.token)))
        .body as AuditCheckpoint;
      await api().get(`${EXPORT}?tenant=${tenantA}`).set(as(scoped.token)); // one more entry
      const newest = await store.checkpointNow();
      const res = await api()
        .get(`${API}/checkpoints/consistency?from=${kept.treeSize}`)
        .set(as(scoped.token));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ from: kept.treeSize, to: newest!.treeSize, checkpoint: newest });
      const older = await api()
        .get(`${API}/checkpoints/consistency?from=1&to=${kept.treeSize}`)
        .set(as(scoped.token));
      expect(older.body).toMatchObject({ from: 1, to: kept.treeSize, checkpoint: kept });

      requireBuiltCli();
      const [proofPath, keptPath, keysPath] = ['proof.json', 'kept.json', 'keys.json'].map((f) =>
        join(dir, f),
      );
      await writeFile(proofPath, JSON.stringify(res.body));
      await writeFile(keptPath, JSON.stringify(kept));
      await writeFile(
        keysPath,
        JSON.stringify((await api().get(`${API}/audit/keys`).set(as(scoped.token))).body),
      );
      const run = await runCli(
        ['audit', 'verify-consistency', proofPath, '--key', keysPath, '--since', keptPath],
        {
          PATH: process.env.PATH ?? '',
        },
      );
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(newest);

      expectProblem(await api().get(`${API}/checkpoints/consistency`).set(as(scoped.token)), 400);
      expectProblem(await api().get(`${API}/checkpoints/consistency?from=x`).set(as(scoped.token)), 400);
      expectProblem(
        await api()
          .get(`${API}/checkpoints/consistency?from=${newest!.treeSize + 1}`)
          .set(as(scoped.token)),
        400,
      );
      expectProblem(
        await api()
          .get(`${API}/checkpoints/consistency?from=1&to=${newest!.treeSize + 1}`)
          .set(as(scoped.token)),
        404,
        'checkpoint_not_found',
      );
    });
  });

  describe('authentication', () => {
    it('refuses no token, an operator token, a token in the URL, an expired and a revoked token with 401', async () => {
      const missing = await api().get(`${API}/checkpoints`);
      expectProblem(missing, 401, 'missing_token');
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="townhall-regulator"');

      const asOperator = await api().get(`${API}/checkpoints`).set(operator);
      expectProblem(asOperator, 401, 'invalid_token');
      expect(asOperator.headers['www-authenticate']).toContain('error="invalid_token"');

      expectProblem(await api().get(`${API}/checkpoints?access_token=${scoped.token}`), 401);

      const expired = await issue({ name: 'Expired', tenantIds: [tenantA] });
      await ds.query(
        `UPDATE platform.regulators SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day'
          WHERE id = $1`,
        [expired.id],
      );
      const expiredRes = await api().get(`${EXPORT}?tenant=${tenantA}`).set(as(expired.token));
      expectProblem(expiredRes, 401, 'invalid_token');
      expect((expiredRes.body as { detail: string }).detail).toMatch(/expired/);

      const revoked = await issue({ name: 'Revoked', tenantIds: [tenantA] });
      expect((await api().delete(`/api/platform/v1/regulators/${revoked.id}`).set(operator)).status).toBe(
        200,
      );
      const revokedRes = await api().get(`${EXPORT}?tenant=${tenantA}`).set(as(revoked.token));
      expectProblem(revokedRes, 401, 'invalid_token');
      expect((revokedRes.body as { detail: string }).detail).toMatch(/revoked/);

      // A made-up token of the right shape is just invalid.
      const forged = `thrg_${randomBytes(32).toString('base64url')}`;
      expectProblem(await api().get(`${API}/checkpoints`).set(as(forged)), 401, 'invalid_token');
    });
  });

  it('publishes its own OpenAPI document', async () => {
    const res = await api().get('/api/regulator/docs/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.paths).sort()).toEqual([
      `${API}/audit/export`,
      `${API}/audit/keys`,
      `${API}/checkpoints`,
      `${API}/checkpoints/consistency`,
      `${API}/checkpoints/latest`,
    ]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        expect({ path, security: op.security }).toEqual({ path, security: [{ bearer: [] }] });
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '429']));
      }
    }
    expect(Object.keys(doc.paths[EXPORT].get.responses)).toEqual(expect.arrayContaining(['400', '403']));
    expect(Object.keys(doc.paths[`${API}/checkpoints/consistency`].get.responses)).toEqual(
      expect.arrayContaining(['400', '404']),
    );
  });
});

describe('regulator API rate limit (real Redis)', () => {
  let platform: RegulatorTestPlatform;

  beforeAll(async () => {
    platform = await startRegulatorPlatform([], {
      TOWNHALL_RATE_LIMIT: '4',
      TOWNHALL_RATE_LIMIT_WINDOW_MS: '60000',
    });
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('limits guessing regulator tokens, from the same budget per address as the operator API', async () => {
    const api = () => request(platform.http);
    const guess = () =>
      api()
        .get(`${API}/checkpoints`)
        .set('Authorization', `Bearer thrg_${randomBytes(32).toString('base64url')}`);
    expect((await guess()).status).toBe(401);
    expect((await guess()).status).toBe(401);
    expect((await api().get('/api/platform/v1/regulators').set(platform.operator)).status).toBe(200);
    expect((await guess()).status).toBe(401);

    const limited = await guess();
    expectProblem(limited, 429);
    expect(limited.body.detail).toMatch(/regulator API/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expectProblem(await api().get('/api/platform/v1/regulators').set(platform.operator), 429);
  });
});
