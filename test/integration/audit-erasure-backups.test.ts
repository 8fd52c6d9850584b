import { Client } from 'pg';
import {
  AuditContext,
  AuditRecorder,
  AuditSubjects,
  AuditSubjectStore,
  RotateAuditPeriodKeys,
  systemAuditContext,
} from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { applicationDatabaseUrl, withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { ActorKeyPool } from '@townhall/provisioning';
import { actingAs } from '../support/audit';
import { createTestDatabase } from '../support/database';
import {
  hkdf,
  hmac,
  openEverything,
  openSealed,
  periodSubkeys,
  sealAsBeforeSubkeys,
  subkey,
} from '../support/sealed';
import { ProvisioningContext, provisionActiveTenant, startProvisioningContext } from '../support/tenants';

jest.setTimeout(180_000);

interface SubjectRow {
  id: string;
  lookup_digest: Buffer | null;
  key_sealed: string | null;
  identifier_ciphertext: string | null;
  period_key_id: string | null;
}

interface PeriodKeyRow {
  id: string;
  key_sealed: string | null;
}

/**
 * Erasure against what outlives the live database (issue: "erasure undone by a backup"): an erased
 * subject's row, as a backup or an old row version keeps it, must not open with the platform's secret
 * key once its period key is destroyed, nor its lookup digest confirm a guessed address. Every check of
 * a copy is done as an attacker would, with the secret key and the formats of docs/compliance.md, not
 * through the code under test.
 */
describe('audit erasure and backups (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let db: Client;
  let platform: ProvisioningContext;
  let n = 0;

  const secret = () => config.secretKey!;
  const rotation = () => actingAs(platform.app.get(RotateAuditPeriodKeys));
  const subjects = () => actingAs(platform.app.get(AuditSubjects));

  /** Records an entry that mentions `identifier` with `data`; returns the entry's personal-data reference. */
  async function mention(identifier: string, data: Record<string, string>): Promise<string> {
    const recorder = platform.app.get(AuditRecorder);
    await AuditContext.run(systemAuditContext('test'), () =>
      recorder.recordAlone({
        action: 'test.mention',
        target: { type: 'test', id: String(++n) },
        tenant: null,
        outcome: 'success',
        personal: [{ identifier, data }],
      }),
    );
    const { rows } = await db.query<{ ref: string }>(
      `SELECT p.record_ref::text AS ref FROM platform.audit_personal_data p
        ORDER BY p.created_at DESC, p.record_ref DESC LIMIT 1`,
    );
    return rows[0].ref;
  }

  async function subjectRow(id: string): Promise<SubjectRow> {
    const { rows } = await db.query<SubjectRow>(
      `SELECT id::text AS id, lookup_digest, key_sealed, identifier_ciphertext, period_key_id::text AS period_key_id
         FROM platform.audit_subjects WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async function periodKeyRows(): Promise<PeriodKeyRow[]> {
    return (
      await db.query<PeriodKeyRow>(
        `SELECT id::text AS id, key_sealed FROM platform.audit_period_keys ORDER BY id`,
      )
    ).rows;
  }

  /**
   * What whoever holds `key` gets out of `row` (a copy of a subject's row) with the period keys in
   * `periodKeys`: the identifier, or null when nothing opens it.
   */
  function openCopy(key: Buffer, row: SubjectRow, periodKeys: PeriodKeyRow[]): string | null {
    const sealedPeriodKey = periodKeys.find((k) => k.id === row.period_key_id)?.key_sealed;
    if (!sealedPeriodKey || !row.key_sealed || !row.identifier_ciphertext) return null;
    try {
      const periodKey = Buffer.from(
        openSealed(
          subkey(key, 'audit-period-keys'),
          sealedPeriodKey,
          `platform.audit_period_keys:${row.period_key_id}`,
        ),
        'base64',
      );
      const subjectKey = Buffer.from(
        openSealed(
          periodSubkeys(periodKey).wrap,
          row.key_sealed,
          `townhall/audit-subject-key/v2:${row.id}:${row.period_key_id}`,
        ),
        'base64',
      );
      return openSealed(subjectKey, row.identifier_ciphertext, 'townhall/audit-subject-identifier/v1');
    } catch {
      return null;
    }
  }

  /**
   * Whether the secret key `key` and the period keys in `periodKeys` confirm that `digest` (a copy of a
   * subject's lookup digest) is `identifier`'s: every key an attacker could derive is tried.
   */
  function confirms(key: Buffer, digest: Buffer, identifier: string, periodKeys: PeriodKeyRow[]): boolean {
    const candidates = [
      hkdf(key, 'townhall/audit-subject-lookup/v1'),
      ...[
        'actor-keys',
        'audit-signing-keys',
        'audit-period-keys',
        'audit-legacy-lookup-key',
        'audit-subject-locks',
      ].map((purpose) => subkey(key, purpose)),
    ];
    for (const k of periodKeys) {
      if (!k.key_sealed) continue;
      const periodKey = Buffer.from(
        openSealed(subkey(key, 'audit-period-keys'), k.key_sealed, `platform.audit_period_keys:${k.id}`),
        'base64',
      );
      candidates.push(periodSubkeys(periodKey).lookup);
    }
    return candidates.some((c) => hmac(c, identifier).equals(digest));
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    platform = await startProvisioningContext(config);
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await platform?.app.close();
    await drop?.();
  });

  it('a row of an erased subject restored from a backup opens with the secret key only until its period key is destroyed', async () => {
    const identifier = 'email:citizen@agency.example';
    const ref = await mention(identifier, { email: 'citizen@agency.example' });
    const subjectId = (await subjects().find(identifier))!;
    // What a backup taken now holds.
    const backedUp = await subjectRow(subjectId);
    const backedUpKeys = await periodKeyRows();
    expect(openCopy(secret(), backedUp, backedUpKeys)).toBe(identifier);
    expect(confirms(secret(), backedUp.lookup_digest!, identifier, backedUpKeys)).toBe(true);

    const erased = await subjects().erase(subjectId);
    expect(erased.periodKeyId).toBe(backedUp.period_key_id);
    expect(await subjectRow(subjectId)).toMatchObject({
      key_sealed: null,
      lookup_digest: null,
      identifier_ciphertext: null,
      period_key_id: backedUp.period_key_id,
    });
    // Until its period key is destroyed, the old row still opens with the live database's keys: the
    // window docs/compliance.md states.
    expect(openCopy(secret(), backedUp, await periodKeyRows())).toBe(identifier);

    const rotated = await rotation().run({ newPeriod: true });
    expect(rotated.destroyed.map((k) => k.id)).toEqual([backedUp.period_key_id]);
    expect(
      (
        await db.query(`SELECT key_sealed FROM platform.audit_period_keys WHERE id = $1`, [
          backedUp.period_key_id,
        ])
      ).rows,
    ).toEqual([{ key_sealed: null }]);

    // The row restored into the live database: neither the platform nor the secret key opens it.
    await db.query(
      `UPDATE platform.audit_subjects SET key_sealed = $2, lookup_digest = $3, identifier_ciphertext = $4,
              erased_at = NULL WHERE id = $1`,
      [subjectId, backedUp.key_sealed, backedUp.lookup_digest, backedUp.identifier_ciphertext],
    );
    const live = await periodKeyRows();
    expect(openCopy(secret(), backedUp, live)).toBeNull();
    expect(confirms(secret(), backedUp.lookup_digest!, identifier, live)).toBe(false);
    expect(await subjects().find(identifier)).toBeNull();
    expect(await subjects().reveal(ref)).toEqual([
      { subject: subjectId, kind: 'mentioned', data: null, erased: true },
    ]);
    await db.query(
      `UPDATE platform.audit_subjects SET key_sealed = NULL, lookup_digest = NULL, identifier_ciphertext = NULL,
              erased_at = now() WHERE id = $1`,
      [subjectId],
    );

    // A backup that also holds the period key table as it was is another matter: it opens until it
    // expires, which is why docs/compliance.md counts the backup retention after the destruction.
    expect(openCopy(secret(), backedUp, backedUpKeys)).toBe(identifier);
  });

  it('destroys a period key in the table’s files too: rewritten until no old row version holds it', async () => {
    const before = await periodKeyRows();
    const newest = before.filter((k) => k.key_sealed !== null).at(-1)!;
    await mention('email:vacuum@agency.example', { email: 'vacuum@agency.example' });
    const fileOf = async () =>
      (await db.query<{ file: string }>(`SELECT pg_relation_filepath('platform.audit_period_keys') AS file`))
        .rows[0].file;
    const holds = async (sealed: string) => {
      // What the table's files hold, not what is still only in shared buffers and the WAL.
      await db.query('CHECKPOINT');
      const [{ bytes }] = (
        await db.query<{ bytes: Buffer }>(
          `SELECT pg_read_binary_file(pg_relation_filepath('platform.audit_period_keys')) AS bytes`,
        )
      ).rows;
      return bytes.includes(Buffer.from(sealed));
    };
    expect(await holds(newest.key_sealed!)).toBe(true);
    const fileBefore = await fileOf();
    const rotated = await rotation().run({ newPeriod: true });
    expect(rotated.destroyed.map((k) => k.id)).toEqual([newest.id]);
    expect(await fileOf()).not.toBe(fileBefore);
    // A transaction older than the destruction (say, an autovacuum ANALYZE) keeps the old version for
    // its snapshot; the rotations of the following day rewrite the table again.
    const deadline = Date.now() + 120_000;
    while ((await holds(newest.key_sealed!)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      await rotation().run();
    }
    if (await holds(newest.key_sealed!)) {
      // What kept the old version: a session of this database with a snapshot older than the destruction.
      const { rows } = await db.query(
        `SELECT pid, backend_type, application_name, state, xact_start, backend_xmin, left(query, 100) AS query
           FROM pg_stat_activity WHERE backend_xmin IS NOT NULL OR backend_xid IS NOT NULL`,
      );
      throw new Error(
        `the destroyed key is still in the table's file; sessions with snapshots: ${JSON.stringify(rows)}`,
      );
    }
    const live = (await periodKeyRows()).filter((k) => k.key_sealed !== null);
    expect(await holds(live[0].key_sealed!)).toBe(true);
  });

  it('starts a period when the month is over, moves every live subject to it and destroys what nobody needs', async () => {
    const people = ['email:a@agency.example', 'email:bb@agency.example', 'email:ccc@agency.example'];
    const refs = [];
    for (const p of people) refs.push(await mention(p, { email: p.slice(6) }));
    const ids = await Promise.all(people.map((p) => subjects().find(p)));
    const [current] = (
      await db.query<{ id: string; starts_at: Date }>(
        `SELECT id::text AS id, starts_at FROM platform.audit_period_keys WHERE key_sealed IS NOT NULL`,
      )
    ).rows;
    // Nothing to do within the month.
    expect(await rotation().run({ now: new Date(current.starts_at.getTime() + 1000) })).toEqual({
      started: null,
      rewrapped: 0,
      destroyed: [],
      legacyLookupKeyDropped: false,
    });
    const nextMonth = new Date(
      Date.UTC(current.starts_at.getUTCFullYear(), current.starts_at.getUTCMonth() + 1, 3),
    );
    const rotated = await rotation().run({ now: nextMonth });
    expect(rotated.started?.startsAt).toEqual(
      new Date(Date.UTC(nextMonth.getUTCFullYear(), nextMonth.getUTCMonth(), 1)),
    );
    expect(rotated.rewrapped).toBeGreaterThanOrEqual(people.length);
    expect(rotated.destroyed.map((k) => k.id)).toEqual([current.id]);
    // Everyone is found and readable under the new key, and nothing is left under the old one.
    expect(await Promise.all(people.map((p) => subjects().find(p)))).toEqual(ids);
    for (const [i, ref] of refs.entries()) {
      expect(await subjects().reveal(ref)).toEqual([
        { subject: ids[i], kind: 'mentioned', data: { email: people[i].slice(6) }, erased: false },
      ]);
    }
    expect(await openEverything(db, secret())).toMatchObject({ periodKeys: 1 });
    // Recorded, as every change of the platform's keys.
    const { rows } = await db.query<{ entry: string }>(
      `SELECT entry FROM platform.audit_pending ORDER BY id DESC LIMIT 10`,
    );
    const actions = rows.map((r) => JSON.parse(r.entry) as { action: string; target: { id: string } });
    expect(actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'audit.period_key.create',
          target: expect.objectContaining({ id: rotated.started!.id }),
        }),
        expect.objectContaining({
          action: 'audit.period_key.destroy',
          target: expect.objectContaining({ id: current.id }),
        }),
      ]),
    );
  });

  it('gives one person one subject while rotations run: no subject lost, none duplicated', async () => {
    const store = platform.app.get(AuditSubjectStore);
    const people = Array.from({ length: 40 }, (_, i) => `email:race-${i}@agency.example`);
    const work = people.map((p, i) =>
      platform.ds
        .transaction((m) => store.subjectFor(m, p))
        .then(async (s) => {
          // Each person met a second time, perhaps after their subject moved.
          const again = await platform.ds.transaction((m) => store.subjectFor(m, p));
          expect(again.id).toBe(s.id);
          expect(again.key.equals(s.key)).toBe(true);
          return i;
        }),
    );
    const rotations = Array.from({ length: 4 }, () => rotation().run({ newPeriod: true }));
    await Promise.all([...work, ...rotations]);
    await rotation().run();
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM platform.audit_subjects WHERE key_sealed IS NOT NULL`,
    );
    const found = await Promise.all(people.map((p) => subjects().find(p)));
    expect(new Set(found).size).toBe(people.length);
    expect(found).not.toContain(null);
    expect(await openEverything(db, secret())).toMatchObject({ periodKeys: 1, subjects: rows[0].n });
  });

  it('seals personal data and identifiers so that lengths within a bucket look alike', async () => {
    const short = 'email:a@b.example';
    const long = `email:${'x'.repeat(180)}@agency.example`;
    await mention(short, { email: short.slice(6) });
    await mention(long, { email: long.slice(6) });
    const { rows } = await db.query<{ identifier: number; data: number }>(
      `SELECT length(s.identifier_ciphertext) AS identifier, length(p.ciphertext) AS data
         FROM platform.audit_subjects s JOIN platform.audit_personal_data p ON p.subject_id = s.id
        WHERE s.id = ANY($1::bigint[])`,
      [await Promise.all([short, long].map((p) => subjects().find(p)))],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(rows[1]);
  });

  it('a worker process starts the new month’s period on its own, and destroys the old key', async () => {
    await mention('email:monthly@agency.example', { email: 'monthly@agency.example' });
    // As if the current key had been made last month.
    const { rows } = await db.query<{ id: string }>(
      `UPDATE platform.audit_period_keys SET starts_at = date_trunc('month', now()) - interval '1 month'
        WHERE key_sealed IS NOT NULL RETURNING id::text AS id`,
    );
    expect(rows).toHaveLength(1);
    const worker = await startProvisioningContext({
      ...config,
      provisioning: { ...config.provisioning, workers: true },
    });
    try {
      const deadline = Date.now() + 30_000;
      const state = async () =>
        (
          await db.query<{ id: string; live: boolean; this_month: boolean }>(
            `SELECT id::text AS id, key_sealed IS NOT NULL AS live, starts_at = date_trunc('month', now()) AS this_month
               FROM platform.audit_period_keys WHERE id = $1 OR starts_at >= date_trunc('month', now())`,
            [rows[0].id],
          )
        ).rows;
      const done = (s: Awaited<ReturnType<typeof state>>) =>
        s.some((k) => k.id === rows[0].id && !k.live) && s.some((k) => k.live && k.this_month);
      while (!done(await state()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(done(await state())).toBe(true);
    } finally {
      await worker.app.close();
    }
    expect(await subjects().find('email:monthly@agency.example')).not.toBeNull();
  });

  it('lets only the owner create or destroy period keys; the application may read them', async () => {
    const app = new Client({ connectionString: applicationDatabaseUrl(config) });
    await app.connect();
    try {
      expect((await app.query(`SELECT id FROM platform.audit_period_keys`)).rows.length).toBeGreaterThan(0);
      for (const change of [
        `INSERT INTO platform.audit_period_keys (starts_at, key_sealed) VALUES (now(), 'x')`,
        `UPDATE platform.audit_period_keys SET key_sealed = NULL, destroyed_at = now()`,
        `DELETE FROM platform.audit_period_keys`,
      ]) {
        await expect(app.query(change)).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      await app.end();
    }
  });
});

describe('upgrading an installation sealed before subkeys (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let db: Client;

  const sealedColumns = async () =>
    (
      await db.query<{ value: string }>(
        `SELECT private_key_sealed AS value FROM platform.audit_signing_keys
         UNION ALL SELECT private_key_sealed FROM platform.actor_key_pool
         UNION ALL SELECT key_sealed FROM platform.audit_subjects WHERE key_sealed IS NOT NULL`,
      )
    ).rows.map((r) => r.value);

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  /** The installation the tests upgrade — a tenant with its actor key, two pooled keys — made when first asked. */
  let installed: Promise<void> | undefined;
  const installation = () =>
    (installed ??= (async () => {
      const platform = await startProvisioningContext({
        ...config,
        provisioning: { ...config.provisioning, workers: true },
      });
      try {
        await provisionActiveTenant(platform, 'agency');
        await platform.app.get(ActorKeyPool).refill(2);
      } finally {
        await platform.app.close();
      }
    })());

  it('moves every secret to subkeys and period keys at the first start, and every person stays found and readable', async () => {
    const quiet = { ...config, provisioning: { ...config.provisioning, workers: false } };
    let ownerSubject: string;
    let refs: { ref: string; subject: string }[];
    await installation();
    let platform = await startProvisioningContext(quiet);
    try {
      ownerSubject = (await actingAs(platform.app.get(AuditSubjects)).find('email:press@agency.example'))!;
      const { rows } = await db.query<{ ref: string; subject: string }>(
        `SELECT record_ref::text AS ref, subject_id::text AS subject FROM platform.audit_personal_data`,
      );
      refs = rows;
      // One erased subject: the upgrade must leave it erased.
      const erasedRef = refs.find((r) => r.subject !== ownerSubject);
      if (erasedRef) await actingAs(platform.app.get(AuditSubjects)).erase(erasedRef.subject);
    } finally {
      await platform.app.close();
    }
    const before = await openEverything(db, config.secretKey!);
    await sealAsBeforeSubkeys(db, config.secretKey!);
    expect((await sealedColumns()).every((v) => v.startsWith('v1:'))).toBe(true);

    // A wrong key is refused before anything changes.
    await expect(
      preparePlatform({ ...quiet, secretKey: Buffer.alloc(32, 7) }, { migrate: true }),
    ).rejects.toMatchObject({
      problems: [expect.stringContaining('is not the key this platform')],
    });
    expect((await sealedColumns()).every((v) => v.startsWith('v1:'))).toBe(true);

    const lines: string[] = [];
    await preparePlatform(quiet, { migrate: true, log: (l) => lines.push(l) });
    expect(lines).toContainEqual(
      expect.stringMatching(/^Sealed the stored secrets with per-purpose subkeys/),
    );
    expect((await sealedColumns()).every((v) => v.startsWith('v2:'))).toBe(true);
    const { rows: check } = await db.query<{ format: string }>(
      `SELECT format FROM platform.secret_key_check`,
    );
    expect(check).toEqual([{ format: 'townhall-secret-key-check/v2' }]);
    expect(await openEverything(db, config.secretKey!)).toEqual({ ...before, periodKeys: 1 });

    platform = await startProvisioningContext(quiet);
    try {
      const audit = actingAs(platform.app.get(AuditSubjects));
      expect(await audit.find('email:press@agency.example')).toBe(ownerSubject);
      // Personal data sealed before padding (v1) still opens.
      const revealed = await audit.reveal(refs.find((r) => r.subject === ownerSubject)!.ref);
      expect(revealed).toContainEqual(expect.objectContaining({ subject: ownerSubject, erased: false }));
      // A second start finds nothing left to upgrade.
      const again: string[] = [];
      await preparePlatform(quiet, { migrate: true, log: (l) => again.push(l) });
      expect(again).toEqual([]);
    } finally {
      await platform.app.close();
    }
  });

  it('an upgrade that fails half-way leaves the installation as it was, for the next start', async () => {
    await installation();
    await sealAsBeforeSubkeys(db, config.secretKey!);
    const before = await sealedColumns();
    // One tenant actor key that the key does not open: found only after the platform's own secrets.
    const { rows } = await db.query<{ schema: string }>(
      `SELECT schema_name AS schema FROM platform.tenants LIMIT 1`,
    );
    const [{ key_id: keyId, account_id: accountId, private_key_sealed: good }] = (
      await db.query<{ key_id: string; account_id: string; private_key_sealed: string }>(
        `SELECT key_id, account_id::text AS account_id, private_key_sealed FROM ${rows[0].schema}.actor_keys LIMIT 1`,
      )
    ).rows;
    await db.query(`UPDATE ${rows[0].schema}.actor_keys SET private_key_sealed = $1 WHERE key_id = $2`, [
      good.replace(
        /^v1:([^:]+):/,
        (_, iv: string) => `v1:${Buffer.alloc(Buffer.from(iv, 'base64').length).toString('base64')}:`,
      ),
      keyId,
    ]);
    const quiet = { ...config, provisioning: { ...config.provisioning, workers: false } };
    await expect(preparePlatform(quiet, { migrate: true })).rejects.toMatchObject({
      problems: [
        `one of the tenant actor keys in ${rows[0].schema}.actor_keys (account_id ${accountId}) does not open (Unsupported state or unable to authenticate data), although the secret key opened the platform's other secrets: nothing was changed; restore that value from a backup, or delete it if it is not needed`,
      ],
    });
    expect(await sealedColumns()).toEqual(before);
    const { rows: check } = await db.query<{ format: string }>(
      `SELECT format FROM platform.secret_key_check`,
    );
    expect(check).toEqual([{ format: 'townhall-secret-key-check/v1' }]);
    await db.query(`UPDATE ${rows[0].schema}.actor_keys SET private_key_sealed = $1 WHERE key_id = $2`, [
      good,
      keyId,
    ]);
    await preparePlatform(quiet, { migrate: true });
    expect((await sealedColumns()).every((v) => v.startsWith('v2:'))).toBe(true);
  });
});
