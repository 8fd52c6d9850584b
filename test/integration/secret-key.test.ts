import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  AuditStore,
  AuditSubjects,
  AuditSubjectStore,
  AuditContext,
  RotateAuditPeriodKeys,
  systemAuditContext,
} from '@townhall/compliance';
import { secretKeyId, TownhallConfig } from '@townhall/core';
import {
  applicationDatabaseUrl,
  PLATFORM_SEALED_COLUMNS,
  OTHER_SEALED_COLUMNS,
  TENANT_SEALED_COLUMNS,
  withDefaultUser,
} from '@townhall/persistence';
import { PlatformError, preparePlatform, RotateSecretKey, StartupError } from '@townhall/platform';
import { ActorKeyPool } from '@townhall/provisioning';
import { actingAs } from '../support/audit';
import { ADMIN_URL, createTestDatabase, createTestDatabaseWithOwner } from '../support/database';
import { openEverything, opensEverything, sealAsBeforeSubkeys } from '../support/sealed';
import { ProvisioningContext, provisionActiveTenant, startProvisioningContext } from '../support/tenants';

jest.setTimeout(120_000);

/**
 * The platform's secret key below the CLI: a start refuses a key that does not open what is sealed
 * (and records the key's check value only for one that does), and a rotation moves everything to the
 * new key in one transaction — audit subjects recorded before identifiers were kept included.
 */
describe('the platform secret key (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let db: Client;
  let n = 0;

  const withKey = (key: Buffer): TownhallConfig => ({ ...config, secretKey: key });
  const keyOf = (c: TownhallConfig): Buffer => c.secretKey!;

  /** The platform as a process started with `c` has it, for the duration of `work`. */
  async function withPlatform<T>(
    c: TownhallConfig,
    work: (p: ProvisioningContext) => Promise<T>,
  ): Promise<T> {
    const platform = await startProvisioningContext(c);
    try {
      return await work(platform);
    } finally {
      await platform.app.close();
    }
  }

  const provisionTenant = (p: ProvisioningContext) => provisionActiveTenant(p, `agency-${++n}`);

  const find = (p: ProvisioningContext, identifier: string) =>
    actingAs(p.app.get(AuditSubjects)).find(identifier);

  /** A process without workers (nothing of its own runs during a rotation) started with `c`. */
  const quietly = (c: TownhallConfig): TownhallConfig => ({
    ...c,
    provisioning: { ...c.provisioning, workers: false },
  });

  /** `townhall secret-key rotate`, below the CLI: from the key of `c` to `next`. */
  const rotate = (c: TownhallConfig, next: Buffer) =>
    withPlatform(quietly(c), (p) =>
      AuditContext.run(systemAuditContext('test'), () => p.app.get(RotateSecretKey).run(next)),
    );

  async function storedKeyId(): Promise<string | null> {
    const { rows } = await db.query<{ key_id: string }>(`SELECT key_id FROM platform.secret_key_check`);
    return rows[0]?.key_id ?? null;
  }

  async function refusal(c: TownhallConfig): Promise<string[]> {
    const err: unknown = await preparePlatform(c, { migrate: true }).then(
      () => null,
      (e: unknown) => e,
    );
    if (!(err instanceof StartupError)) throw new Error(`expected a refused start, got ${String(err)}`);
    return err.problems;
  }

  /**
   * The platform as the first tests leave it — migrated and started with the key in use, an active tenant,
   * a signed checkpoint — made where it is missing, so that a test that needs it passes alone too.
   */
  async function withSealedData(): Promise<void> {
    await preparePlatform(config, { migrate: true });
    const { rows } = await db.query<{ tenants: number; checkpoints: number }>(
      `SELECT (SELECT count(*) FROM platform.tenants WHERE status = 'active')::int AS tenants,
              (SELECT count(*) FROM platform.audit_checkpoints)::int AS checkpoints`,
    );
    if (rows[0].tenants > 0 && rows[0].checkpoints > 0) return;
    await withPlatform(config, async (p) => {
      if (rows[0].tenants === 0) await provisionTenant(p);
      await p.app.get(AuditStore).checkpointNow();
    });
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  it('records the key of a fresh platform at its first start', async () => {
    await preparePlatform(config, { migrate: true });
    expect(await storedKeyId()).toBe(secretKeyId(keyOf(config)));
    // Nothing is sealed yet, so any key would still have been accepted up to here; from now on only this one.
    const other = withKey(randomBytes(32));
    expect(await refusal(other)).toHaveLength(1);
  });

  it('an upgrade whose only secrets are tenant actor keys proves the key on them before recording it', async () => {
    await withPlatform(config, provisionTenant);
    // As before the check existed: no check value, and (in this test) nothing sealed outside tenant schemas.
    await db.query(`DELETE FROM platform.secret_key_check`);
    await db.query(`DELETE FROM platform.audit_personal_data`);
    await db.query(`DELETE FROM platform.audit_subjects`);
    await db.query(`DELETE FROM platform.audit_period_keys`);
    const other = withKey(randomBytes(32));
    expect(await refusal(other)).toEqual([
      expect.stringMatching(
        /^TOWNHALL_SECRET_KEY \(key id [0-9a-f]{16}\) does not open the tenant actor keys this platform already stores: start with the key this platform was set up with; to change keys, use `townhall secret-key rotate`/,
      ),
    ]);
    expect(await storedKeyId()).toBeNull();
    await preparePlatform(config, { migrate: true });
    expect(await storedKeyId()).toBe(secretKeyId(keyOf(config)));
  });

  it('refuses a start with another key once data is sealed, in one line, changing nothing', async () => {
    await withPlatform(config, async (p) => {
      await provisionTenant(p);
      await p.app.get(ActorKeyPool).refill(2);
      await p.app.get(AuditStore).checkpointNow();
    });
    const before = await openEverything(db, keyOf(config));
    expect(before).toMatchObject({ signingKeys: 1, keyPool: 2, tenantActorKeys: expect.any(Number) });
    expect(before.tenantActorKeys).toBeGreaterThan(0);
    const other = withKey(randomBytes(32));
    const problems = await refusal(other);
    expect(problems).toEqual([
      `TOWNHALL_SECRET_KEY (key id ${secretKeyId(keyOf(other))}) is not the key this platform's data is sealed with (key id ${secretKeyId(keyOf(config))}, in use since ${problems[0].match(/in use since (\S+)\)/)![1]}): start with the key this platform was set up with; to change keys, use \`townhall secret-key rotate\` (docs/operations.md, "The secret key")`,
    ]);
    expect(await storedKeyId()).toBe(secretKeyId(keyOf(config)));
    expect(await openEverything(db, keyOf(config))).toEqual(before);
  });

  it('an upgrade with sealed platform secrets refuses a key that does not open them, and records one that does', async () => {
    await withSealedData();
    await db.query(`DELETE FROM platform.secret_key_check`);
    expect(await refusal(withKey(randomBytes(32)))).toEqual([
      expect.stringMatching(
        /does not open the audit signing keys this platform already stores: start with the key/,
      ),
    ]);
    expect(await storedKeyId()).toBeNull();
    await preparePlatform(config, { migrate: true });
    expect(await storedKeyId()).toBe(secretKeyId(keyOf(config)));
  });

  it('lets the application read the check value but not change it', async () => {
    await withSealedData();
    const app = new Client({ connectionString: applicationDatabaseUrl(config) });
    await app.connect();
    try {
      const { rows } = await app.query<{ key_id: string }>(`SELECT key_id FROM platform.secret_key_check`);
      expect(rows).toEqual([{ key_id: secretKeyId(keyOf(config)) }]);
      for (const change of [
        `UPDATE platform.secret_key_check SET key_id = 'x'`,
        `DELETE FROM platform.secret_key_check`,
      ]) {
        await expect(app.query(change)).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      await app.end();
    }
  });

  it('refuses the start of an audit log under another origin than its checkpoints name', async () => {
    await withSealedData();
    const moved = { ...config, audit: { ...config.audit, origin: 'elsewhere.example/audit' } };
    expect(await refusal(moved)).toEqual([
      `TOWNHALL_AUDIT_ORIGIN is "elsewhere.example/audit" but the audit log's checkpoints are signed as "${config.audit.origin}": a log's origin cannot change (set TOWNHALL_AUDIT_ORIGIN=${config.audit.origin})`,
    ]);
  });

  it('two fresh starts with different keys at once: one key wins, the other start is refused', async () => {
    const fresh = await createTestDatabase();
    try {
      const a = fresh.config;
      const b = { ...a, secretKey: randomBytes(32) };
      const results = await Promise.allSettled([
        preparePlatform(a, { migrate: true }),
        preparePlatform(b, { migrate: true }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    } finally {
      await fresh.drop();
    }
  });

  it.each(['townhall-audit/0badc0de', 'townhall'])(
    'refuses to rotate while another Townhall process is connected (%s), and changes nothing',
    async (name) => {
      const other = new Client({
        connectionString: withDefaultUser(config.database.url),
        application_name: name,
      });
      await other.connect();
      try {
        await expect(rotate(config, randomBytes(32))).rejects.toMatchObject({
          code: 'platform_in_use',
          detail: expect.stringContaining(name),
        });
      } finally {
        await other.end();
      }
      expect(await storedKeyId()).toBe(secretKeyId(keyOf(config)));
      expect(await opensEverything(db, keyOf(config))).toBe(true);
    },
  );

  it('upgrades subjects recorded before identifiers were kept: found before and after, moved when met again', async () => {
    const early = 'email:early@agency.example';
    const twice = 'email:twice@agency.example';
    const subjectIds = await withPlatform(quietly(config), async (p) => {
      const store = p.app.get(AuditSubjectStore);
      return p.ds.transaction(async (m) => [
        (await store.subjectFor(m, early)).id,
        (await store.subjectFor(m, twice)).id,
      ]);
    });
    // As a version that kept no identifiers and sealed with the secret key itself left them.
    await sealAsBeforeSubkeys(db, keyOf(config), subjectIds);
    await withPlatform(quietly(config), async (p) => {
      expect(await openEverything(db, keyOf(config))).toMatchObject({ legacyLookupKey: true });
      expect(await find(p, early)).toBe(subjectIds[0]);
      expect(await find(p, twice)).toBe(subjectIds[1]);
      // Met again: the subject keeps its id, its identifier is kept from now on.
      const store = p.app.get(AuditSubjectStore);
      expect((await p.ds.transaction((m) => store.subjectFor(m, twice))).id).toBe(subjectIds[1]);
    });
    const kept = async () =>
      (
        await db.query<{ id: string; kept: boolean }>(
          `SELECT id::text AS id, identifier_ciphertext IS NOT NULL AS kept FROM platform.audit_subjects
            WHERE id = ANY($1::bigint[]) ORDER BY id`,
          [subjectIds],
        )
      ).rows;
    expect(await kept()).toEqual([
      { id: subjectIds[0], kept: false },
      { id: subjectIds[1], kept: true },
    ]);

    // A rotation of the secret key carries the legacy lookup key on, sealed with the new key.
    const b = withKey(randomBytes(32));
    await rotate(config, keyOf(b));
    expect(await opensEverything(db, keyOf(config))).toBe(false);
    expect(await openEverything(db, keyOf(b))).toMatchObject({ legacyLookupKey: true });
    await withPlatform(quietly(b), async (p) => {
      expect(await find(p, early)).toBe(subjectIds[0]);
      expect(await find(p, twice)).toBe(subjectIds[1]);
      // A new period moves both; the one without identifier keeps its digest, and is found still.
      await actingAs(p.app.get(RotateAuditPeriodKeys)).run({ newPeriod: true });
      expect(await find(p, early)).toBe(subjectIds[0]);
      expect(await find(p, twice)).toBe(subjectIds[1]);
      await actingAs(p.app.get(AuditSubjects)).erase(subjectIds[0]);
      // With no such subject left, the next rotation of period keys drops the legacy lookup key.
      expect(await actingAs(p.app.get(RotateAuditPeriodKeys)).run()).toMatchObject({
        legacyLookupKeyDropped: true,
      });
    });
    expect(await openEverything(db, keyOf(b))).toMatchObject({ legacyLookupKey: false });
    await withPlatform(quietly(b), async (p) => {
      expect(await find(p, early)).toBeNull();
      expect(await find(p, twice)).toBe(subjectIds[1]);
    });
    config = b;
  });

  it('refuses a rotation when a stored value does not open, naming it, and changes nothing', async () => {
    await withPlatform(quietly(config), (p) => p.app.get(ActorKeyPool).refill(1));
    const { rows } = await db.query<{ id: string; sealed: string }>(
      `SELECT id::text AS id, private_key_sealed AS sealed FROM platform.actor_key_pool ORDER BY id DESC LIMIT 1`,
    );
    const [version, iv, ...rest] = rows[0].sealed.split(':');
    const broken = [version, Buffer.alloc(Buffer.from(iv, 'base64').length).toString('base64'), ...rest].join(
      ':',
    );
    await db.query(`UPDATE platform.actor_key_pool SET private_key_sealed = $2 WHERE id = $1`, [
      rows[0].id,
      broken,
    ]);
    try {
      const err = await rotate(config, randomBytes(32)).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'secret_does_not_open',
        detail: expect.stringMatching(
          new RegExp(
            `^one of the pre-generated actor keys in platform\\.actor_key_pool \\(id ${rows[0].id}\\) does not open`,
          ),
        ),
      });
      expect(await storedKeyId()).toBe(secretKeyId(keyOf(config)));
    } finally {
      await db.query(`DELETE FROM platform.actor_key_pool WHERE id = $1`, [rows[0].id]);
    }
    expect(await opensEverything(db, keyOf(config))).toBe(true);
  });

  it('refuses a rotation to the key in use', async () => {
    const err = await rotate(config, keyOf(config)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'secret_key_unchanged' });
  });

  it('a signing key can be re-sealed but not replaced: its public half and window stay as they are', async () => {
    await withSealedData();
    const { rows } = await db.query<{ key_id: string }>(`SELECT key_id FROM platform.audit_signing_keys`);
    await expect(
      db.query(`UPDATE platform.audit_signing_keys SET public_key_pem = 'x' WHERE key_id = $1`, [
        rows[0].key_id,
      ]),
    ).rejects.toThrow(
      /a key can only be retired, once, losing its private half, or have its private half re-sealed/,
    );
    await expect(
      db.query(
        `UPDATE platform.audit_signing_keys SET valid_from = valid_from - interval '1 day' WHERE key_id = $1`,
        [rows[0].key_id],
      ),
    ).rejects.toThrow(/refused/);
    await expect(db.query(`DELETE FROM platform.audit_signing_keys`)).rejects.toThrow(/refused/);
  });

  it('knows every sealed column of the platform and of a tenant schema', async () => {
    await withSealedData();
    const known = new Set<string>([
      ...PLATFORM_SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`),
      ...TENANT_SEALED_COLUMNS.map((c) => `tenant.${c.table}.${c.column}`),
      ...OTHER_SEALED_COLUMNS,
    ]);
    const { rows } = await db.query<{ name: string }>(
      `SELECT CASE WHEN c.table_schema = 'platform' THEN 'platform' ELSE 'tenant' END
              || '.' || c.table_name || '.' || c.column_name AS name
         FROM information_schema.columns c
        WHERE c.column_name LIKE '%sealed%'
          AND (c.table_schema = 'platform'
               OR c.table_schema = (SELECT schema_name FROM platform.tenants WHERE status = 'active' LIMIT 1))
        ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(known.size);
    for (const { name } of rows) expect(known).toContain(name);
  });
});

describe('rotating the secret key with an owner that is no superuser (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let database: string;

  beforeAll(async () => {
    ({ config, drop, name: database } = await createTestDatabaseWithOwner());
  });

  afterAll(async () => {
    await drop?.();
  });

  it('re-seals the actor keys of tenant schemas, which the application role owns', async () => {
    const platform = await startProvisioningContext(config);
    try {
      await provisionActiveTenant(platform, 'owned');
    } finally {
      await platform.app.close();
    }
    const next = randomBytes(32);
    const quiet = { ...config, provisioning: { ...config.provisioning, workers: false } };
    const rotated = await startProvisioningContext(quiet);
    try {
      const result = await AuditContext.run(systemAuditContext('test'), () =>
        rotated.app.get(RotateSecretKey).run(next),
      );
      expect(result.resealed).toContainEqual({ label: 'tenant actor keys', count: 1 });
    } finally {
      await rotated.app.close();
    }
    const db = new Client({
      connectionString: withDefaultUser(ADMIN_URL.replace(/\/[^/]*$/, `/${database}`)),
    });
    await db.connect();
    try {
      expect(await openEverything(db, next)).toMatchObject({ tenantActorKeys: 1 });
      expect(await opensEverything(db, config.secretKey!)).toBe(false);
    } finally {
      await db.end();
    }
    await expect(preparePlatform(config, { migrate: true })).rejects.toBeInstanceOf(StartupError);
    await preparePlatform({ ...config, secretKey: next }, { migrate: true });
  });
});
