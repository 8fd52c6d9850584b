import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { dataSourceOptions, withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { ADMIN_URL, createTestDatabase } from '../support/database';

/**
 * `TOWNHALL_DATABASE_APP_ROLE` names a role Townhall creates and then manages: it strips the role's
 * attributes, sets its password, grants it the platform and hands it every tenant schema. A start may
 * do that only to a role Townhall created for this very database (it marks the roles it creates), or
 * to one an earlier version made here; any other existing role is refused before anything changes.
 */
describe('the application role: only Townhall’s own, for this database (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let name: string;
  let admin: Client;
  const extraRoles: string[] = [];

  /** A role of the test's own, dropped at the end, created with `attributes`. */
  async function createRole(attributes: string): Promise<string> {
    const role = `th_role_${process.pid}_${randomBytes(3).toString('hex')}`;
    await admin.query(`CREATE ROLE ${role} ${attributes}`);
    extraRoles.push(role);
    return role;
  }

  /** What a takeover would change: the role's attributes, its mark and rights, the tenant schema's owner. */
  async function stateOf(role: string, db: Client = admin) {
    const { rows } = await db.query(
      `SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolinherit,
              shobj_description(r.oid, 'pg_authid') AS mark,
              (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'tenant_4711') AS tenant_owner,
              EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a
                       WHERE n.nspname = 'platform' AND a.grantee = r.oid) AS granted
         FROM pg_roles r WHERE r.rolname = $1`,
      [role],
    );
    return rows[0];
  }

  const derived = (role: string): TownhallConfig => ({
    ...config,
    database: { ...config.database, appRole: role, appUrl: undefined },
  });

  beforeAll(async () => {
    ({ config, drop, name } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    admin = new Client({ connectionString: withDefaultUser(config.database.url) });
    await admin.connect();
    // A serving tenant, its schema made by the application (so its role owns it).
    const app = new DataSource({ ...dataSourceOptions(config), entities: [] });
    await app.initialize();
    try {
      await app.query(`
        INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
        VALUES (4711, 'served', 'Served', 'a@served.example', 'active', 'default', 'tenant_4711')`);
      await app.query(`CREATE SCHEMA tenant_4711; CREATE TABLE tenant_4711.accounts (id bigint PRIMARY KEY)`);
    } finally {
      await app.destroy();
    }
  });

  afterAll(async () => {
    await admin?.end();
    await drop?.();
    // After the database, which took whatever was granted to them with it.
    const cluster = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
    await cluster.connect();
    try {
      for (const role of extraRoles) await cluster.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await cluster.end();
    }
  });

  it('creates the role marked as Townhall’s for this database', async () => {
    expect(await stateOf(config.database.appRole!)).toEqual({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolinherit: false,
      mark: `townhall application role of database ${name}`,
      tenant_owner: config.database.appRole,
      granted: true,
    });
  });

  it('refuses, in one line and before changing anything, an existing role it did not create (LOGIN SUPERUSER CREATEDB CREATEROLE INHERIT)', async () => {
    const victim = await createRole('LOGIN SUPERUSER CREATEDB CREATEROLE INHERIT');
    const before = await stateOf(victim);
    expect(before).toMatchObject({
      rolsuper: true,
      rolcreatedb: true,
      rolcreaterole: true,
      rolinherit: true,
    });
    await expect(preparePlatform(derived(victim), { migrate: true })).rejects.toMatchObject({
      name: 'StartupError',
      problems: [
        `the application role "${victim}" already exists and Townhall did not create it for this database: ` +
          `choose another TOWNHALL_DATABASE_APP_ROLE, drop the role, or give its login in DATABASE_APP_URL`,
      ],
    });
    expect(await stateOf(victim)).toEqual(before);
    expect(before).toMatchObject({ mark: null, tenant_owner: config.database.appRole, granted: false });
  });

  it('refuses such a role on a fresh database before applying any migration', async () => {
    const victim = await createRole('LOGIN NOSUPERUSER NOINHERIT');
    const fresh = await createTestDatabase({ TOWNHALL_DATABASE_APP_ROLE: victim }, { from: 'empty' });
    try {
      await expect(preparePlatform(fresh.config, { migrate: true })).rejects.toMatchObject({
        problems: [expect.stringMatching(new RegExp(`^the application role "${victim}" already exists`))],
      });
      const db = new Client({ connectionString: withDefaultUser(fresh.config.database.url) });
      await db.connect();
      try {
        const { rows } = await db.query(`SELECT to_regclass('platform.migrations') AS migrations`);
        expect(rows).toEqual([{ migrations: null }]);
      } finally {
        await db.end();
      }
      expect(await stateOf(victim)).toMatchObject({ mark: null });
    } finally {
      await fresh.drop();
    }
  });

  it('refuses the role Townhall created for another database: one role per deployment', async () => {
    const other = await createTestDatabase();
    try {
      await preparePlatform(other.config, { migrate: true });
      const role = other.config.database.appRole!;
      await expect(preparePlatform(derived(role), { migrate: true })).rejects.toMatchObject({
        problems: [
          `the application role "${role}" is Townhall's role for the database ${other.name}: ` +
            `give this database a role of its own (TOWNHALL_DATABASE_APP_ROLE)`,
        ],
      });
      expect(await stateOf(role)).toMatchObject({
        mark: `townhall application role of database ${other.name}`,
        granted: false,
      });
    } finally {
      await other.drop();
    }
  });

  it('adopts, and marks, the role an earlier version created for this database', async () => {
    const role = config.database.appRole!;
    // Earlier versions created the role without a mark; everything else about it is what they left.
    await admin.query(`COMMENT ON ROLE ${role} IS NULL`);
    await preparePlatform(config, { migrate: true });
    expect(await stateOf(role)).toMatchObject({
      mark: `townhall application role of database ${name}`,
      tenant_owner: role,
    });
  });

  it('does not adopt an unmarked role that holds this database’s grants but has a dangerous attribute', async () => {
    const role = config.database.appRole!;
    await admin.query(`COMMENT ON ROLE ${role} IS NULL; ALTER ROLE ${role} CREATEDB`);
    try {
      const before = await stateOf(role);
      await expect(preparePlatform(config, { migrate: true })).rejects.toMatchObject({
        problems: [expect.stringMatching(new RegExp(`^the application role "${role}" already exists`))],
      });
      expect(await stateOf(role)).toEqual(before);
      expect(before).toMatchObject({ rolcreatedb: true, mark: null });
    } finally {
      await admin.query(`ALTER ROLE ${role} NOCREATEDB`);
      await admin.query(`COMMENT ON ROLE ${role} IS 'townhall application role of database ${name}'`);
    }
  });

  it('does not adopt an unmarked role with Townhall’s attributes but no grants in this database', async () => {
    const lookalike = await createRole('LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT');
    await expect(preparePlatform(derived(lookalike), { migrate: true })).rejects.toMatchObject({
      problems: [expect.stringMatching(new RegExp(`^the application role "${lookalike}" already exists`))],
    });
    expect(await stateOf(lookalike)).toMatchObject({
      mark: null,
      granted: false,
      tenant_owner: config.database.appRole,
    });
  });

  it('refuses an unfit login of DATABASE_APP_URL before granting it anything or handing it tenant schemas', async () => {
    const superuser = await createRole('LOGIN SUPERUSER');
    const url = new URL(config.database.url);
    url.username = superuser;
    const explicit = {
      ...config,
      database: { ...config.database, appRole: superuser, appUrl: url.toString() },
    };
    await expect(preparePlatform(explicit, { migrate: true })).rejects.toMatchObject({
      problems: [`the application logs in as "${superuser}", a superuser: it needs a role of its own`],
    });
    expect(await stateOf(superuser)).toMatchObject({
      rolsuper: true,
      mark: null,
      granted: false,
      tenant_owner: config.database.appRole,
    });
  });

  it('leaves no role behind when a test database is dropped', async () => {
    const gone = await createTestDatabase();
    await preparePlatform(gone.config, { migrate: true });
    await gone.drop();
    const { rows } = await admin.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [
      gone.config.database.appRole,
    ]);
    expect(rows).toEqual([]);
  });
});
