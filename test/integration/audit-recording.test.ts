import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import {
  AuditContext,
  AuditContextInit,
  AuditEntry,
  AuditRecorder,
  AuditStore,
  AuditSubjects,
  AuditOwnerConnection,
  CheckpointAuditLog,
  DatabaseAuditStore,
  MissingAuditActorError,
  verifyAuditBundle,
} from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { ProvisioningModule, ProvisionTenantCommand, TenantLifecycle } from '@townhall/provisioning';
import { exportedLog } from '../support/audit';
import { createTestDatabase } from '../support/database';

/**
 * Audit recording below HTTP, on the real database log: entries commit with their change or not at
 * all, refusals are recorded after the rollback, personal data lives only in the encrypted side table,
 * and erasing a person leaves the whole log verifiable.
 */
describe('audit recording (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let ds: DataSource;
  let store: AuditStore;
  let recorder: AuditRecorder;
  let subjects: AuditSubjects;
  let lifecycle: TenantLifecycle;
  let n = 0;

  const operator: AuditContextInit = {
    actor: { type: 'operator', id: '4242', via: 'token:17' },
    requestId: 'audit-recording-test-request',
    ip: '198.51.100.23',
    userAgent: 'integration-test/1.0',
  };
  const asOperator = <T>(fn: () => Promise<T>): Promise<T> => AuditContext.run(operator, fn);

  function command(slug: string, adminEmail = `press@${slug}.example`): ProvisionTenantCommand {
    return new ProvisionTenantCommand({ slug, domain: `${slug}.example`, displayName: slug, adminEmail });
  }

  const exportLog = () => exportedLog(store);

  async function entriesSince(before: number): Promise<AuditEntry[]> {
    return (await exportLog()).entries.slice(before);
  }

  async function logSize(): Promise<number> {
    return (await exportLog()).entries.length;
  }

  async function count(table: string): Promise<number> {
    const [{ n: rows }] = (await ds.query(`SELECT count(*)::int AS n FROM platform.${table}`)) as {
      n: number;
    }[];
    return rows;
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    await preparePlatform(config, { migrate: true });
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule.forRoot(config), ProvisioningModule],
    }).compile();
    app = await moduleRef.init();
    ds = app.get(DataSource);
    store = app.get(AuditStore);
    recorder = app.get(AuditRecorder);
    subjects = app.get(AuditSubjects);
    lifecycle = app.get(TenantLifecycle);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('commits an entry with its change, and a rolled-back change leaves neither entry nor personal data', async () => {
    const before = await logSize();
    const personalRows = await count('audit_personal_data');
    const slug = `rollback-${++n}`;
    // A registration that is recorded, then hits a taken domain (a 409) before its transaction commits.
    await asOperator(() => lifecycle.provision(command(`taken-${n}`)));
    const attempt = asOperator(() =>
      ds.transaction(async (manager) => {
        await manager.query(
          `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
           VALUES (4711, $1, $1, 'x@y.example', 'provisioning', 'default', 'tenant_4711')`,
          [slug],
        );
        await recorder.record(manager, {
          action: 'tenant.create',
          target: { type: 'tenant', id: '4711' },
          tenant: '4711',
          outcome: 'success',
          personal: [{ identifier: 'email:x@y.example', data: { email: 'x@y.example' } }],
        });
        await manager.query(`INSERT INTO platform.tenant_domains (domain, tenant_id) VALUES ($1, 4711)`, [
          `taken-${n}.example`,
        ]);
      }),
    );
    await expect(attempt).rejects.toThrow(/duplicate key/);

    const added = await entriesSince(before);
    expect(added.map((e) => [e.action, e.outcome])).toEqual([['tenant.create', 'success']]);
    expect(added[0].details).toMatchObject({ slug: `taken-${n}` });
    expect(await count('audit_personal_data')).toBe(personalRows + 2); // owner e-mail + connection
    const [{ tenants }] = (await ds.query(
      `SELECT count(*)::int AS tenants FROM platform.tenants WHERE slug = $1`,
      [slug],
    )) as { tenants: number }[];
    expect(tenants).toBe(0);
  });

  it('refuses to record a change made outside any audit context, and the change does not happen', async () => {
    const before = await logSize();
    const slug = `nobody-${++n}`;
    await expect(lifecycle.provision(command(slug))).rejects.toBeInstanceOf(MissingAuditActorError);
    expect(await ds.query(`SELECT 1 FROM platform.tenants WHERE slug = $1`, [slug])).toHaveLength(0);
    expect(await logSize()).toBe(before);
  });

  it('records a refused action with outcome failure after its rollback, naming the error', async () => {
    const slug = `refused-${++n}`;
    const created = await asOperator(() => lifecycle.provision(command(slug)));
    const before = await logSize();
    await expect(asOperator(() => lifecycle.provision(command(slug)))).rejects.toMatchObject({
      code: 'slug_taken',
    });
    await expect(asOperator(() => lifecycle.resume(created.id))).rejects.toMatchObject({
      code: 'invalid_transition',
    });
    await expect(asOperator(() => lifecycle.suspend('999999'))).rejects.toMatchObject({
      code: 'tenant_not_found',
    });
    await expect(asOperator(() => lifecycle.suspend('1; DROP TABLE x'))).rejects.toMatchObject({
      code: 'tenant_not_found',
    });

    const added = await entriesSince(before);
    expect(added.map((e) => [e.action, e.outcome, e.target, e.tenant, e.details.error])).toEqual([
      ['tenant.create', 'failure', { type: 'tenant', id: 'unknown' }, null, 'slug_taken'],
      ['tenant.resume', 'failure', { type: 'tenant', id: created.id }, created.id, 'invalid_transition'],
      ['tenant.suspend', 'failure', { type: 'tenant', id: '999999' }, null, 'tenant_not_found'],
      ['tenant.suspend', 'failure', { type: 'tenant', id: 'unknown' }, null, 'tenant_not_found'],
    ]);
    for (const entry of added) expect(entry.actor).toEqual(operator.actor);
    // Recorded on their own, each with the request's connection data in the side table beside it.
    const connection = await asOperator(() => subjects.reveal(added[0].details.personalDataRef as string));
    expect(connection).toEqual([
      expect.objectContaining({
        kind: 'connection',
        data: { ip: operator.ip, userAgent: operator.userAgent },
      }),
    ]);

    // A refusal with no personal data at all (a system actor) is one statement, committed on its own.
    const system = { actor: { type: 'system', id: 'provisioning-worker' } };
    const personalRows = await count('audit_personal_data');
    const beforeSystem = await logSize();
    await expect(AuditContext.run(system, () => lifecycle.suspend('888888'))).rejects.toMatchObject({
      code: 'tenant_not_found',
    });
    const [refusal] = await entriesSince(beforeSystem);
    expect(refusal).toMatchObject({
      actor: system.actor,
      outcome: 'failure',
      details: { error: 'tenant_not_found' },
    });
    expect(refusal.details.personalDataRef).toBeUndefined();
    expect(await count('audit_personal_data')).toBe(personalRows);
  });

  it('names people only by subject id: one subject per person, their data encrypted in the side table', async () => {
    const before = await logSize();
    const a = await asOperator(() => lifecycle.provision(command(`same-a-${++n}`, 'Owner@Shared.example')));
    const b = await asOperator(() => lifecycle.provision(command(`same-b-${n}`, 'owner@shared.example')));
    const { text } = await exportLog();
    const [first, second] = (await entriesSince(before)).filter((e) => e.action === 'tenant.create');
    expect([first.target.id, second.target.id]).toEqual([a.id, b.id]);
    expect(first.actor).toEqual(operator.actor);
    expect(first.requestId).toBe(operator.requestId);
    expect(first.details.subjects).toEqual([expect.stringMatching(/^\d+$/)]);
    expect(second.details.subjects).toEqual(first.details.subjects); // the same person, by address
    expect(second.details.personalDataRef).not.toBe(first.details.personalDataRef);

    for (const secret of ['shared.example', 'Shared.example', '198.51.100.23', 'integration-test/1.0'])
      expect(text).not.toContain(secret);
    const sideTable = JSON.stringify(
      await ds.query(
        `SELECT s.*, p.* FROM platform.audit_personal_data p JOIN platform.audit_subjects s ON s.id = p.subject_id`,
      ),
    );
    for (const secret of ['shared.example', '198.51.100.23', 'integration-test'])
      expect(sideTable).not.toContain(secret);

    const revealed = await asOperator(() => subjects.reveal(first.details.personalDataRef as string));
    expect(revealed).toEqual([
      {
        subject: (first.details.subjects as string[])[0],
        kind: 'mentioned',
        data: { email: 'Owner@Shared.example' },
        erased: false,
      },
      {
        subject: expect.any(String),
        kind: 'connection',
        data: { ip: '198.51.100.23', userAgent: 'integration-test/1.0' },
        erased: false,
      },
    ]);
    expect((await entriesSince(before)).at(-1)).toMatchObject({
      action: 'audit.personal_data.reveal',
      target: { type: 'audit_personal_data', id: first.details.personalDataRef },
      actor: operator.actor,
    });
  });

  it('erasing a subject makes their personal details unreadable while the whole log still verifies', async () => {
    const created = await asOperator(() =>
      lifecycle.provision(command(`erase-${++n}`, 'leaver@erase.example')),
    );
    const beforeErasure = await exportLog();
    const entry = beforeErasure.entries.find(
      (e) => e.action === 'tenant.create' && e.target.id === created.id,
    )!;
    const subject = (entry.details.subjects as string[])[0];
    const ref = entry.details.personalDataRef as string;
    const keys = await store.keys();
    const checkpointBefore = await store.newestCheckpoint();
    expect(await verifyAuditBundle(beforeErasure.text, { keys })).toMatchObject({ ok: true });
    expect(await asOperator(() => subjects.find('email:leaver@erase.example'))).toBe(subject);

    await asOperator(() => subjects.erase(subject));

    const revealed = await asOperator(() => subjects.reveal(ref));
    expect(revealed[0]).toEqual({ subject, kind: 'mentioned', data: null, erased: true });
    expect(JSON.stringify(revealed)).not.toContain('leaver');
    const [row] = (await ds.query(
      `SELECT key_sealed, lookup_digest, erased_at FROM platform.audit_subjects WHERE id = $1`,
      [subject],
    )) as { key_sealed: string | null; lookup_digest: Buffer | null; erased_at: Date | null }[];
    expect(row).toEqual({ key_sealed: null, lookup_digest: null, erased_at: expect.any(Date) });
    expect(await asOperator(() => subjects.find('email:leaver@erase.example'))).toBeNull();
    await expect(asOperator(() => subjects.erase(subject))).rejects.toMatchObject({
      code: 'audit_subject_not_found',
    });

    // The log is untouched: the same entries, byte for byte, and it verifies, also against the earlier checkpoint.
    const afterErasure = await exportLog();
    expect(afterErasure.entries.slice(0, beforeErasure.entries.length)).toEqual(beforeErasure.entries);
    expect(afterErasure.entries.map((e) => e.action)).toContain('audit.subject.erase');
    expect(
      await verifyAuditBundle(afterErasure.text, { keys: await store.keys() }, { since: checkpointBefore }),
    ).toMatchObject({
      ok: true,
    });

    // The same person later is a new, unlinkable subject.
    const again = await asOperator(() =>
      lifecycle.provision(command(`erase-again-${n}`, 'leaver@erase.example')),
    );
    const later = (await exportLog()).entries.find(
      (e) => e.action === 'tenant.create' && e.target.id === again.id,
    )!;
    expect(later.details.subjects).not.toEqual([subject]);
  });

  it('refuses to let the person acting erase their own subject, and records the refusal; another operator may', async () => {
    // Operator 4242 has acted with an IP address: their subject holds it.
    await asOperator(() => lifecycle.provision(command(`own-${++n}`)));
    const own = await asOperator(() => subjects.find('operator:4242'));
    expect(own).not.toBeNull();
    const before = await logSize();
    await expect(asOperator(() => subjects.erase(own!))).rejects.toMatchObject({
      code: 'audit_subject_is_own',
      status: 403,
    });
    const [row] = (await ds.query(`SELECT key_sealed FROM platform.audit_subjects WHERE id = $1`, [own])) as {
      key_sealed: string | null;
    }[];
    expect(row.key_sealed).not.toBeNull();
    expect(await entriesSince(before)).toEqual([
      expect.objectContaining({
        action: 'audit.subject.erase',
        outcome: 'failure',
        target: { type: 'audit_subject', id: own },
        details: expect.objectContaining({ error: 'audit_subject_is_own' }),
      }),
    ]);
    // The CLI's person (the operating-system account) is protected the same way.
    const cli = {
      actor: { type: 'system', id: 'cli' },
      person: { identifier: 'os-user:ops@host', data: { osUser: 'ops', host: 'host' } },
    };
    await AuditContext.run(cli, () => lifecycle.provision(command(`own-cli-${++n}`)));
    const cliSubject = await AuditContext.run(cli, () => subjects.find('os-user:ops@host'));
    await expect(AuditContext.run(cli, () => subjects.erase(cliSubject!))).rejects.toMatchObject({
      code: 'audit_subject_is_own',
    });

    const other = { ...operator, actor: { type: 'operator', id: '4243', via: 'token:18' } };
    await AuditContext.run(other, () => subjects.erase(own!));
    expect(await asOperator(() => subjects.find('operator:4242'))).toBeNull();
  });

  it('records entries on their own with their side-table rows in one statement, many sharing one', async () => {
    await asOperator(() => lifecycle.provision(command(`alone-${++n}`))); // the operator is known now
    const databaseStore = app.get(DatabaseAuditStore);
    const before = await logSize();
    const statsBefore = databaseStore.appendAloneStats();
    const denials = Array.from({ length: 20 }, (_, i) =>
      AuditContext.run({ ...operator, requestId: `alone-request-${i}` }, () =>
        recorder.recordAlone({
          action: 'audit.export',
          target: { type: 'tenant', id: String(i) },
          tenant: null,
          outcome: 'denied',
          authored: { note: `attempt ${i}` },
        }),
      ),
    );
    await Promise.all(denials);
    const stats = databaseStore.appendAloneStats();
    expect(stats.entries - statsBefore.entries).toBe(20);
    expect(stats.statements - statsBefore.statements).toBeLessThan(20);
    const added = (await entriesSince(before)).filter((e) => e.requestId?.startsWith('alone-request-'));
    expect(added).toHaveLength(20);
    for (const entry of added) {
      const i = Number(entry.target.id);
      const revealed = await asOperator(() => subjects.reveal(entry.details.personalDataRef as string));
      expect(revealed.map((r) => [r.kind, r.data])).toEqual([
        ['mentioned', { note: `attempt ${i}` }],
        ['connection', { ip: operator.ip, userAgent: operator.userAgent }],
      ]);
    }

    // Entry and rows go together or not at all: a row naming no subject fails the whole statement.
    // (The application's login may only insert pending entries; the owner's reads them.)
    const owner = await app.get(AuditOwnerConnection).dataSource();
    const pendingRows = async () =>
      ((await owner.query(`SELECT count(*)::int AS n FROM platform.audit_pending`)) as { n: number }[])[0].n;
    const pending = await pendingRows();
    const personalRows = await count('audit_personal_data');
    const entry = {
      time: new Date().toISOString(),
      tenant: null,
      actor: { type: 'system', id: 'test' },
      action: 'audit.export',
      target: { type: 'tenant', id: '1' },
      outcome: 'denied' as const,
      requestId: 'alone-atomic',
      details: {},
    };
    const orphan = {
      ref: randomUUID(),
      position: 0,
      subjectId: '1',
      kind: 'connection' as const,
      ciphertext: 'x',
    };
    await expect(databaseStore.appendAlone(entry, [orphan])).rejects.toThrow();
    expect([await pendingRows(), await count('audit_personal_data')]).toEqual([pending, personalRows]);
  });

  it('keeps a suspension reason out of the entry: only its length, the text under the operator’s subject', async () => {
    const reason = 'complaint by Erika Mustermann, +49 170 0000000';
    const tenant = await asOperator(() => lifecycle.provision(command(`reason-${++n}`)));
    await ds.query(`UPDATE platform.tenants SET status = 'active' WHERE id = $1`, [tenant.id]);
    const before = await logSize();
    await asOperator(() => lifecycle.suspend(tenant.id, reason));

    const { text, entries } = await exportLog();
    const [entry] = entries.slice(before);
    expect(entry).toMatchObject({
      action: 'tenant.suspend',
      details: { from: 'active', to: 'suspended', reasonLength: reason.length },
    });
    expect(entry.details).not.toHaveProperty('reason');
    for (const part of ['Mustermann', '+49 170']) expect(text).not.toContain(part);

    // The text is where the reference points, under the operator's own pseudonym, readable until erased.
    const operatorSubject = await asOperator(() => subjects.find('operator:4242'));
    expect(entry.details.subjects).toEqual([operatorSubject]);
    const revealed = await asOperator(() => subjects.reveal(entry.details.personalDataRef as string));
    expect(revealed[0]).toEqual({
      subject: operatorSubject,
      kind: 'mentioned',
      data: { reason },
      erased: false,
    });
  });

  it('records a subject lookup, found or not, without the identifier in the log; refuses a bad one', async () => {
    const before = await logSize();
    await asOperator(() => lifecycle.provision(command(`lookup-${++n}`, 'someone@lookup.example')));
    const found = await asOperator(() => subjects.find('email:someone@lookup.example'));
    expect(found).toMatch(/^\d+$/);
    expect(await asOperator(() => subjects.find('email:nobody@lookup.example'))).toBeNull();
    await expect(asOperator(() => subjects.find(''))).rejects.toMatchObject({
      code: 'invalid_subject_identifier',
    });
    await expect(subjects.find('email:someone@lookup.example')).rejects.toBeInstanceOf(
      MissingAuditActorError,
    );

    const { text, entries } = await exportLog();
    const lookups = entries.slice(before).filter((e) => e.action === 'audit.subject.lookup');
    expect(lookups.map((e) => [e.outcome, e.target.id, e.details.found, e.details.error])).toEqual([
      ['success', found, true, undefined],
      ['success', 'unknown', false, undefined],
      ['failure', 'unknown', undefined, 'invalid_subject_identifier'],
    ]);
    expect(text).not.toContain('lookup.example');
    // Not in the side table either: a lookup must not record the person it looks for.
    for (const lookup of lookups.slice(0, 2)) {
      const revealed = await asOperator(() => subjects.reveal(lookup.details.personalDataRef as string));
      expect(revealed.length).toBeGreaterThan(0); // the operator's connection data
      expect(JSON.stringify(revealed)).not.toContain('lookup.example');
    }
  });

  it('signs a checkpoint on demand that covers the entry recording the request', async () => {
    await asOperator(() => lifecycle.provision(command(`checkpoint-${++n}`)));
    const checkpoint = await asOperator(() => app.get(CheckpointAuditLog).run());
    const { entries, text } = await exportLog();
    expect(entries[checkpoint.treeSize - 1]).toMatchObject({
      action: 'audit.checkpoint',
      target: { type: 'audit_log', id: 'platform' },
      actor: operator.actor,
      outcome: 'success',
    });
    expect(await store.newestCheckpoint()).toEqual(checkpoint);
    expect(await verifyAuditBundle(text, { keys: await store.keys() }, { since: checkpoint })).toMatchObject({
      ok: true,
    });
  });

  it('lets the application role erase (the side tables are ordinary tables for it)', async () => {
    const role = config.database.appRole!;
    const [privileges] = (await ds.query(
      `SELECT current_user AS me,
              has_table_privilege($1, 'platform.audit_subjects', 'UPDATE') AS subjects,
              has_table_privilege($1, 'platform.audit_personal_data', 'INSERT') AS data`,
      [role],
    )) as { me: string; subjects: boolean; data: boolean }[];
    expect(privileges).toEqual({ me: role, subjects: true, data: true });
  });
});
