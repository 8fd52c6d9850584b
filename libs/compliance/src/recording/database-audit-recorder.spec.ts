import type { DataSource, EntityManager } from 'typeorm';
import { auditEntryProblem } from '../audit-entry';
import { AuditStore, SealedPersonalData, UnsequencedAuditEntry } from '../audit-ports';
import { AuditContext, AuditScope } from './audit-context';
import type { AuditSubjectStore } from './audit-subject-store';
import { DatabaseAuditRecorder, MissingAuditActorError } from './database-audit-recorder';

/** The subject store's contract, in memory: one subject per identifier, rows by reference. */
class FakeSubjects {
  readonly subjects = new Map<string, string>();
  readonly rows: {
    ref: string;
    position: number;
    subject: string;
    kind: string;
    data: Record<string, string>;
  }[] = [];

  subjectFor(_m: EntityManager, identifier: string) {
    if (!this.subjects.has(identifier)) this.subjects.set(identifier, String(9000 + this.subjects.size));
    return Promise.resolve({ id: this.subjects.get(identifier)!, key: Buffer.alloc(32) });
  }

  existingSubject(_m: EntityManager, identifier: string) {
    const id = this.subjects.get(identifier);
    return Promise.resolve(id === undefined ? null : { id, key: Buffer.alloc(32) });
  }

  /** "Sealed": the data in clear, so the test can read what would be encrypted. */
  seal(
    row: { ref: string; position: number; subject: { id: string }; kind: string },
    data: Record<string, string>,
  ) {
    return {
      ref: row.ref,
      position: row.position,
      subjectId: row.subject.id,
      kind: row.kind,
      ciphertext: JSON.stringify(data),
    };
  }
}

describe('DatabaseAuditRecorder', () => {
  const manager = {} as EntityManager;
  let appended: UnsequencedAuditEntry[];
  let appendedAlone: UnsequencedAuditEntry[];
  let sealedAlone: SealedPersonalData[];
  let transactions: number;
  let subjects: FakeSubjects;
  let recorder: DatabaseAuditRecorder;

  beforeEach(() => {
    appended = [];
    appendedAlone = [];
    sealedAlone = [];
    transactions = 0;
    subjects = new FakeSubjects();
    const store = {
      append: (m: EntityManager, entry: UnsequencedAuditEntry, personal: SealedPersonalData[] = []) => {
        expect(m).toBe(manager); // the caller's transaction, nothing else
        appended.push(entry);
        for (const row of personal) {
          const data = JSON.parse(row.ciphertext) as Record<string, string>;
          subjects.rows.push({
            ref: row.ref,
            position: row.position,
            subject: row.subjectId,
            kind: row.kind,
            data,
          });
        }
        return Promise.resolve();
      },
      appendAlone: (entry: UnsequencedAuditEntry, personal: SealedPersonalData[] = []) => {
        appendedAlone.push(entry);
        sealedAlone.push(...personal);
        return Promise.resolve();
      },
    } as unknown as AuditStore;
    const dataSource = {
      transaction: (work: (m: EntityManager) => Promise<unknown>) => {
        transactions++;
        return work(manager);
      },
    } as unknown as DataSource;
    recorder = new DatabaseAuditRecorder(dataSource, store, subjects as unknown as AuditSubjectStore);
  });

  const operator = { type: 'operator', id: '4242', via: 'token:17' };
  const input = {
    action: 'tenant.create',
    target: { type: 'tenant', id: '1001' },
    tenant: '1001',
    outcome: 'success' as const,
    details: { slug: 'bmi' },
  };

  it('takes the actor and request id from the audit context and stamps the time', async () => {
    await AuditContext.run({ actor: operator, requestId: 'req-12345678' }, () =>
      recorder.record(manager, input),
    );
    expect(appended).toHaveLength(1);
    const [entry] = appended;
    expect(entry).toMatchObject({ actor: operator, requestId: 'req-12345678', action: 'tenant.create' });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(entry.time) - Date.now())).toBeLessThan(5000);
    expect(auditEntryProblem({ ...entry, seq: 0 })).toBeNull();
    expect(entry.details).toEqual({ slug: 'bmi' }); // nothing personal: no side-table reference
  });

  it('keeps free text the actor wrote out of the entry, under the acting person’s subject', async () => {
    const cli = {
      actor: { type: 'system', id: 'cli' },
      person: { identifier: 'os-user:ops@host', data: {} },
    };
    await AuditContext.run({ actor: operator, ip: '192.0.2.1' }, () =>
      recorder.record(manager, { ...input, authored: { reason: 'as asked by Jane Doe' } }),
    );
    await AuditContext.run(cli, () => recorder.record(manager, { ...input, authored: { reason: 'x' } }));
    const [http, command] = appended;
    expect(JSON.stringify(appended)).not.toContain('Jane');
    const operatorSubject = subjects.subjects.get('operator:4242');
    expect(http.details.subjects).toEqual([operatorSubject]);
    expect(command.details.subjects).toEqual([subjects.subjects.get('os-user:ops@host')]);
    expect(subjects.rows.filter((r) => r.ref === http.details.personalDataRef)).toEqual([
      expect.objectContaining({ kind: 'mentioned', data: { reason: 'as asked by Jane Doe' } }),
      expect.objectContaining({ kind: 'connection', subject: operatorSubject }),
    ]);
    await expect(
      AuditContext.run({ actor: operator }, () =>
        recorder.record(manager, { ...input, authored: { reason: 'x'.repeat(2049) } }),
      ),
    ).rejects.toMatchObject({ code: 'invalid_audit_entry' });
  });

  it('refuses to record without an actor, writing nothing', async () => {
    await expect(recorder.record(manager, input)).rejects.toBeInstanceOf(MissingAuditActorError);
    expect(appended).toHaveLength(0);
  });

  it('prefers an explicit actor, and gives an entry outside any request a random request id', async () => {
    await recorder.record(manager, { ...input, actor: { type: 'system', id: 'reconciler' } });
    await recorder.record(manager, { ...input, actor: { type: 'system', id: 'reconciler' } });
    expect(appended[0].actor).toEqual({ type: 'system', id: 'reconciler' });
    expect(appended[0].requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(appended[1].requestId).not.toBe(appended[0].requestId);
  });

  it('moves the people an entry mentions and the connection data into the side table', async () => {
    await AuditContext.run(
      { actor: operator, requestId: 'req-12345678', ip: '203.0.113.9', userAgent: 'curl/8.5' },
      () =>
        recorder.record(manager, {
          ...input,
          personal: [{ identifier: 'email:press@bmi.example', data: { email: 'press@bmi.example' } }],
        }),
    );
    const [entry] = appended;
    const text = JSON.stringify(entry);
    for (const secret of ['press@bmi.example', '203.0.113.9', 'curl']) expect(text).not.toContain(secret);
    const owner = subjects.subjects.get('email:press@bmi.example')!;
    expect(entry.details.subjects).toEqual([owner]);
    const ref = entry.details.personalDataRef as string;
    expect(ref).toMatch(/^[0-9a-f-]{36}$/);
    expect(subjects.rows).toEqual([
      { ref, position: 0, subject: owner, kind: 'mentioned', data: { email: 'press@bmi.example' } },
      {
        ref,
        position: 1,
        subject: subjects.subjects.get('operator:4242'),
        kind: 'connection',
        data: { ip: '203.0.113.9', userAgent: 'curl/8.5' },
      },
    ]);
  });

  it('names the person behind a shared actor only by subject id, and files the connection under them', async () => {
    await AuditContext.run(
      {
        actor: { type: 'system', id: 'cli' },
        requestId: 'req-12345678',
        person: { identifier: 'os-user:alice@ops-1', data: { osUser: 'alice', host: 'ops-1' } },
      },
      () => recorder.record(manager, input),
    );
    const alice = subjects.subjects.get('os-user:alice@ops-1')!;
    expect(appended[0].actor).toEqual({ type: 'system', id: 'cli', onBehalfOf: alice });
    expect(JSON.stringify(appended[0])).not.toContain('alice');
    expect(subjects.rows).toEqual([
      expect.objectContaining({ subject: alice, kind: 'behalf', data: { osUser: 'alice', host: 'ops-1' } }),
    ]);
  });

  it('does not file the context’s connection data under a different actor passed in', async () => {
    await AuditContext.run({ actor: operator, ip: '203.0.113.9' }, () =>
      recorder.record(manager, { ...input, actor: { type: 'system', id: 'reconciler' } }),
    );
    expect(subjects.rows).toHaveLength(0);
    expect(appended[0].details.personalDataRef).toBeUndefined();
  });

  it('refuses malformed input before writing anything', async () => {
    const inContext = (extra: object) =>
      AuditContext.run({ actor: operator }, () => recorder.record(manager, { ...input, ...extra }));
    await expect(inContext({ details: { subjects: [] } })).rejects.toMatchObject({
      code: 'invalid_audit_entry',
    });
    await expect(inContext({ action: '' })).rejects.toMatchObject({ code: 'invalid_audit_entry' });
    await expect(
      inContext({
        action: '',
        personal: [{ identifier: 'email:x@y.example', data: { email: 'x@y.example' } }],
      }),
    ).rejects.toMatchObject({ code: 'invalid_audit_entry' });
    await expect(inContext({ personal: [{ identifier: '', data: {} }] })).rejects.toMatchObject({
      code: 'invalid_audit_entry',
    });
    expect(appended).toHaveLength(0);
    expect(subjects.rows).toHaveLength(0);
  });

  it('refuses a pseudonym set by the caller: subjects, personalDataRef and onBehalfOf are its own', async () => {
    const claimed = { type: 'system', id: 'cli', onBehalfOf: '9999' };
    const refusals = [
      () => recorder.record(manager, { ...input, actor: claimed }),
      () => AuditContext.run({ actor: claimed }, () => recorder.record(manager, input)),
      () => recorder.recordAlone({ ...input, actor: claimed }),
      () =>
        AuditContext.run({ actor: operator }, () =>
          recorder.record(manager, { ...input, details: { subjects: ['1'] } }),
        ),
      () =>
        AuditContext.run({ actor: operator }, () =>
          recorder.recordAlone({ ...input, details: { personalDataRef: 'x' } }),
        ),
    ];
    for (const refused of refusals) {
      await expect(refused()).rejects.toMatchObject({
        code: 'invalid_audit_entry',
        detail: expect.stringMatching(/(actor\.onBehalfOf|details\.\w+) is written by the recorder/),
      });
    }
    expect([appended.length, appendedAlone.length, subjects.rows.length, transactions]).toEqual([0, 0, 0, 0]);
  });

  it('counts what it recorded in the audit context, for the edge to check', async () => {
    const scope = new AuditScope({ actor: operator });
    await scope.run(async () => {
      await recorder.record(manager, input);
      await recorder.record(manager, input);
    });
    expect(scope.recorded).toBe(2);
  });
  describe('recordAlone (an entry that accompanies no change)', () => {
    it('appends an entry without personal data as one statement, outside any transaction', async () => {
      await AuditContext.run({ actor: operator, requestId: 'req-alone-1' }, () =>
        recorder.recordAlone({ ...input, outcome: 'failure', details: { error: 'tenant_not_found' } }),
      );
      expect(transactions).toBe(0);
      expect(appended).toHaveLength(0);
      expect(appendedAlone).toEqual([
        expect.objectContaining({ actor: operator, requestId: 'req-alone-1', outcome: 'failure' }),
      ]);
      expect(appendedAlone[0].details).toEqual({ error: 'tenant_not_found' });
    });

    it('puts the side-table rows of people already known into the entry’s own statement', async () => {
      subjects.subjects.set('operator:4242', '9100');
      await AuditContext.run({ actor: operator, ip: '192.0.2.7', userAgent: 'curl/8' }, () =>
        recorder.recordAlone(input),
      );
      expect([transactions, appended.length, appendedAlone.length]).toEqual([0, 0, 1]);
      expect(sealedAlone).toEqual([
        {
          ref: appendedAlone[0].details.personalDataRef,
          position: 0,
          subjectId: '9100',
          kind: 'connection',
          ciphertext: JSON.stringify({ ip: '192.0.2.7', userAgent: 'curl/8' }),
        },
      ]);
      expect(subjects.rows).toEqual([]);
    });

    it('writes a new person’s subject, their rows and the entry in one transaction', async () => {
      await AuditContext.run({ actor: operator, ip: '192.0.2.7', userAgent: 'curl/8' }, () =>
        recorder.recordAlone(input),
      );
      expect(transactions).toBe(1);
      expect(appendedAlone).toHaveLength(0);
      expect(appended).toHaveLength(1);
      expect(subjects.rows).toEqual([
        expect.objectContaining({ kind: 'connection', data: { ip: '192.0.2.7', userAgent: 'curl/8' } }),
      ]);
      expect(appended[0].details.personalDataRef).toBe(subjects.rows[0].ref);
    });

    it('refuses a malformed entry before writing anything', async () => {
      await expect(
        AuditContext.run({ actor: operator, ip: '192.0.2.7' }, () =>
          recorder.recordAlone({ ...input, action: '' }),
        ),
      ).rejects.toMatchObject({ code: 'invalid_audit_entry' });
      expect([appended.length, appendedAlone.length, subjects.rows.length, transactions]).toEqual([
        0, 0, 0, 0,
      ]);
    });
  });
});
