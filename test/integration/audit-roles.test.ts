import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig, TownhallConfig } from '@townhall/core';
import { dataSourceOptions, withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';

/**
 * The audit log is append-only in the database itself: the role the application's pool assumes may
 * read and insert audit rows but not change or remove them, and a trigger refuses changes to them
 * whoever asks — here the owner, a superuser, that runs migrations.
 */
const HASH = `'\\x${'ab'.repeat(32)}'::bytea`;
const SIGNATURE = `'\\x${'cd'.repeat(64)}'::bytea`;

/** One row per append-only table, inserted as the application role: SQL to insert, and a column to update. */
const APPEND_ONLY: { table: string; insert: string; set: string }[] = [
  {
    table: 'audit_entries',
    insert: `INSERT INTO platform.audit_entries (seq, tenant_id, tenant_seq, time, action, entry, leaf_hash)
             VALUES (0, NULL, NULL, now(), 'tenant.create', '{}', ${HASH})`,
    set: `action = 'tenant.delete'`,
  },
  {
    table: 'audit_nodes',
    insert: `INSERT INTO platform.audit_nodes (level, index, hash) VALUES (1, 0, ${HASH})`,
    set: `hash = ${HASH}`,
  },
  {
    table: 'audit_checkpoints',
    insert: `INSERT INTO platform.audit_checkpoints (origin, tree_size, root_hash, time, key_id, signature)
             VALUES ('test/audit', 1, ${HASH}, now(), '0123456789abcdef', ${SIGNATURE})`,
    set: `tree_size = 2`,
  },
  {
    table: 'audit_key_rotations',
    insert: `INSERT INTO platform.audit_key_rotations (time, previous_key_id, key_id, record)
             VALUES (now(), '0123456789abcdef', 'fedcba9876543210', '{}')`,
    set: `record = '{"forged":true}'`,
  },
];

async function expectError(work: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await expect(work).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
}

describe('database protection of the audit log (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: DataSource;
  let owner: Client;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    app = new DataSource({ ...dataSourceOptions(config), entities: [] });
    await app.initialize();
    owner = new Client({ connectionString: withDefaultUser(config.database.url) });
    await owner.connect();
    await owner.query(`
      INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from, valid_to)
      VALUES ('0123456789abcdef', 'pem', 'sealed', now() - interval '1 day', now()),
             ('fedcba9876543210', 'pem', 'sealed', now(), NULL)`);
    for (const { insert } of APPEND_ONLY) await app.query(insert);
  });

  afterAll(async () => {
    await app?.destroy();
    await owner?.end();
    await drop?.();
  });

  it('runs the application as townhall_app, a role that is not the owner', async () => {
    const [row] = await app.query(`SELECT current_user, session_user`);
    expect(row.current_user).toBe('townhall_app');
    expect(row.session_user).not.toBe('townhall_app');
    const [{ n }] = await app.query(`SELECT count(*)::int AS n FROM platform.audit_entries`);
    expect(n).toBe(1);
  });

  it.each(APPEND_ONLY)(
    'refuses the application role UPDATE, DELETE and TRUNCATE on $table',
    async ({ table, set }) => {
      await expectError(app.query(`UPDATE platform.${table} SET ${set}`), '42501', /permission denied/);
      await expectError(app.query(`DELETE FROM platform.${table}`), '42501', /permission denied/);
      await expectError(app.query(`TRUNCATE platform.${table}`), '42501', /permission denied/);
      // Nor can it switch the trigger off or take the table away: that needs the owner.
      await expectError(
        app.query(`ALTER TABLE platform.${table} DISABLE TRIGGER USER`),
        '42501',
        /must be owner/,
      );
      await expectError(app.query(`DROP TABLE platform.${table}`), '42501', /must be owner/);
    },
  );

  it.each(APPEND_ONLY)(
    'has the trigger refuse UPDATE, DELETE and TRUNCATE on $table even to the owner',
    async ({ table, set }) => {
      const [{ superuser }] = (
        await owner.query(`SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user`)
      ).rows;
      expect(superuser).toBe(true);
      await expectError(
        owner.query(`UPDATE platform.${table} SET ${set}`),
        '23001',
        /is append-only: UPDATE refused/,
      );
      await expectError(
        owner.query(`DELETE FROM platform.${table}`),
        '23001',
        /is append-only: DELETE refused/,
      );
      await expectError(
        owner.query(`TRUNCATE platform.${table} CASCADE`),
        '23001',
        /is append-only: TRUNCATE refused/,
      );
      const { rows } = await owner.query(`SELECT count(*)::int AS n FROM platform.${table}`);
      expect(rows[0].n).toBe(1);
    },
  );

  it('lets the application delete pending rows (the sequencer does) but not rewrite them', async () => {
    await app.query(`INSERT INTO platform.audit_pending (entry) VALUES ('{"pending":1}')`);
    await expectError(
      app.query(`UPDATE platform.audit_pending SET entry = '{}'`),
      '42501',
      /permission denied/,
    );
    await expectError(app.query(`TRUNCATE platform.audit_pending`), '42501', /permission denied/);
    await app.query(`DELETE FROM platform.audit_pending`);
  });

  it('lets a signing key be retired once, and never deleted or otherwise changed', async () => {
    await expectError(app.query(`DELETE FROM platform.audit_signing_keys`), '42501', /permission denied/);
    await expectError(
      owner.query(
        `UPDATE platform.audit_signing_keys SET public_key_pem = 'forged' WHERE key_id = 'fedcba9876543210'`,
      ),
      '23001',
      /a key can only be retired, once/,
    );
    await app.query(
      `UPDATE platform.audit_signing_keys SET valid_to = now() WHERE key_id = 'fedcba9876543210'`,
    );
    await expectError(
      app.query(
        `UPDATE platform.audit_signing_keys SET valid_to = now() + interval '1 year' WHERE key_id = 'fedcba9876543210'`,
      ),
      '23001',
      /a key can only be retired, once/,
    );
    await expectError(owner.query(`DELETE FROM platform.audit_signing_keys`), '23001', /refused/);
  });

  it('refuses to start when the application role does not exist, rather than running as the owner', async () => {
    const missing = { ...config, database: { ...config.database, appRole: 'townhall_no_such_role' } };
    await expect(preparePlatform(missing, { migrate: false })).rejects.toMatchObject({
      name: 'StartupError',
      problems: [expect.stringMatching(/application role "townhall_no_such_role" does not exist/)],
    });
  });

  it('keeps the rest of the platform writable and lets the application create tenant schemas', async () => {
    await app.query(`UPDATE platform.cells SET description = 'the platform database' WHERE id = 'default'`);
    await app.query(
      `CREATE SCHEMA tenant_4242; CREATE TABLE tenant_4242.accounts (id bigint DEFAULT platform.next_id())`,
    );
    await app.query(`INSERT INTO tenant_4242.accounts DEFAULT VALUES`);
    await app.query(`DROP SCHEMA tenant_4242 CASCADE`);
    await expectError(app.query(`DELETE FROM platform.migrations`), '42501', /permission denied/);
  });
});

describe('switching the application role on later (real PostgreSQL)', () => {
  let drop: () => Promise<void>;
  let off: TownhallConfig;

  beforeAll(async () => {
    ({ config: off, drop } = await createTestDatabase({ TOWNHALL_DATABASE_APP_ROLE: 'off' }));
  });

  afterAll(async () => drop?.());

  it('runs as the login role while off; on, the next start grants the role and hands it the tenant schemas', async () => {
    await preparePlatform(off, { migrate: true });
    const plain = new DataSource({ ...dataSourceOptions(off), entities: [] });
    await plain.initialize();
    try {
      const [{ current_user: user }] = await plain.query(`SELECT current_user`);
      expect(user).not.toBe('townhall_app');
      // A tenant made while the role was off: its schema belongs to the login role.
      await plain.query(`
        INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
        VALUES (77, 'old-tenant', 'Old', 'a@old.example', 'active', 'default', 'tenant_77')`);
      await plain.query(`CREATE SCHEMA tenant_77; CREATE TABLE tenant_77.accounts (id bigint PRIMARY KEY)`);
      const [{ granted }] = await plain.query(
        `SELECT has_schema_privilege('townhall_app', 'platform', 'USAGE') AS granted`,
      );
      expect(granted).toBe(false);
    } finally {
      await plain.destroy();
    }

    const on = { ...off, database: { ...off.database, appRole: loadConfig({}).database.appRole } };
    await preparePlatform(on, { migrate: true });
    const app = new DataSource({ ...dataSourceOptions(on), entities: [] });
    await app.initialize();
    try {
      const [{ current_user: user }] = await app.query(`SELECT current_user`);
      expect(user).toBe('townhall_app');
      await app.query(`SELECT count(*) FROM platform.tenants`);
      // The application migrates tenant schemas, so it must own the old one and its tables.
      await app.query(`ALTER TABLE tenant_77.accounts ADD COLUMN note text`);
      await expectError(app.query(`DELETE FROM platform.audit_entries`), '42501', /permission denied/);
    } finally {
      await app.destroy();
    }
  });
});
