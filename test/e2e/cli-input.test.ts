import { Client } from 'pg';
import { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { cliEnv, type CliRun as Run, runCliInProcess } from '../support/cli';
import { createTestDatabase } from '../support/database';

/**
 * What the `townhall` command line accepts and prints: the same input rules as the operator API (one
 * integer parser, one text rule, one e-mail rule, strict host names, a named confirmation for an
 * immediate purge), and nothing printed raw that could steer the operator's terminal. Tenants are put
 * in place with SQL, as another process (or the API) would leave them: no worker runs here.
 */
jest.setTimeout(180_000);

/** ESC, the C1 control sequence introducer and a right-to-left override: what steers a terminal. */
// eslint-disable-next-line no-control-regex
const STEERING = /[\u001b\u009b\u202e]/;

describe('townhall CLI input and output', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  let db: Client;

  const townhall = (args: string[]): Promise<Run> => runCliInProcess(args, env);

  /** `tenants create` with `slug`'s usual fields, some of them replaced. */
  const create = (
    slug: string,
    fields: { domain?: string; displayName?: string; adminEmail?: string } = {},
    ...more: string[]
  ): Promise<Run> =>
    townhall([
      'tenants',
      'create',
      '--slug',
      slug,
      '--domain',
      fields.domain ?? `social.${slug}.example`,
      '--display-name',
      fields.displayName ?? slug,
      '--admin-email',
      fields.adminEmail ?? `owner@${slug}.example`,
      ...more,
    ]);

  const tenantCount = async (): Promise<number> =>
    (await db.query(`SELECT count(*)::int AS n FROM platform.tenants`)).rows[0].n;

  /** An active tenant as the registry holds it, without a schema (nothing here needs one). */
  async function insertTenant(slug: string, displayName = slug): Promise<string> {
    const { rows } = await db.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, activated_at)
       SELECT id, $1, $2, 'owner@' || $1 || '.example', 'active', 'default', 'tenant_' || id, now()
         FROM (SELECT platform.next_id() AS id) s
       RETURNING id::text AS id`,
      [slug, displayName],
    );
    await db.query(`INSERT INTO platform.tenant_domains (domain, tenant_id) VALUES ($1, $2)`, [
      `social.${slug}.example`,
      rows[0].id,
    ]);
    return rows[0].id as string;
  }

  const tenantRow = async (id: string): Promise<{ status: string; delete_after: Date | null }> =>
    (await db.query(`SELECT status, delete_after FROM platform.tenants WHERE id = $1`, [id])).rows[0];

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    env = cliEnv(config);
    // The first command prepares the database (the application role, the secret key's check value).
    expect((await townhall(['tenants', 'list', '--json'])).code).toBe(0);
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  describe('tenants delete', () => {
    it('refuses a grace period below an hour, 0 included, unless --purge-immediately confirms it', async () => {
      const id = await insertTenant('keep');
      const zero = await townhall(['tenants', 'delete', 'keep', '--grace-seconds', '0']);
      expect(zero.code).toBe(1);
      expect(zero.stderr.trim()).toMatch(
        /^error: Invalid request: graceSeconds must be at least 3600 \(one hour\); to drop the tenant's data at once, confirm an immediate purge .*--purge-immediately/,
      );
      const short = await townhall(['tenants', 'delete', 'keep', '--grace-seconds', '59']);
      expect(short.code).toBe(1);
      const both = await townhall([
        'tenants',
        'delete',
        'keep',
        '--grace-seconds',
        '3600',
        '--purge-immediately',
      ]);
      expect(both.code).toBe(1);
      expect(both.stderr).toContain('an immediate purge has no grace period');
      for (const value of ['', ' 5', '1e3', '0x10', '03600', '+3600']) {
        const bad = await townhall(['tenants', 'delete', 'keep', '--grace-seconds', value]);
        expect({ value, code: bad.code }).toEqual({ value, code: 2 });
        expect(bad.stderr).toContain(
          'is invalid. It must be an integer from 0 to 7776000, in decimal digits.',
        );
      }
      expect(await tenantRow(id)).toMatchObject({ status: 'active', delete_after: null });
    });

    it('keeps the data for the grace period given, and drops it at once only with --purge-immediately', async () => {
      const later = await insertTenant('later');
      const started = Date.now();
      const run = await townhall(['tenants', 'delete', 'later', '--grace-seconds', '3600', '--json']);
      expect(run.code).toBe(0);
      const { deleteAfter } = JSON.parse(run.stdout) as { deleteAfter: string };
      expect(Math.abs(Date.parse(deleteAfter) - started - 3_600_000)).toBeLessThan(60_000);

      const now = await insertTenant('now');
      const purged = await townhall(['tenants', 'delete', 'now', '--purge-immediately']);
      expect(purged.code).toBe(0);
      const row = await tenantRow(now);
      expect(row.status).toBe('deleting');
      expect(row.delete_after!.getTime()).toBeLessThan(Date.now() + 1000);
      expect((await tenantRow(later)).status).toBe('deleting');
    });
  });

  describe('text', () => {
    it('shows control, escape and bidi characters of stored text visibly, in tables, details and JSON', async () => {
      const id = await insertTenant('shady', 'Red\u001b[31m Ministry\u202e\u009b2J\u0007');
      await db.query(`UPDATE platform.tenants SET suspension_reason = $2 WHERE id = $1`, [
        id,
        'line one\nline two',
      ]);
      const shown = await townhall(['tenants', 'show', 'shady']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).not.toMatch(STEERING);
      expect(shown.stdout).not.toContain('\u0007');
      expect(shown.stdout).toContain('Red\\u{1B}[31m Ministry\\u{202E}\\u{9B}2J\\u{7}');
      expect(shown.stdout).toContain('line one\\u{A}line two');

      const json = await townhall(['tenants', 'show', 'shady', '--json']);
      expect(json.stdout).not.toMatch(STEERING);
      // Still the same JSON: escapes are JSON's own.
      expect(JSON.parse(json.stdout)).toMatchObject({
        displayName: 'Red\u001b[31m Ministry\u202e\u009b2J\u0007',
      });

      const listed = await townhall(['tenants', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).not.toMatch(STEERING);
    });

    it('refuses control, bidi and invisible characters in names and reasons, and says which, visibly', async () => {
      const before = await tenantCount();
      for (const [name, code] of [
        ['Evil\u001b[2J', '1B'],
        ['Bank\u202eevil', '202E'],
        ['Zero\u200bwidth', '200B'],
        ['Soft\u00adhyphen', 'AD'],
      ]) {
        const run = await create('text-test', { displayName: name });
        expect(run.code).toBe(2);
        expect(run.stderr).not.toMatch(STEERING);
        expect(run.stderr).toContain(`U+${code.padStart(4, '0')}`);
      }
      expect(await tenantCount()).toBe(before);

      await insertTenant('quiet');
      const reason = await townhall(['tenants', 'suspend', 'quiet', '--reason', 'bell\u0007']);
      expect(reason.code).toBe(2);
      expect(reason.stderr).not.toContain('\u0007');
      expect(
        (await db.query(`SELECT status FROM platform.tenants WHERE slug = 'quiet'`)).rows[0].status,
      ).toBe('active');

      const regulator = await townhall([
        'regulators',
        'create',
        'Authority\u202e',
        '--all',
        '--expires-at',
        new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
      ]);
      expect(regulator.code).toBe(2);
      expect(regulator.stderr).not.toMatch(STEERING);
    });

    it('stores a display name in NFC and counts its length in characters as people see them', async () => {
      // "é" as e + combining acute: two code points, one character.
      const decomposed = 'Cafe\u0301 '.repeat(20).trim();
      const run = await create('cafe', { displayName: decomposed }, '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).displayName).toBe(decomposed.normalize('NFC'));
      expect(decomposed.length).toBeGreaterThan(100);
    });
  });

  describe('e-mail addresses and domains', () => {
    it.each([['a@b'], ['a@localhost'], ['a b@x.example'], ['a@@x.example'], ['.a@x.example']])(
      'refuses the admin e-mail %p, as the API does, and writes nothing',
      async (email) => {
        const before = await tenantCount();
        const run = await create('mail-test', { adminEmail: email });
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/--admin-email <email>.*is invalid/);
        expect(await tenantCount()).toBe(before);
      },
    );

    it.each([
      ['pathy.localhost/admin?x#y'],
      ['alpha%2elocalhost'],
      ['soft\u00adhyphen.example'],
      ['tab\t.example'],
    ])('refuses the domain %p instead of rewriting it', async (domain) => {
      const before = await tenantCount();
      const run = await create('domain-test', { domain });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--domain <host>.*is invalid/);
      expect(run.stderr).not.toContain('\u00ad');
      expect(await tenantCount()).toBe(before);
    });
  });
});
