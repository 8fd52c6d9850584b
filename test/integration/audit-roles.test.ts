import { Client } from 'pg';
import { DataSource, type QueryRunner } from 'typeorm';
import { loadConfig, TownhallConfig } from '@townhall/core';
import {
  applicationDatabaseUrl,
  dataSourceOptions,
  ownerDataSourceOptions,
  PLATFORM_MIGRATIONS,
  withDefaultUser,
} from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import {
  ADMIN_URL,
  createTestDatabase,
  createTestDatabaseWithOwner,
  testApplicationRole,
} from '../support/database';

/**
 * The audit log is append-only in the database itself. The application logs in as a role of its own,
 * which may append pending entries and read the log but not change, remove or even write it — and
 * which no `SET ROLE` or `RESET` turns back into the owner. A trigger refuses changes whoever asks —
 * here the owner, a superuser, that runs migrations and the sequencer.
 */
const HASH = `'\\x${'ab'.repeat(32)}'::bytea`;
const SIGNATURE = `'\\x${'cd'.repeat(64)}'::bytea`;

/** One row per append-only table, inserted by the owner: SQL to insert, and a column to update. */
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
    table: 'audit_cosignatures',
    insert: `INSERT INTO platform.audit_cosignatures (checkpoint_id, witness, key_id, signature, cosigned_at)
             SELECT id, 'witness.test/w1', '\\x01020304'::bytea, '\\x01020304'::bytea || ${HASH} || ${HASH} || '\\x0102030405060708'::bytea, now()
               FROM platform.audit_checkpoints`,
    set: `witness = 'witness.test/w2'`,
  },
  {
    table: 'audit_key_rotations',
    insert: `INSERT INTO platform.audit_key_rotations (time, previous_key_id, key_id, record)
             VALUES (now(), '0123456789abcdef', 'fedcba9876543210', '{}')`,
    set: `record = '{"forged":true}'`,
  },
];

/** Every audit table, with a change to try on it. */
const AUDIT_TABLES: { table: string; set: string }[] = [
  ...APPEND_ONLY,
  { table: 'audit_pending', set: `entry = '{}'` },
  { table: 'audit_signing_keys', set: `valid_to = now()` },
];

/** What a session of the application might try to get the owner's rights back. */
const ESCAPES = ['SET ROLE NONE', 'RESET ROLE', 'SET SESSION AUTHORIZATION DEFAULT', 'RESET ALL'];

async function expectError(work: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await expect(work).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
}

describe('database protection of the audit log (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: DataSource;
  let owner: Client;
  let ownerName: string;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    app = new DataSource({ ...dataSourceOptions(config), entities: [] });
    await app.initialize();
    ownerName = new URL(withDefaultUser(config.database.url)).username;
    owner = new Client({ connectionString: withDefaultUser(config.database.url) });
    await owner.connect();
    await owner.query(`
      INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from, valid_to)
      VALUES ('0123456789abcdef', 'pem', NULL, now() - interval '1 day', now()),
             ('fedcba9876543210', 'pem', 'sealed', now(), NULL)`);
    for (const { insert } of APPEND_ONLY) await owner.query(insert);
  });

  afterAll(async () => {
    await app?.destroy();
    await owner?.end();
    await drop?.();
  });

  /** A session of the application's own login, as the pool opens them. */
  async function applicationSession<T>(work: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: applicationDatabaseUrl(config) });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  it('logs the application in as its role itself: not the owner, no superuser, no member of the owner', async () => {
    const [row] = await app.query(
      `SELECT current_user, session_user, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
              pg_has_role(current_user, $1::name, 'MEMBER') AS member
         FROM pg_roles r WHERE r.rolname = current_user`,
      [ownerName],
    );
    expect(row).toEqual({
      current_user: config.database.appRole,
      session_user: config.database.appRole,
      rolsuper: false,
      rolinherit: false,
      rolcreaterole: false,
      rolcreatedb: false,
      member: false,
    });
    const [{ n }] = await app.query(`SELECT count(*)::int AS n FROM platform.audit_entries`);
    expect(n).toBe(1);
  });

  it.each(ESCAPES)(
    'after %s the application still cannot change, switch off or drop any audit table',
    async (escape) => {
      await applicationSession(async (c) => {
        await c.query(escape);
        expect((await c.query(`SELECT current_user AS u`)).rows[0].u).toBe(config.database.appRole);
        for (const { table, set } of AUDIT_TABLES) {
          await expectError(c.query(`UPDATE platform.${table} SET ${set}`), '42501', /permission denied/);
          await expectError(c.query(`DELETE FROM platform.${table}`), '42501', /permission denied/);
          await expectError(c.query(`TRUNCATE platform.${table}`), '42501', /permission denied/);
          await expectError(
            c.query(`ALTER TABLE platform.${table} DISABLE TRIGGER USER`),
            '42501',
            /must be owner/,
          );
          await expectError(c.query(`DROP TABLE platform.${table}`), '42501', /must be owner/);
        }
      });
      const [{ n }] = await app.query(`SELECT count(*)::int AS n FROM platform.audit_entries`);
      expect(n).toBe(1);
    },
  );

  it('cannot take the owner’s role or identity', async () => {
    await applicationSession(async (c) => {
      await expectError(c.query(`SET ROLE ${ownerName}`), '42501', /permission denied to set role/);
      await expectError(
        c.query(`SET SESSION AUTHORIZATION ${ownerName}`),
        '42501',
        /permission denied to set session authorization/,
      );
    });
  });

  it('may not write the log, its nodes, checkpoints, rotations or keys: the owner’s sequencer does', async () => {
    for (const { table, insert } of APPEND_ONLY) {
      await expectError(app.query(insert), '42501', new RegExp(`permission denied for table ${table}`));
    }
    await expectError(
      app.query(`INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from)
                 VALUES ('00000000000000aa', 'pem', 'sealed', now())`),
      '42501',
      /permission denied/,
    );
  });

  it('appends pending entries but cannot read, delete or renumber them', async () => {
    await app.query(`INSERT INTO platform.audit_pending (entry) VALUES ('{"pending":1}')`);
    await expectError(app.query(`SELECT entry FROM platform.audit_pending`), '42501', /permission denied/);
    await expectError(
      app.query(`INSERT INTO platform.audit_pending (entry) VALUES ('{}') RETURNING id`),
      '42501',
      /permission denied/,
    );
    await expectError(
      app.query(`SELECT setval(pg_get_serial_sequence('platform.audit_pending', 'id'), 1)`),
      '42501',
      /permission denied/,
    );
    const { rows } = await owner.query(`SELECT entry FROM platform.audit_pending`);
    expect(rows).toEqual([{ entry: '{"pending":1}' }]);
  });

  it('cannot take the sequencer’s lock, so it cannot stall sequencing and checkpoints', async () => {
    await expectError(
      app.query(`SELECT id FROM platform.audit_sequencer_lock FOR UPDATE`),
      '42501',
      /permission denied/,
    );
    const { rows } = await owner.query(`SELECT id FROM platform.audit_sequencer_lock`);
    expect(rows).toEqual([{ id: 1 }]);
  });

  it('reads the public half of the signing keys, never the sealed private key, and retires none', async () => {
    const keys = await app.query(
      `SELECT key_id, public_key_pem, valid_from, valid_to FROM platform.audit_signing_keys ORDER BY valid_from`,
    );
    expect(keys.map((k: { key_id: string }) => k.key_id)).toEqual(['0123456789abcdef', 'fedcba9876543210']);
    await expectError(
      app.query(`SELECT private_key_sealed FROM platform.audit_signing_keys`),
      '42501',
      /permission denied/,
    );
    await expectError(app.query(`SELECT * FROM platform.audit_signing_keys`), '42501', /permission denied/);
    await expectError(
      app.query(`UPDATE platform.audit_signing_keys SET valid_to = now() WHERE key_id = 'fedcba9876543210'`),
      '42501',
      /permission denied/,
    );
  });

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

  it('lets the owner retire a signing key once, deleting its private half, and never delete or otherwise change it', async () => {
    await expectError(
      owner.query(
        `UPDATE platform.audit_signing_keys SET public_key_pem = 'forged' WHERE key_id = 'fedcba9876543210'`,
      ),
      '23001',
      /a key can only be retired, once/,
    );
    // Retired, the key may not keep its private half: whoever held it could sign in its name.
    await expectError(
      owner.query(
        `UPDATE platform.audit_signing_keys SET valid_to = now() WHERE key_id = 'fedcba9876543210'`,
      ),
      '23001',
      /a key can only be retired, once, losing its private half/,
    );
    await expectError(
      owner.query(`
        INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from, valid_to)
        VALUES ('00000000000000bb', 'pem', 'sealed', now() - interval '2 days', now() - interval '1 day')`),
      '23514',
      /audit_signing_keys_retired_without_private_key/,
    );
    await owner.query(
      `UPDATE platform.audit_signing_keys SET valid_to = now(), private_key_sealed = NULL WHERE key_id = 'fedcba9876543210'`,
    );
    await expectError(
      owner.query(
        `UPDATE platform.audit_signing_keys SET valid_to = now() + interval '1 year' WHERE key_id = 'fedcba9876543210'`,
      ),
      '23001',
      /a key can only be retired, once/,
    );
    // A private half once deleted never comes back.
    await expectError(
      owner.query(
        `UPDATE platform.audit_signing_keys SET private_key_sealed = 'sealed' WHERE key_id = 'fedcba9876543210'`,
      ),
      '23001',
      /refused/,
    );
    await expectError(owner.query(`DELETE FROM platform.audit_signing_keys`), '23001', /refused/);
  });

  it('deletes the private half of keys retired before the platform did so itself, when it migrates', async () => {
    // The platform as it was before the custody migration: retired keys kept their private half.
    const custody = PLATFORM_MIGRATIONS.find((m) => m.name === 'AuditSigningKeyCustody1732601300000')!;
    await new custody().down({ query: (sql: string) => owner.query(sql) } as unknown as QueryRunner);
    await owner.query(`DELETE FROM platform.migrations WHERE name = 'AuditSigningKeyCustody1732601300000'`);
    await owner.query(`UPDATE platform.audit_signing_keys SET valid_to = now() WHERE valid_to IS NULL`);
    await owner.query(`
      INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from, valid_to)
      VALUES ('1111111111111111', 'pem', 'sealed-1', now() - interval '3 days', now() - interval '2 days'),
             ('2222222222222222', 'pem', 'sealed-2', now() - interval '2 days', NULL)`);
    await owner.query(
      `UPDATE platform.audit_signing_keys SET valid_to = now(), private_key_sealed = 'sealed-2' WHERE key_id = '2222222222222222'`,
    );
    await owner.query(`
      INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from)
      VALUES ('3333333333333333', 'pem', 'sealed-3', now())`);

    // (The checkpoint this suite inserted names the log "test/audit".)
    await preparePlatform({ ...config, audit: { ...config.audit, origin: 'test/audit' } }, { migrate: true });

    const { rows } = await owner.query(
      `SELECT key_id, private_key_sealed FROM platform.audit_signing_keys WHERE key_id IN ($1, $2, $3) ORDER BY key_id`,
      ['1111111111111111', '2222222222222222', '3333333333333333'],
    );
    expect(rows).toEqual([
      { key_id: '1111111111111111', private_key_sealed: null },
      { key_id: '2222222222222222', private_key_sealed: null },
      { key_id: '3333333333333333', private_key_sealed: 'sealed-3' },
    ]);
  });

  it('refuses to start when the application role cannot log in, rather than running as the owner', async () => {
    const missing = { ...config, database: { ...config.database, appRole: 'townhall_no_such_role' } };
    await expect(preparePlatform(missing, { migrate: false })).rejects.toMatchObject({
      name: 'StartupError',
      problems: [expect.stringMatching(/application role "townhall_no_such_role" cannot log in/)],
    });
  });

  it('refuses to start when DATABASE_APP_URL logs in as the owner, before migrating anything', async () => {
    const explicit = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: config.database.url,
      DATABASE_APP_URL: withDefaultUser(config.database.url),
    });
    for (const migrate of [true, false]) {
      await expect(preparePlatform(explicit, { migrate })).rejects.toMatchObject({
        name: 'StartupError',
        problems: [expect.stringMatching(new RegExp(`logs in as "${ownerName}", the owner`))],
      });
    }
  });

  it('refuses to start when DATABASE_APP_URL logs in as a superuser or a member of the owner', async () => {
    const suffix = `${process.pid}_${Date.now()}`;
    const member = `th_member_${suffix}`;
    const superuser = `th_super_${suffix}`;
    await owner.query(`CREATE ROLE ${member} LOGIN; GRANT ${ownerName} TO ${member}`);
    await owner.query(`CREATE ROLE ${superuser} LOGIN SUPERUSER`);
    try {
      const as = (role: string) => {
        const url = new URL(config.database.url);
        url.username = role;
        return { ...config, database: { ...config.database, appRole: role, appUrl: url.toString() } };
      };
      await expect(preparePlatform(as(member), { migrate: false })).rejects.toMatchObject({
        problems: [expect.stringMatching(new RegExp(`"${member}", which is or is a member of the owner`))],
      });
      await expect(preparePlatform(as(superuser), { migrate: false })).rejects.toMatchObject({
        problems: [expect.stringMatching(new RegExp(`"${superuser}", a superuser`))],
      });
    } finally {
      await owner.query(`DROP ROLE ${member}; DROP ROLE ${superuser}`);
    }
  });

  it('refuses to start when DATABASE_APP_URL may create roles or write the log through a predefined role', async () => {
    const suffix = `${process.pid}_${Date.now()}`;
    const creator = `th_creator_${suffix}`;
    const writer = `th_writer_${suffix}`;
    await owner.query(`CREATE ROLE ${creator} LOGIN CREATEROLE`);
    await owner.query(`CREATE ROLE ${writer} LOGIN; GRANT pg_write_all_data TO ${writer}`);
    try {
      const as = (role: string) => {
        const url = new URL(config.database.url);
        url.username = role;
        return { ...config, database: { ...config.database, appRole: role, appUrl: url.toString() } };
      };
      await expect(preparePlatform(as(creator), { migrate: false })).rejects.toMatchObject({
        problems: [expect.stringMatching(new RegExp(`"${creator}", which may create roles`))],
      });
      await expect(preparePlatform(as(writer), { migrate: false })).rejects.toMatchObject({
        problems: [
          expect.stringMatching(
            new RegExp(
              `"${writer}", which may change or delete audit rows \\(audit_checkpoints, audit_cosignatures, audit_entries, `,
            ),
          ),
        ],
      });
    } finally {
      await owner.query(`DROP ROLE ${creator}; DROP ROLE ${writer}`);
    }
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

  it('keeps schemas the application creates off the owner’s search_path', async () => {
    // A schema named like the owner would come first on a default search_path ("$user", public).
    await app.query(`CREATE SCHEMA ${ownerName}; CREATE TABLE ${ownerName}.tenants (id int)`);
    try {
      const ds = new DataSource({
        ...ownerDataSourceOptions(config, { name: 'test', max: 1 }),
        entities: [],
      });
      await ds.initialize();
      try {
        const [{ path }] = await ds.query(`SELECT current_schemas(true)::text AS path`);
        expect(path).toBe('{platform,pg_catalog}');
        await ds.query(`SELECT count(*) FROM tenants`);
        const [{ resolved }] = await ds.query(
          `SELECT 'tenants'::regclass = 'platform.tenants'::regclass AS resolved`,
        );
        expect(resolved).toBe(true);
      } finally {
        await ds.destroy();
      }
    } finally {
      await app.query(`DROP SCHEMA ${ownerName} CASCADE`);
    }
  });
});

describe('switching the application role on later (real PostgreSQL)', () => {
  let drop: () => Promise<void>;
  let off: TownhallConfig;
  let role: string;

  beforeAll(async () => {
    let name: string;
    ({ config: off, drop, name } = await createTestDatabase({ TOWNHALL_DATABASE_APP_ROLE: 'off' }));
    role = testApplicationRole(name);
  });

  afterAll(async () => drop?.());

  it('runs as the login role while off; on, the next start grants the role and hands it the tenant schemas', async () => {
    await preparePlatform(off, { migrate: true });
    const plain = new DataSource({ ...dataSourceOptions(off), entities: [] });
    await plain.initialize();
    try {
      const [{ current_user: user }] = await plain.query(`SELECT current_user`);
      expect(user).not.toBe(role);
      // A tenant made while the role was off: its schema belongs to the login role.
      await plain.query(`
        INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
        VALUES (77, 'old-tenant', 'Old', 'a@old.example', 'active', 'default', 'tenant_77')`);
      await plain.query(`CREATE SCHEMA tenant_77; CREATE TABLE tenant_77.accounts (id bigint PRIMARY KEY)`);
      const [{ granted }] = await plain.query(
        `SELECT to_regrole($1) IS NOT NULL AND has_schema_privilege($1, 'platform', 'USAGE') AS granted`,
        [role],
      );
      expect(granted).toBe(false);
    } finally {
      await plain.destroy();
    }

    const on = { ...off, database: { ...off.database, appRole: role } };
    await preparePlatform(on, { migrate: true });
    const app = new DataSource({ ...dataSourceOptions(on), entities: [] });
    await app.initialize();
    try {
      const [{ current_user: user }] = await app.query(`SELECT current_user`);
      expect(user).toBe(role);
      await app.query(`SELECT count(*) FROM platform.tenants`);
      // The application migrates tenant schemas, so it must own the old one and its tables.
      await app.query(`ALTER TABLE tenant_77.accounts ADD COLUMN note text`);
      await expectError(app.query(`DELETE FROM platform.audit_entries`), '42501', /permission denied/);
    } finally {
      await app.destroy();
    }
  });
});

describe('an owner that is no superuser, only CREATEROLE and CREATEDB (real PostgreSQL)', () => {
  let admin: Client;
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let database: string;
  let ownerRole: string;
  let appRole: string;

  beforeAll(async () => {
    // The machine trusts local connections: the password only makes Townhall derive one for the role.
    ({
      config,
      drop,
      name: database,
      owner: ownerRole,
    } = await createTestDatabaseWithOwner({}, 'owner-secret'));
    appRole = config.database.appRole!;
    admin = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await drop?.();
  });

  // The derived password itself is set and used against the embedded PostgreSQL, which checks passwords
  // (test/integration/embedded-postgres.test.ts); this server trusts 127.0.0.1, so the login works
  // without one and none is set.
  it('creates the database and the application role, sets no password the login does not need, and stays out of it', async () => {
    await preparePlatform(config, { migrate: true });
    const { rows } = await admin.query(
      `SELECT r.rolcanlogin, r.rolsuper, r.rolinherit, a.rolpassword LIKE 'SCRAM-SHA-256$4096:%' AS scram,
              pg_has_role(r.oid, $2::name, 'MEMBER') AS member_of_owner,
              shobj_description(r.oid, 'pg_authid') AS mark
         FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = $1`,
      [appRole, ownerRole],
    );
    // Marked as Townhall's for this database, which an owner with CREATEROLE may do.
    expect(rows).toEqual([
      {
        rolcanlogin: true,
        rolsuper: false,
        rolinherit: false,
        scram: null,
        member_of_owner: false,
        mark: `townhall application role of database ${database}`,
      },
    ]);
    const app = new DataSource({ ...dataSourceOptions(config), entities: [] });
    await app.initialize();
    try {
      const [{ user }] = await app.query(`SELECT current_user AS user`);
      expect(user).toBe(appRole);
      await app.query(`INSERT INTO platform.audit_pending (entry) VALUES ('{}')`);
      await expectError(app.query(`DELETE FROM platform.audit_pending`), '42501', /permission denied/);
      await expectError(app.query(`SET ROLE ${ownerRole}`), '42501', /permission denied to set role/);
    } finally {
      await app.destroy();
    }
  });
});
