import type { EntityManager } from 'typeorm';
import { fakeAuditStack, type FakeAuditStack } from '@townhall/compliance/testing';
import { auditEntryProblem } from '../audit-entry';
import type { SealedPersonalData, UnsequencedAuditEntry } from '../audit-ports';
import { AuditContext, AuditScope } from './audit-context';
import { DatabaseAuditRecorder, MissingAuditActorError } from './database-audit-recorder';

/** The recorder on the in-memory audit store and side table that pass the real ones' contracts. */
describe('DatabaseAuditRecorder', () => {
  let stack: FakeAuditStack;
  let recorder: DatabaseAuditRecorder;
  /** The manager of the caller's transaction in the last `record`. */
  let callersManager: EntityManager | undefined;

  beforeEach(() => {
    stack = fakeAuditStack();
    recorder = stack.recorder;
    jest.spyOn(stack.store, 'append');
  });

  /** Records `input` in a transaction of the caller's, as a use case does. */
  const record = (input: Parameters<DatabaseAuditRecorder['record']>[1]): Promise<void> =>
    stack.dataSource.transaction((m) => {
      callersManager = m;
      return recorder.record(m, input);
    });

  /** Entries committed with a caller's transaction, and on their own. */
  const appendedIn = (alone: boolean): UnsequencedAuditEntry[] =>
    stack.store.appended.filter((a) => a.alone === alone).map((a) => a.entry);
  const appended = () => appendedIn(false);
  const appendedAlone = () => appendedIn(true);

  /** The side-table rows that came with entries of either kind, opened. */
  const rowsOf = (alone: boolean) =>
    stack.store.appended
      .filter((a) => a.alone === alone)
      .flatMap((a) => a.personal)
      .map((row: SealedPersonalData) => ({
        ref: row.ref,
        position: row.position,
        subject: row.subjectId,
        kind: row.kind,
        data: stack.subjects.open(row),
      }));
  const rows = () => rowsOf(false);
  const subjectOf = (identifier: string) => stack.subjects.subjectOf(identifier);

  const operator = { type: 'operator', id: '4242', via: 'token:17' };
  const input = {
    action: 'tenant.create',
    target: { type: 'tenant', id: '1001' },
    tenant: '1001',
    outcome: 'success' as const,
    details: { slug: 'bmi' },
  };

  it('takes the actor and request id from the audit context and stamps the time', async () => {
    await AuditContext.run({ actor: operator, requestId: 'req-12345678' }, () => record(input));
    expect(appended()).toHaveLength(1);
    const [entry] = appended();
    expect(entry).toMatchObject({ actor: operator, requestId: 'req-12345678', action: 'tenant.create' });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(entry.time) - Date.now())).toBeLessThan(5000);
    expect(auditEntryProblem({ ...entry, seq: 0 })).toBeNull();
    expect(entry.details).toEqual({ slug: 'bmi' }); // nothing personal: no side-table reference
    // In the caller's transaction, nothing else.
    expect(jest.mocked(stack.store.append).mock.calls.map(([m]) => m === callersManager)).toEqual([true]);
  });

  it('keeps free text the actor wrote out of the entry, under the acting person’s subject', async () => {
    const cli = {
      actor: { type: 'system', id: 'cli' },
      person: { identifier: 'os-user:ops@host', data: {} },
    };
    await AuditContext.run({ actor: operator, ip: '192.0.2.1' }, () =>
      record({ ...input, authored: { reason: 'as asked by Jane Doe' } }),
    );
    await AuditContext.run(cli, () => record({ ...input, authored: { reason: 'x' } }));
    const [http, command] = appended();
    expect(JSON.stringify(appended())).not.toContain('Jane');
    const operatorSubject = subjectOf('operator:4242');
    expect(http.details.subjects).toEqual([operatorSubject]);
    expect(command.details.subjects).toEqual([subjectOf('os-user:ops@host')]);
    expect(rows().filter((r) => r.ref === http.details.personalDataRef)).toEqual([
      expect.objectContaining({ kind: 'mentioned', data: { reason: 'as asked by Jane Doe' } }),
      expect.objectContaining({ kind: 'connection', subject: operatorSubject }),
    ]);
    await expect(
      AuditContext.run({ actor: operator }, () =>
        record({ ...input, authored: { reason: 'x'.repeat(2049) } }),
      ),
    ).rejects.toMatchObject({ code: 'invalid_audit_entry' });
  });

  it('refuses to record without an actor, writing nothing', async () => {
    await expect(record(input)).rejects.toBeInstanceOf(MissingAuditActorError);
    expect(appended()).toHaveLength(0);
  });

  it('prefers an explicit actor, and gives an entry outside any request a random request id', async () => {
    await record({ ...input, actor: { type: 'system', id: 'reconciler' } });
    await record({ ...input, actor: { type: 'system', id: 'reconciler' } });
    expect(appended()[0].actor).toEqual({ type: 'system', id: 'reconciler' });
    expect(appended()[0].requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(appended()[1].requestId).not.toBe(appended()[0].requestId);
  });

  it('moves the people an entry mentions and the connection data into the side table', async () => {
    await AuditContext.run(
      { actor: operator, requestId: 'req-12345678', ip: '203.0.113.9', userAgent: 'curl/8.5' },
      () =>
        record({
          ...input,
          personal: [{ identifier: 'email:press@bmi.example', data: { email: 'press@bmi.example' } }],
        }),
    );
    const [entry] = appended();
    const text = JSON.stringify(entry);
    for (const secret of ['press@bmi.example', '203.0.113.9', 'curl']) expect(text).not.toContain(secret);
    const owner = subjectOf('email:press@bmi.example')!;
    expect(entry.details.subjects).toEqual([owner]);
    const ref = entry.details.personalDataRef as string;
    expect(ref).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows()).toEqual([
      { ref, position: 0, subject: owner, kind: 'mentioned', data: { email: 'press@bmi.example' } },
      {
        ref,
        position: 1,
        subject: subjectOf('operator:4242'),
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
      () => record(input),
    );
    const alice = subjectOf('os-user:alice@ops-1')!;
    expect(appended()[0].actor).toEqual({ type: 'system', id: 'cli', onBehalfOf: alice });
    expect(JSON.stringify(appended()[0])).not.toContain('alice');
    expect(rows()).toEqual([
      expect.objectContaining({ subject: alice, kind: 'behalf', data: { osUser: 'alice', host: 'ops-1' } }),
    ]);
  });

  it('does not file the context’s connection data under a different actor passed in', async () => {
    await AuditContext.run({ actor: operator, ip: '203.0.113.9' }, () =>
      record({ ...input, actor: { type: 'system', id: 'reconciler' } }),
    );
    expect(rows()).toHaveLength(0);
    expect(appended()[0].details.personalDataRef).toBeUndefined();
  });

  it('refuses malformed input before writing anything', async () => {
    const inContext = (extra: object) =>
      AuditContext.run({ actor: operator }, () => record({ ...input, ...extra }));
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
    expect(appended()).toHaveLength(0);
    expect(rows()).toHaveLength(0);
  });

  it('refuses a pseudonym set by the caller: subjects, personalDataRef and onBehalfOf are its own', async () => {
    const claimed = { type: 'system', id: 'cli', onBehalfOf: '9999' };
    const refusals = [
      () => record({ ...input, actor: claimed }),
      () => AuditContext.run({ actor: claimed }, () => record(input)),
      () => recorder.recordAlone({ ...input, actor: claimed }),
      () => AuditContext.run({ actor: operator }, () => record({ ...input, details: { subjects: ['1'] } })),
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
    expect([appended().length, appendedAlone().length, rows().length]).toEqual([0, 0, 0]);
  });

  it('counts what it recorded in the audit context, for the edge to check', async () => {
    const scope = new AuditScope({ actor: operator });
    await scope.run(async () => {
      await record(input);
      await record(input);
    });
    expect(scope.recorded).toBe(2);
  });
  describe('recordAlone (an entry that accompanies no change)', () => {
    it('appends an entry without personal data as one statement, outside any transaction', async () => {
      await AuditContext.run({ actor: operator, requestId: 'req-alone-1' }, () =>
        recorder.recordAlone({ ...input, outcome: 'failure', details: { error: 'tenant_not_found' } }),
      );
      expect(stack.dataSource.transactions).toBe(0);
      expect(appended()).toHaveLength(0);
      expect(appendedAlone()).toEqual([
        expect.objectContaining({ actor: operator, requestId: 'req-alone-1', outcome: 'failure' }),
      ]);
      expect(appendedAlone()[0].details).toEqual({ error: 'tenant_not_found' });
    });

    it('puts the side-table rows of people already known into the entry’s own statement', async () => {
      const known = await stack.dataSource.transaction((m) => stack.subjects.subjectFor(m, 'operator:4242'));
      const before = stack.dataSource.transactions;
      await AuditContext.run({ actor: operator, ip: '192.0.2.7', userAgent: 'curl/8' }, () =>
        recorder.recordAlone(input),
      );
      expect([stack.dataSource.transactions - before, appended().length, appendedAlone().length]).toEqual([
        0, 0, 1,
      ]);
      expect(rowsOf(true)).toEqual([
        {
          ref: appendedAlone()[0].details.personalDataRef,
          position: 0,
          subject: known.id,
          kind: 'connection',
          data: { ip: '192.0.2.7', userAgent: 'curl/8' },
        },
      ]);
      expect(rows()).toEqual([]);
    });

    it('writes a new person’s subject, their rows and the entry in one transaction', async () => {
      await AuditContext.run({ actor: operator, ip: '192.0.2.7', userAgent: 'curl/8' }, () =>
        recorder.recordAlone(input),
      );
      expect(stack.dataSource.transactions).toBe(1);
      expect(appendedAlone()).toHaveLength(0);
      expect(appended()).toHaveLength(1);
      expect(rows()).toEqual([
        expect.objectContaining({ kind: 'connection', data: { ip: '192.0.2.7', userAgent: 'curl/8' } }),
      ]);
      expect(appended()[0].details.personalDataRef).toBe(rows()[0].ref);
    });

    it('refuses a malformed entry before writing anything', async () => {
      await expect(
        AuditContext.run({ actor: operator, ip: '192.0.2.7' }, () =>
          recorder.recordAlone({ ...input, action: '' }),
        ),
      ).rejects.toMatchObject({ code: 'invalid_audit_entry' });
      expect([
        appended().length,
        appendedAlone().length,
        rows().length,
        stack.dataSource.transactions,
      ]).toEqual([0, 0, 0, 0]);
    });
  });
});
