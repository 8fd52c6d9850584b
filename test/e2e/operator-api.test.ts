import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';
import { waitForStatus } from '../support/wait';
import { expectProblem, startControlPlane } from './operator-support';

const TOKEN = `operator-api-test-${randomBytes(16).toString('hex')}`;
const BASE = '/api/platform/v1/tenants';
const VIEW_KEYS = [
  'id',
  'slug',
  'domain',
  'domains',
  'displayName',
  'adminEmail',
  'status',
  'schema',
  'cell',
  'provisioningStep',
  'failureReason',
  'migrationVersion',
  'createdAt',
  'updatedAt',
  'activatedAt',
  'suspendedAt',
  'deleteAfter',
  'deletedAt',
  'mediaQuotaBytes',
].sort();

interface TenantView {
  id: string;
  slug: string;
  domain: string | null;
  domains: string[];
  status: string;
  schema: string;
  deleteAfter: string | null;
  deletedAt: string | null;
  suspendedAt: string | null;
  activatedAt: string | null;
  migrationVersion: number;
  provisioningStep: string | null;
  failureReason: string | null;
}

describe('operator API (real HTTP, PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplication;
  let http: Server;
  let ds: DataSource;
  let seq = 0;

  const auth = { Authorization: `Bearer ${TOKEN}` };
  const api = () => request(http);

  /**
   * What the platform holds: changes here mean something was written. Counted once no tenant is still
   * provisioning, so a schema the worker creates for an earlier test's tenant does not count as a write.
   */
  async function footprint(): Promise<{ tenants: number; domains: number; schemas: number }> {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const [{ busy }] = (await ds.query(
        `SELECT count(*)::int AS busy FROM platform.tenants WHERE status = 'provisioning'`,
      )) as [{ busy: number }];
      if (busy === 0) break;
      if (Date.now() > deadline) throw new Error(`${busy} tenant(s) still provisioning after 45 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [row] = (await ds.query(`
      SELECT (SELECT count(*) FROM platform.tenants)::int AS tenants,
             (SELECT count(*) FROM platform.tenant_domains)::int AS domains,
             (SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'tenant\\_%')::int AS schemas`)) as [
      { tenants: number; domains: number; schemas: number },
    ];
    return row;
  }

  async function schemaExists(schema: string): Promise<boolean> {
    const rows = (await ds.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [
      schema,
    ])) as unknown[];
    return rows.length === 1;
  }

  function newTenantBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    seq += 1;
    return {
      slug: `agency-${seq}`,
      domain: `social.agency-${seq}.example`,
      displayName: `Agency ${seq}`,
      adminEmail: `press@agency-${seq}.example`,
      ...overrides,
    };
  }

  async function createTenant(overrides: Record<string, unknown> = {}): Promise<TenantView> {
    const res = await api().post(BASE).set(auth).send(newTenantBody(overrides));
    expect(res.status).toBe(202);
    return res.body as TenantView;
  }

  /** Polls the tenant's view through the API until its status is one of `statuses`. */
  function tenantReaches(id: string, statuses: string[]): Promise<TenantView> {
    return waitForStatus(
      async () => {
        const res = await api().get(`${BASE}/${id}`).set(auth);
        expect(res.status).toBe(200);
        return res.body as TenantView;
      },
      statuses,
      { what: `tenant ${id}` },
    );
  }

  /**
   * Fills the registry up to `count` tenants with rows of failed provisionings, which nothing works on:
   * for tests of listing, which need many tenants but none of their schemas.
   */
  async function atLeastTenants(count: number): Promise<void> {
    const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM platform.tenants`)) as [{ n: number }];
    await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, failure_reason, provisioning_attempts)
       SELECT id, 'listed-' || id, 'Listed', 'it@listed.example', 'failed', 'default', 'tenant_' || id,
              'Failed after step (none): made by a test', 3
         FROM (SELECT platform.next_id() AS id FROM generate_series(1, $1::int)) s`,
      [Math.max(0, count - n)],
    );
  }

  /**
   * An active tenant that tests read and leave as they found it (active, no deletion due), made by the
   * first test that asks for it, so each test also runs alone.
   */
  let activeMade: Promise<TenantView> | undefined;
  const activeTenant = (): Promise<TenantView> =>
    (activeMade ??= createTenant().then((t) => tenantReaches(t.id, ['active'])));

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({
      TOWNHALL_OPERATOR_TOKEN: TOKEN,
      TOWNHALL_RATE_LIMIT: '100000',
      TOWNHALL_PLATFORM_HOSTS: 'ops.platform.example, regulators.platform.example',
    }));
    await preparePlatform(config, { migrate: true });
    app = await startControlPlane(config);
    http = app.getHttpServer() as Server;
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  describe('POST /tenants', () => {
    it('provisions a tenant that reaches active, answering 202 with the view and a Location', async () => {
      const res = await api().post(BASE).set(auth).send({
        slug: 'bmi',
        domain: 'Social.BMI.Example.',
        displayName: '  Federal Ministry  ',
        adminEmail: 'press@bmi.example',
      });
      expect(res.status).toBe(202);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
      const view = res.body as TenantView;
      expect(Object.keys(view).sort()).toEqual(VIEW_KEYS);
      expect(res.headers.location).toBe(`${BASE}/${view.id}`);
      expect(view).toMatchObject({
        slug: 'bmi',
        domain: 'social.bmi.example',
        domains: ['social.bmi.example'],
        displayName: 'Federal Ministry',
        adminEmail: 'press@bmi.example',
        status: 'provisioning',
        schema: `tenant_${view.id}`,
        cell: 'default',
        activatedAt: null,
        deletedAt: null,
      });

      const active = await tenantReaches(view.id, ['active', 'failed']);
      expect(active).toMatchObject({ status: 'active', provisioningStep: 'active', failureReason: null });
      expect(active.migrationVersion).toBeGreaterThanOrEqual(1);
      expect(Date.parse(active.activatedAt!)).not.toBeNaN();
      expect(await schemaExists(active.schema)).toBe(true);
      const owners = (await ds.query(`SELECT email, role FROM ${active.schema}.users`)) as unknown[];
      expect(owners).toEqual([expect.objectContaining({ email: 'press@bmi.example', role: 'owner' })]);
    });

    it.each<[string, () => Record<string, unknown>]>([
      ['a body without fields', () => ({})],
      ['a missing slug', () => ({ ...newTenantBody(), slug: undefined })],
      ['a missing adminEmail', () => ({ ...newTenantBody(), adminEmail: undefined })],
      ['a slug too short', () => newTenantBody({ slug: 'ab' })],
      ['a slug with capitals', () => newTenantBody({ slug: 'Agency' })],
      ['a slug with an underscore', () => newTenantBody({ slug: 'my_agency' })],
      ['a slug too long', () => newTenantBody({ slug: 'a'.repeat(41) })],
      ['a slug that is not a string', () => newTenantBody({ slug: 12345 })],
      ['a domain that is not a host name', () => newTenantBody({ domain: 'not a host' })],
      ['a domain with a port', () => newTenantBody({ domain: 'social.x.example:8443' })],
      ['a domain that is an IP address', () => newTenantBody({ domain: '10.0.0.1' })],
      ['a domain with a bad label', () => newTenantBody({ domain: '-bad.example' })],
      ['an empty domain', () => newTenantBody({ domain: '' })],
      ['a domain that is a URL', () => newTenantBody({ domain: 'https://social.x.example/' })],
      ['an empty displayName', () => newTenantBody({ displayName: '' })],
      ['a blank displayName', () => newTenantBody({ displayName: '   ' })],
      ['a displayName too long', () => newTenantBody({ displayName: 'x'.repeat(101) })],
      ['an adminEmail that is not an email', () => newTenantBody({ adminEmail: 'press-at-example' })],
      ['an adminEmail without a dotted domain', () => newTenantBody({ adminEmail: 'press@localhost' })],
      ['an adminEmail with a NUL byte', () => newTenantBody({ adminEmail: 'press@x.example\u0000' })],
      ['an adminEmail with surrounding spaces', () => newTenantBody({ adminEmail: ' press@x.example' })],
      ['a slug with a NUL byte', () => newTenantBody({ slug: 'ab\u0000c' })],
      // Bad text: a NUL byte was a 500 (PostgreSQL 22021); the others were stored and published.
      ['a displayName with a NUL byte', () => newTenantBody({ displayName: 'Agency\u0000' })],
      ['a displayName with an ANSI escape', () => newTenantBody({ displayName: '\u001b[31mAgency' })],
      ['a displayName with a C1 control', () => newTenantBody({ displayName: 'Agency\u009b2J' })],
      ['a displayName with a bell', () => newTenantBody({ displayName: 'Agency\u0007' })],
      ['a displayName with a line break', () => newTenantBody({ displayName: 'Agency\nof X' })],
      ['a displayName with a line separator', () => newTenantBody({ displayName: 'Agency\u2028of X' })],
      ['a displayName with a right-to-left override', () => newTenantBody({ displayName: 'Agency\u202eX' })],
      ['a displayName with a bidi isolate', () => newTenantBody({ displayName: '\u2067Agency' })],
      ['a displayName with a right-to-left mark', () => newTenantBody({ displayName: 'Agency\u200f' })],
      ['a displayName with a zero-width space', () => newTenantBody({ displayName: 'Age\u200bncy' })],
      ['a displayName with a soft hyphen', () => newTenantBody({ displayName: 'Age\u00adncy' })],
      ['a displayName with a byte order mark', () => newTenantBody({ displayName: '\ufeffAgency' })],
      ['a displayName with tag characters', () => newTenantBody({ displayName: 'Agency\u{e0041}' })],
      ['a displayName with a private-use character', () => newTenantBody({ displayName: 'Agency\ue000' })],
      ['a displayName of 101 characters', () => newTenantBody({ displayName: 'é'.repeat(101) })],
      // Domains that were rewritten into other, valid-looking ones instead of refused.
      [
        'a domain with a path, query and fragment',
        () => newTenantBody({ domain: 'pathy.localhost/admin?x#y' }),
      ],
      ['a domain with a percent-escaped dot', () => newTenantBody({ domain: 'alpha%2elocalhost' })],
      ['a domain with a tab', () => newTenantBody({ domain: 'al\tpha.example' })],
      ['a domain with a zero-width space', () => newTenantBody({ domain: 'al\u200bpha.example' })],
      ['a domain with a soft hyphen', () => newTenantBody({ domain: 'al\u00adpha.example' })],
      ['a domain with an ideographic full stop', () => newTenantBody({ domain: 'alpha\u3002example' })],
      ['a domain with a NUL byte', () => newTenantBody({ domain: 'alpha.example\u0000' })],
      [
        'a domain label mixing Latin and Cyrillic',
        () => newTenantBody({ domain: 'social.p\u0430ypal.example' }),
      ],
      ['a domain in a script not recommended for names', () => newTenantBody({ domain: 'ᚠᚢᚦ.example' })],
      ['an unknown field', () => newTenantBody({ plan: 'gold' })],
    ])('refuses %s with 400 problem details and writes nothing', async (_name, body) => {
      const before = await footprint();
      expectProblem(await api().post(BASE).set(auth).send(body()), 400);
      expect(await footprint()).toEqual(before);
    });

    it('refuses a body that is not a JSON object, or not JSON at all, with 400 and writes nothing', async () => {
      const before = await footprint();
      expectProblem(await api().post(BASE).set(auth).send([newTenantBody()]), 400);
      expectProblem(
        await api().post(BASE).set(auth).set('Content-Type', 'application/json').send('{"slug": "x", '),
        400,
      );
      expectProblem(
        await api().post(BASE).set(auth).set('Content-Type', 'application/json').send('"just a string"'),
        400,
      );
      expect(await footprint()).toEqual(before);
    });

    it('refuses __proto__ and constructor.prototype keys without creating anything or polluting any prototype', async () => {
      const before = await footprint();
      for (const key of ['"__proto__": {"admin": true}', '"constructor": {"prototype": {"x": 1}}']) {
        const polluting = JSON.stringify(newTenantBody()).replace('{', `{${key},`);
        const res = await api().post(BASE).set(auth).set('Content-Type', 'application/json').send(polluting);
        expectProblem(res, 400);
      }
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      expect(({} as Record<string, unknown>).x).toBeUndefined();
      expect(await footprint()).toEqual(before);
    });

    it('stores text in NFC and counts characters as people see them', async () => {
      const decomposed = 'e\u0301'.repeat(100); // 100 characters, 200 code points
      const res = await api()
        .post(BASE)
        .set(auth)
        .send(newTenantBody({ displayName: decomposed }));
      expect(res.status).toBe(202);
      expect(res.body.displayName).toBe('é'.repeat(100));
      const [row] = (await ds.query(`SELECT display_name FROM platform.tenants WHERE id = $1`, [
        res.body.id,
      ])) as [{ display_name: string }];
      expect(row.display_name).toBe('é'.repeat(100));
    });

    it('names the character it refuses', async () => {
      const body = expectProblem(
        await api()
          .post(BASE)
          .set(auth)
          .send(newTenantBody({ displayName: 'Bank\u202eX' })),
        400,
      );
      expect(JSON.stringify(body)).toContain(
        'displayName must not contain bidirectional formatting characters (U+202E)',
      );
    });

    it('refuses the platform’s own host names, beneath them, and localhost', async () => {
      const before = await footprint();
      for (const domain of [
        'ops.platform.example',
        'OPS.Platform.Example.',
        'x.ops.platform.example',
        'localhost',
      ]) {
        expectProblem(
          await api().post(BASE).set(auth).send(newTenantBody({ domain })),
          400,
          'domain_reserved',
        );
      }
      expect(await footprint()).toEqual(before);
      // A sibling of a platform host is a tenant like any other.
      expect(
        (
          await api()
            .post(BASE)
            .set(auth)
            .send(newTenantBody({ domain: 'social.platform.example' }))
        ).status,
      ).toBe(202);
    });

    it('answers 409 for a domain that looks like another tenant’s, in one script or with look-alike digits', async () => {
      const held = await createTenant({ domain: 'social.cop.example' });
      await tenantReaches(held.id, ['active']);
      const before = await footprint();
      for (const domain of [
        'social.\u0441\u043e\u0440.example',
        'social.c0p.example',
        'SOCIAL.C0P.EXAMPLE',
      ]) {
        const body = expectProblem(
          await api().post(BASE).set(auth).send(newTenantBody({ domain })),
          409,
          'domain_confusable',
        );
        expect(body.detail).toContain('"social.cop.example"');
      }
      expect(await footprint()).toEqual(before);
      const [row] = (await ds.query(`SELECT skeleton FROM platform.tenant_domains WHERE domain = $1`, [
        'social.cop.example',
      ])) as [{ skeleton: string }];
      expect(row.skeleton).toBe('social.cop.exarnple');
    });

    it('answers 409 for a taken slug or domain, including a domain differing only by case or a trailing dot', async () => {
      // Settled first, so the worker creating its schema does not change the footprint meanwhile.
      const taken = await tenantReaches((await createTenant()).id, ['active']);
      const before = await footprint();
      const domain = taken.domain!;
      for (const [overrides, code] of [
        [{ slug: taken.slug }, 'slug_taken'],
        [{ domain }, 'domain_taken'],
        [{ domain: domain.toUpperCase() }, 'domain_taken'],
        [{ domain: `${domain}.` }, 'domain_taken'],
        [{ domain: `${domain.toUpperCase()}.` }, 'domain_taken'],
      ] as const) {
        expectProblem(await api().post(BASE).set(auth).send(newTenantBody(overrides)), 409, code);
      }
      expect(await footprint()).toEqual(before);
    });
  });

  describe('GET /tenants/{id}', () => {
    it('returns the tenant view', async () => {
      const active = await activeTenant();
      const res = await api().get(`${BASE}/${active.id}`).set(auth);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body as object).sort()).toEqual(VIEW_KEYS);
      expect(res.body).toMatchObject({
        id: active.id,
        slug: active.slug,
        domain: active.domain,
        status: 'active',
      });
    });

    it.each([
      '1234567890123',
      'abc',
      '0',
      '-1',
      '99999999999999999999',
      "1' OR '1'='1",
      '1%3B%20DROP%20TABLE%20x',
    ])('answers 404 problem details for the unknown or malformed id %s', async (id) => {
      expectProblem(await api().get(`${BASE}/${id}`).set(auth), 404, 'tenant_not_found');
    });
  });

  describe('GET /tenants', () => {
    it('pages through every tenant with a cursor and RFC 8288 Link headers', async () => {
      // Four pages at least, the last one short, whatever other tests made.
      await atLeastTenants(7);
      const all = (await ds.query(`SELECT id::text AS id FROM platform.tenants ORDER BY id DESC`)) as {
        id: string;
      }[];
      expect(all.length).toBeGreaterThanOrEqual(7);

      const seen: string[] = [];
      let url: string | null = `${BASE}?limit=2`;
      let pages = 0;
      while (url !== null) {
        const res = await api().get(url).set(auth);
        expect(res.status).toBe(200);
        const page = res.body as { items: TenantView[]; nextCursor: string | null };
        expect(page.items.length).toBeLessThanOrEqual(2);
        for (const item of page.items) expect(Object.keys(item).sort()).toEqual(VIEW_KEYS);
        seen.push(...page.items.map((t) => t.id));
        pages += 1;
        const link = res.headers.link as string | undefined;
        if (page.nextCursor === null) {
          expect(link).toBeUndefined();
          url = null;
        } else {
          const match = /^<([^>]+)>; rel="next"$/.exec(link ?? '');
          expect(match).not.toBeNull();
          expect(match![1]).toContain(`cursor=${page.nextCursor}`);
          url = match![1];
        }
      }
      expect(seen).toEqual(all.map((r) => r.id));
      expect(pages).toBe(Math.ceil(all.length / 2));
    });

    it('uses 50 per page by default and filters by status', async () => {
      const active = await activeTenant();
      await atLeastTenants(51); // more than a page holds

      const res = await api().get(BASE).set(auth);
      expect(res.status).toBe(200);
      expect((res.body as { items: unknown[] }).items).toHaveLength(50);
      expect(res.body.nextCursor).toEqual(expect.any(String));

      const filtered = await api().get(`${BASE}?status=active&limit=200`).set(auth);
      expect(filtered.status).toBe(200);
      const items = (filtered.body as { items: TenantView[] }).items;
      expect(items.map((t) => t.id)).toContain(active.id);
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((t) => t.status === 'active')).toBe(true);
    });

    it.each([
      'limit=0',
      'limit=201',
      'limit=abc',
      'limit=1.5',
      'limit=',
      'limit=1e1',
      'limit=0x10',
      'limit=%2010',
      'limit=10%20',
      'limit=+10',
      'limit=010',
      'limit=10&limit=10',
      'cursor=',
      'cursor=abc',
      'cursor=1%00',
      'status=',
      'cursor=-5',
      'cursor=9999999999999999999',
      'status=bogus',
      'sort=name',
    ])('refuses the query %s with 400 problem details', async (query) => {
      expectProblem(await api().get(`${BASE}?${query}`).set(auth), 400);
    });
  });

  describe('suspend and resume', () => {
    it('suspends an active tenant and resumes it', async () => {
      const active = await activeTenant();
      const suspended = await api()
        .post(`${BASE}/${active.id}/suspend`)
        .set(auth)
        .send({ reason: 'Compromised owner account' });
      expect(suspended.status).toBe(200);
      expect(suspended.body).toMatchObject({
        id: active.id,
        status: 'suspended',
        suspendedAt: expect.any(String),
      });
      const [row] = (await ds.query(`SELECT suspension_reason FROM platform.tenants WHERE id = $1`, [
        active.id,
      ])) as [{ suspension_reason: string }];
      expect(row.suspension_reason).toBe('Compromised owner account');

      expectProblem(await api().post(`${BASE}/${active.id}/suspend`).set(auth), 409, 'invalid_transition');

      const resumed = await api().post(`${BASE}/${active.id}/resume`).set(auth);
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ id: active.id, status: 'active', suspendedAt: null });
    });

    it('suspends without a body', async () => {
      const tenant = await tenantReaches((await createTenant()).id, ['active']);
      const res = await api().post(`${BASE}/${tenant.id}/suspend`).set(auth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'suspended' });
    });

    it('refuses a bad suspend body with 400 and changes nothing', async () => {
      const active = await activeTenant();
      for (const body of [
        { reason: 42 },
        { reason: '' },
        { reason: '   ' },
        { reason: 'x'.repeat(501) },
        { reason: 'court order\u0000' },
        { reason: '\u001b]0;pwned\u0007' },
        { reason: 'order \u202egnp.exe' },
        { reason: 'ok', force: true },
      ]) {
        expectProblem(await api().post(`${BASE}/${active.id}/suspend`).set(auth).send(body), 400);
      }
      const res = await api().get(`${BASE}/${active.id}`).set(auth);
      expect(res.body.status).toBe('active');
    });

    it('answers 409 for transitions the status does not allow', async () => {
      const active = await activeTenant();
      expectProblem(await api().post(`${BASE}/${active.id}/resume`).set(auth), 409, 'invalid_transition');
      expectProblem(await api().post(`${BASE}/${active.id}/retry`).set(auth), 409, 'invalid_transition');
    });

    it('answers 404 for unknown and malformed ids', async () => {
      for (const action of ['suspend', 'resume', 'retry']) {
        expectProblem(await api().post(`${BASE}/1234567890123/${action}`).set(auth), 404, 'tenant_not_found');
        expectProblem(await api().post(`${BASE}/not-an-id/${action}`).set(auth), 404, 'tenant_not_found');
      }
    });
  });

  describe('media quota', () => {
    it("sets a tenant's media quota, shows it with the usage, and goes back to the platform's", async () => {
      const active = await activeTenant();
      const usage = await api().get(`${BASE}/${active.id}/media-usage`).set(auth);
      expect(usage.status).toBe(200);
      expect(usage.body).toEqual({
        usedBytes: 0,
        attachments: 0,
        quotaBytes: config.media.quotaBytes,
        quotaSource: 'platform',
      });
      const set = await api().put(`${BASE}/${active.id}/media-quota`).set(auth).send({ bytes: 5_000_000 });
      expect(set.status).toBe(200);
      expect(set.body).toMatchObject({ id: active.id, status: 'active', mediaQuotaBytes: 5_000_000 });
      expect((await api().get(`${BASE}/${active.id}/media-usage`).set(auth)).body).toMatchObject({
        quotaBytes: 5_000_000,
        quotaSource: 'tenant',
      });
      const reset = await api().put(`${BASE}/${active.id}/media-quota`).set(auth).send({ bytes: null });
      expect(reset.body).toMatchObject({ mediaQuotaBytes: null });
    });

    it('refuses a quota that is not a whole number of bytes with 400 and changes nothing', async () => {
      const active = await activeTenant();
      for (const body of [{ bytes: -1 }, { bytes: 1.5 }, { bytes: '100' }, {}]) {
        expectProblem(await api().put(`${BASE}/${active.id}/media-quota`).set(auth).send(body), 400);
      }
      expect((await api().get(`${BASE}/${active.id}`).set(auth)).body).toMatchObject({
        mediaQuotaBytes: null,
      });
      expectProblem(await api().put(`${BASE}/1/media-quota`).set(auth).send({ bytes: 1 }), 404);
    });
  });

  describe('POST /tenants/{id}/retry', () => {
    it('resumes provisioning of a failed tenant until it is active', async () => {
      // A tenant whose provisioning failed before any step completed, as the worker leaves it after its last attempt.
      const [{ id }] = (await ds.query(`SELECT platform.next_id()::text AS id`)) as [{ id: string }];
      await ds.query(
        `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, failure_reason, provisioning_attempts)
         VALUES ($1, 'failed-agency', 'Failed Agency', 'it@failed.example', 'failed', 'default', $2, 'Failed after step (none): boom', 3)`,
        [id, `tenant_${id}`],
      );
      await ds.query(
        `INSERT INTO platform.tenant_domains (domain, tenant_id) VALUES ('social.failed.example', $1)`,
        [id],
      );

      const res = await api().post(`${BASE}/${id}/retry`).set(auth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, status: 'provisioning', failureReason: null });
      const done = await tenantReaches(id, ['active', 'failed']);
      expect(done.status).toBe('active');
      expect(await schemaExists(`tenant_${id}`)).toBe(true);
    });
  });

  describe('DELETE /tenants/{id}', () => {
    it('marks the tenant deleting with the default grace period of a week, which resume cancels', async () => {
      const tenant = await tenantReaches((await createTenant()).id, ['active']);
      const started = Date.now();
      const res = await api().delete(`${BASE}/${tenant.id}`).set(auth);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id: tenant.id, status: 'deleting' });
      const graceMs = Date.parse((res.body as TenantView).deleteAfter!) - started;
      expect(graceMs).toBeGreaterThan(604_800_000 - 60_000);
      expect(graceMs).toBeLessThan(604_800_000 + 60_000);
      expect(await schemaExists(tenant.schema)).toBe(true);

      const resumed = await api().post(`${BASE}/${tenant.id}/resume`).set(auth);
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ status: 'active', deleteAfter: null });
    });

    it('with purge=immediately drops the schema at once and releases the domain', async () => {
      const tenant = await tenantReaches((await createTenant()).id, ['active']);
      expect(await schemaExists(tenant.schema)).toBe(true);
      const res = await api().delete(`${BASE}/${tenant.id}?purge=immediately`).set(auth);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id: tenant.id, status: 'deleting', deleteAfter: expect.any(String) });

      const deleted = await tenantReaches(tenant.id, ['deleted']);
      expect(deleted).toMatchObject({
        status: 'deleted',
        domain: null,
        domains: [],
        deletedAt: expect.any(String),
      });
      expect(await schemaExists(tenant.schema)).toBe(false);

      expectProblem(
        await api().delete(`${BASE}/${tenant.id}?purge=immediately`).set(auth),
        409,
        'invalid_transition',
      );
      // The slug and domain are free again.
      const again = await api()
        .post(BASE)
        .set(auth)
        .send(newTenantBody({ slug: tenant.slug, domain: tenant.domain }));
      expect(again.status).toBe(202);
    });

    it('accepts graceSeconds=0 together with purge=immediately', async () => {
      const tenant = await tenantReaches((await createTenant()).id, ['active']);
      const res = await api().delete(`${BASE}/${tenant.id}?graceSeconds=0&purge=immediately`).set(auth);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'deleting' });
      expect(await tenantReaches(tenant.id, ['deleted'])).toMatchObject({ status: 'deleted' });
    });

    it('keeps the schema for the grace period given, from the one-hour floor up', async () => {
      const tenant = await tenantReaches((await createTenant()).id, ['active']);
      const started = Date.now();
      const res = await api().delete(`${BASE}/${tenant.id}?graceSeconds=3600`).set(auth);
      expect(res.status).toBe(202);
      const graceMs = Date.parse((res.body as TenantView).deleteAfter!) - started;
      expect(Math.abs(graceMs - 3_600_000)).toBeLessThan(60_000);
      expect(await schemaExists(tenant.schema)).toBe(true);
    });

    it.each([
      'graceSeconds=-1',
      'graceSeconds=7776001',
      'graceSeconds=abc',
      'graceSeconds=1.5',
      // Each of these was once read as a number, the empty one as 0: the schema was dropped at once.
      'graceSeconds=',
      'graceSeconds=%20',
      'graceSeconds=%205',
      'graceSeconds=5%20',
      'graceSeconds=1e3',
      'graceSeconds=1e4',
      'graceSeconds=0x10',
      'graceSeconds=+3600',
      'graceSeconds=03600',
      'graceSeconds=3600&graceSeconds=3600',
      // An immediate purge needs its own confirmation; a grace period below an hour is not one.
      'graceSeconds=0',
      'graceSeconds=1',
      'graceSeconds=3599',
      'purge=',
      'purge=true',
      'purge=IMMEDIATELY',
      'purge=immediately&graceSeconds=3600',
      'purge=immediately&graceSeconds=',
      'force=true',
    ])('refuses %s with 400 and changes nothing', async (query) => {
      const active = await activeTenant();
      expectProblem(await api().delete(`${BASE}/${active.id}?${query}`).set(auth), 400);
      const res = await api().get(`${BASE}/${active.id}`).set(auth);
      expect(res.body).toMatchObject({ status: 'active', deleteAfter: null });
    });

    it('answers 404 for an unknown id', async () => {
      expectProblem(await api().delete(`${BASE}/1234567890123`).set(auth), 404, 'tenant_not_found');
    });
  });

  describe('authentication', () => {
    const endpoints: [
      string,
      (id: string) => [method: 'get' | 'post' | 'delete', path: string, body?: object],
    ][] = [
      ['POST /tenants', () => ['post', BASE, newTenantBody()]],
      ['GET /tenants', () => ['get', BASE]],
      ['GET /tenants/{id}', (id) => ['get', `${BASE}/${id}`]],
      ['POST /tenants/{id}/suspend', (id) => ['post', `${BASE}/${id}/suspend`, { reason: 'x' }]],
      ['POST /tenants/{id}/resume', (id) => ['post', `${BASE}/${id}/resume`]],
      ['POST /tenants/{id}/retry', (id) => ['post', `${BASE}/${id}/retry`]],
      ['DELETE /tenants/{id}', (id) => ['delete', `${BASE}/${id}?purge=immediately`]],
    ];

    it.each(endpoints)(
      '%s answers 401 without a token, with a wrong token and with a token in the URL, changing nothing',
      async (_name, endpoint) => {
        const active = await activeTenant();
        const before = await footprint();
        const [method, path, body] = endpoint(active.id);
        const attempts: [string, Record<string, string>, string][] = [
          ['none', {}, path],
          ['wrong', { Authorization: `Bearer ${TOKEN}x` }, path],
          [
            'another scheme',
            { Authorization: `Basic ${Buffer.from(`op:${TOKEN}`).toString('base64')}` },
            path,
          ],
          ['empty bearer', { Authorization: 'Bearer' }, path],
          ['query', {}, `${path}${path.includes('?') ? '&' : '?'}access_token=${TOKEN}`],
        ];
        for (const [, headers, url] of attempts) {
          let req = api()[method](url).set(headers);
          if (body) req = req.send(body);
          const res = await req;
          expectProblem(res, 401);
          expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="townhall-operator"/);
        }
        expect(await footprint()).toEqual(before);
        const current = await api().get(`${BASE}/${active.id}`).set(auth);
        expect(current.body).toMatchObject({ status: 'active', deleteAfter: null });
      },
    );

    it('says why a token was refused in WWW-Authenticate', async () => {
      const missing = await api().get(BASE);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="townhall-operator"');
      const wrong = await api().get(BASE).set('Authorization', 'Bearer thop_wrong-token-of-plausible-length');
      expect(wrong.headers['www-authenticate']).toBe(
        'Bearer realm="townhall-operator", error="invalid_token"',
      );
    });
  });

  describe('cross-cutting', () => {
    it('answers a NUL byte anywhere in a request with a 4xx problem, never a 500, and changes nothing', async () => {
      const active = await activeTenant();
      const before = await footprint();
      const requests: [string, () => request.Test][] = [
        ['tenant id', () => api().get(`${BASE}/1%00`)],
        ['tenant id of a transition', () => api().post(`${BASE}/%00/suspend`)],
        ['tenant id of a deletion', () => api().delete(`${BASE}/1%00?purge=immediately`)],
        ['cursor', () => api().get(`${BASE}?cursor=%00`)],
        ['status', () => api().get(`${BASE}?status=active%00`)],
        ['limit', () => api().get(`${BASE}?limit=1%00`)],
        ['graceSeconds', () => api().delete(`${BASE}/${active.id}?graceSeconds=3600%00`)],
        ['purge', () => api().delete(`${BASE}/${active.id}?purge=immediately%00`)],
        ['regulator id', () => api().get(`/api/platform/v1/regulators/1%00`)],
        ['regulator cursor', () => api().get(`/api/platform/v1/regulators?cursor=1%00`)],
        ['audit subject id', () => api().post(`/api/platform/v1/audit/subjects/1%00/erase`)],
        [
          'audit subject identifier',
          () =>
            api()
              .post('/api/platform/v1/audit/subjects/lookup')
              .send({ identifier: 'email:a@x.example\u0000' }),
        ],
        [
          'unknown body field',
          () => api().post(`${BASE}/${active.id}/suspend`).send({ 'reason\u0000': 'x' }),
        ],
      ];
      for (const [what, send] of requests) {
        const res = await send().set(auth);
        expect({ what, status: res.status }).toEqual({ what, status: expect.any(Number) });
        expect({ what, clientError: res.status >= 400 && res.status < 500 }).toEqual({
          what,
          clientError: true,
        });
        expectProblem(res, res.status);
      }
      expect(await footprint()).toEqual(before);
      expect((await api().get(`${BASE}/${active.id}`).set(auth)).body).toMatchObject({ status: 'active' });
    });

    it('sends X-Request-Id on every response and keeps a well-formed one given by the caller', async () => {
      const active = await activeTenant();
      for (const res of [
        await api().get(BASE).set(auth),
        await api().get(BASE),
        await api().get(`${BASE}?limit=0`).set(auth),
      ]) {
        expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
      }
      const traced = await api()
        .get(`${BASE}/${active.id}`)
        .set(auth)
        .set('X-Request-Id', 'trace-0123456789');
      expect(traced.headers['x-request-id']).toBe('trace-0123456789');
      const refused = await api().get(`${BASE}/nope`).set(auth).set('X-Request-Id', 'trace-abcdefghij');
      expect(refused.headers['x-request-id']).toBe('trace-abcdefghij');
      expect(refused.body.requestId).toBe('trace-abcdefghij');
    });

    it('publishes an OpenAPI document of every endpoint, its schemas and the bearer scheme', async () => {
      const res = await api().get('/api/platform/docs/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.body as {
        paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
        components: {
          securitySchemes: Record<string, { type: string; scheme: string }>;
          schemas: Record<string, unknown>;
        };
      };
      // The tenants' endpoints; regulators and the audit keys have tests of their own.
      expect(
        Object.keys(doc.paths)
          .filter((p) => p.startsWith(BASE))
          .sort(),
      ).toEqual([
        BASE,
        `${BASE}/{id}`,
        `${BASE}/{id}/media-quota`,
        `${BASE}/{id}/media-usage`,
        `${BASE}/{id}/resume`,
        `${BASE}/{id}/retry`,
        `${BASE}/{id}/suspend`,
      ]);
      expect(Object.keys(doc.paths[BASE]).sort()).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths[`${BASE}/{id}`]).sort()).toEqual(['delete', 'get']);
      expect(Object.keys(doc.paths[`${BASE}/{id}/suspend`])).toEqual(['post']);
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      for (const [path, ops] of Object.entries(doc.paths).filter(([p]) => p.startsWith(BASE))) {
        for (const [method, op] of Object.entries(ops)) {
          expect({ path, method, security: op.security }).toEqual({
            path,
            method,
            security: [{ bearer: [] }],
          });
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '429']));
        }
      }
      expect(Object.keys(doc.paths[BASE].post.responses)).toEqual(
        expect.arrayContaining(['202', '400', '409']),
      );
      expect(Object.keys(doc.components.schemas)).toEqual(
        expect.arrayContaining([
          'CreateTenantDto',
          'SuspendTenantDto',
          'TenantView',
          'TenantPageView',
          'ProblemView',
        ]),
      );
      const docs = await api().get('/api/platform/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers['content-type']).toMatch(/text\/html/);
    });
  });
});
