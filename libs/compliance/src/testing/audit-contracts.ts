import type { EntityManager } from 'typeorm';
import { CoreError } from '@townhall/core';
import type { AuditStore, UnsequencedAuditEntry } from '../audit-ports';
import { verifyAuditBundle } from '../audit-bundle-verifier';
import { verifyAuditConsistency } from '../audit-consistency';
import { AuditContext, systemAuditContext } from '../recording/audit-context';
import type { AuditedTransactions } from '../recording/audited-transactions';
import type { AuditSubjectStore } from '../recording/audit-subject-store';
import { MissingAuditActorError } from '../recording/database-audit-recorder';
// The whole log as a regulator's export carries it (a checkpoint is signed first).
import { exportedLog as exported } from '../../../../test/support/audit';

/**
 * What the audit log's storage promises its callers, as one suite per port. Each runs against the
 * in-memory fakes unit specs use (fake-audit.spec.ts) and against the real adapters on PostgreSQL
 * (test/integration/audit-contracts.test.ts): a fake that drifts from what it stands for fails here.
 * A harness gives the suite a fresh, empty log and says how to read it back.
 */

/** Runs `work` in a transaction of the implementation under test. */
export type InTransaction = <T>(work: (manager: EntityManager) => Promise<T>) => Promise<T>;

export interface AuditStoreHarness {
  store: AuditStore;
  transaction: InTransaction;
}

let counter = 0;

/** A well-formed entry, told apart from others by its request id. */
function entry(
  tenant: string | null = null,
  extra: Partial<UnsequencedAuditEntry> = {},
): UnsequencedAuditEntry {
  counter += 1;
  return {
    time: new Date().toISOString(),
    tenant,
    actor: { type: 'system', id: 'contract' },
    action: 'contract.test',
    target: { type: 'thing', id: String(counter) },
    outcome: 'success',
    requestId: `contract-${process.pid}-${counter}`,
    details: {},
    ...extra,
  };
}

const requestIds = (entries: { requestId?: string }[]) => entries.map((e) => e.requestId);

export function auditStoreContract(name: string, harness: () => Promise<AuditStoreHarness>): void {
  describe(`AuditStore contract: ${name}`, () => {
    let h: AuditStoreHarness;

    beforeAll(async () => {
      h = await harness();
    });

    it('has no checkpoint and refuses an export while the log is empty', async () => {
      expect(await h.store.checkpointNow()).toBeNull();
      expect(await h.store.newestCheckpoint()).toBeNull();
      const reading = (async () => {
        for await (const line of h.store.exportBundle({})) void line;
      })();
      await expect(reading).rejects.toMatchObject({ code: 'invalid_bundle_request' });
    });

    it('keeps what a committed transaction appended, and nothing of one that rolled back', async () => {
      const kept = [entry('1001'), entry(null), entry('1001')];
      const lost = entry('1001');
      await h.transaction(async (m) => {
        for (const e of kept.slice(0, 2)) await h.store.append(m, e);
      });
      await expect(
        h.transaction(async (m) => {
          await h.store.append(m, lost);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await h.transaction((m) => h.store.append(m, kept[2]));
      const { entries } = await exported(h.store);
      expect(requestIds(entries)).toEqual(requestIds(kept));
      // The log numbers entries: gapless seq, and per tenant a gapless tenantSeq.
      expect(entries.map((e) => [e.seq, e.tenantSeq])).toEqual([
        [0, 0],
        [1, undefined],
        [2, 1],
      ]);
    });

    it('refuses a malformed entry, or one that brings its own seq, writing nothing', async () => {
      const before = (await exported(h.store)).entries.length;
      const malformed: unknown[] = [
        entry(null, { action: '' }),
        { ...entry(), unknown: 1 },
        { ...entry(), seq: 7 },
        { ...entry('1001'), tenantSeq: 0 },
      ];
      for (const bad of malformed) {
        await expect(
          h.transaction((m) => h.store.append(m, bad as UnsequencedAuditEntry)),
        ).rejects.toMatchObject({ code: 'invalid_audit_entry' });
        await expect(h.store.appendAlone(bad as UnsequencedAuditEntry)).rejects.toMatchObject({
          code: 'invalid_audit_entry',
        });
      }
      expect((await exported(h.store)).entries).toHaveLength(before);
    });

    it('commits an entry appended on its own by the time appendAlone resolves', async () => {
      const alone = entry('1002', { outcome: 'failure', details: { error: 'not_found' } });
      await h.store.appendAlone(alone);
      const { entries } = await exported(h.store);
      expect(entries[entries.length - 1]).toMatchObject({ requestId: alone.requestId, outcome: 'failure' });
    });

    it('signs a checkpoint of everything committed, the same one again while nothing new came', async () => {
      await h.store.appendAlone(entry('1001')); // something committed, also when this test runs alone
      const first = await h.store.checkpointNow();
      const again = await h.store.checkpointNow();
      expect(again).toEqual(first);
      expect(await h.store.newestCheckpoint()).toEqual(first);
      expect(await h.store.listCheckpoints({ after: first!.treeSize - 1, limit: 10 })).toEqual([first]);
      expect(await h.store.listCheckpoints({ after: first!.treeSize, limit: 10 })).toEqual([]);
    });

    it('exports a bundle the offline verifier accepts with the store’s own keys', async () => {
      await h.store.appendAlone(entry('1001')); // something to export, also when this test runs alone
      const { text, entries } = await exported(h.store);
      expect(entries.length).toBeGreaterThan(0);
      expect(await verifyAuditBundle(text, { keys: await h.store.keys() })).toMatchObject({ ok: true });
    });

    it('proves a newer checkpoint consistent with an older one, and knows no checkpoint it has not signed', async () => {
      await h.store.appendAlone(entry('1001')); // an older checkpoint, also when this test runs alone
      const older = (await h.store.checkpointNow())!;
      await h.store.appendAlone(entry('1003'));
      const newer = (await h.store.checkpointNow())!;
      expect(newer.treeSize).toBe(older.treeSize + 1);
      const keys = { keys: await h.store.keys() };
      const proof = await h.store.consistencyProof({ from: older.treeSize });
      expect(proof).toMatchObject({ from: older.treeSize, to: newer.treeSize, checkpoint: newer });
      expect(verifyAuditConsistency(proof, keys, older)).toMatchObject({ ok: true });
      const same = await h.store.consistencyProof({ from: 1, to: older.treeSize });
      expect(same.checkpoint).toEqual(older);
      await expect(h.store.consistencyProof({ from: 1, to: newer.treeSize + 1 })).rejects.toMatchObject({
        code: 'checkpoint_not_found',
      });
      await expect(h.store.consistencyProof({ from: newer.treeSize + 1 })).rejects.toMatchObject({
        code: 'invalid_proof_request',
      });
    });
  });
}

export interface AuditSubjectStoreHarness {
  subjects: Pick<AuditSubjectStore, 'subjectFor' | 'existingSubject' | 'findSubject' | 'seal'>;
  transaction: InTransaction;
  /** A manager outside any transaction. */
  manager: EntityManager;
}

export function auditSubjectStoreContract(
  name: string,
  harness: () => Promise<AuditSubjectStoreHarness>,
): void {
  describe(`AuditSubjectStore contract: ${name}`, () => {
    let h: AuditSubjectStoreHarness;
    const person = (n: string) => `email:person-${process.pid}-${n}@contract.example`;

    beforeAll(async () => {
      h = await harness();
    });

    it('gives one person one subject, with one key, and another person another', async () => {
      const [a, again, b] = await h.transaction(async (m) => [
        await h.subjects.subjectFor(m, person('a')),
        await h.subjects.subjectFor(m, person('a')),
        await h.subjects.subjectFor(m, person('b')),
      ]);
      expect(again.id).toBe(a.id);
      expect(again.key.equals(a.key)).toBe(true);
      expect(a.key).toHaveLength(32);
      expect(b.id).not.toBe(a.id);
      const later = await h.transaction((m) => h.subjects.subjectFor(m, person('a')));
      expect(later.id).toBe(a.id);
      expect(later.key.equals(a.key)).toBe(true);
    });

    it('finds a subject without making one', async () => {
      expect(await h.subjects.existingSubject(h.manager, person('nobody'))).toBeNull();
      expect(await h.subjects.findSubject(h.manager, person('nobody'))).toBeNull();
      const made = await h.transaction((m) => h.subjects.subjectFor(m, person('c')));
      const found = await h.subjects.existingSubject(h.manager, person('c'));
      expect(found?.id).toBe(made.id);
      expect(found?.key.equals(made.key)).toBe(true);
      expect(await h.subjects.findSubject(h.manager, person('c'))).toBe(made.id);
      // Still nobody: looking did not create one.
      expect(await h.subjects.findSubject(h.manager, person('nobody'))).toBeNull();
    });

    it('forgets a subject made in a transaction that rolled back', async () => {
      await expect(
        h.transaction(async (m) => {
          await h.subjects.subjectFor(m, person('d'));
          expect(await h.subjects.findSubject(m, person('d'))).not.toBeNull(); // visible inside it
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await h.subjects.findSubject(h.manager, person('d'))).toBeNull();
    });

    it('seals a row for its place, never in clear', async () => {
      const subject = await h.transaction((m) => h.subjects.subjectFor(m, person('e')));
      const sealed = h.subjects.seal(
        { ref: '6a1c2c9e-7c1b-4d8e-9a51-3b2f0e6d9c11', position: 2, subject, kind: 'connection' },
        { ip: '203.0.113.77', userAgent: 'contract-agent/1.0' },
      );
      expect(sealed).toMatchObject({
        ref: '6a1c2c9e-7c1b-4d8e-9a51-3b2f0e6d9c11',
        position: 2,
        subjectId: subject.id,
        kind: 'connection',
      });
      for (const clear of ['203.0.113.77', 'contract-agent']) expect(sealed.ciphertext).not.toContain(clear);
    });
  });
}

export interface AuditedTransactionsHarness {
  audited: AuditedTransactions;
  store: AuditStore;
  /** Something a change writes through its manager: there after a commit, gone after a rollback. */
  write(manager: EntityManager, key: string): Promise<void>;
  written(key: string): Promise<boolean>;
}

export function auditedTransactionsContract(
  name: string,
  harness: () => Promise<AuditedTransactionsHarness>,
): void {
  describe(`AuditedTransactions contract: ${name}`, () => {
    let h: AuditedTransactionsHarness;
    const asTest = <T>(work: () => Promise<T>) => AuditContext.run(systemAuditContext('contract'), work);
    const key = (n: string) => `contract-${process.pid}-${n}`;

    /** The entries recorded since `before` entries were there, as action, outcome and details. */
    async function recordedSince(before: number) {
      const { entries } = await exported(h.store);
      return entries.slice(before).map((e) => ({ action: e.action, outcome: e.outcome, details: e.details }));
    }
    const count = async () => (await exported(h.store)).entries.length;

    beforeAll(async () => {
      h = await harness();
    });

    it('commits a change with its entry and answers with the change’s result', async () => {
      const before = await count();
      const result = await asTest(() =>
        h.audited.run({
          apply: async (m) => {
            await h.write(m, key('kept'));
            return 42;
          },
          recorded: (n) => ({
            action: 'contract.change',
            target: { type: 'thing', id: '1' },
            tenant: null,
            details: { n },
          }),
          refused: () => ({
            action: 'contract.change',
            target: { type: 'thing', id: 'unknown' },
            tenant: null,
          }),
        }),
      );
      expect(result).toBe(42);
      expect(await h.written(key('kept'))).toBe(true);
      expect(await recordedSince(before)).toEqual([
        { action: 'contract.change', outcome: 'success', details: { n: 42 } },
      ]);
    });

    it('records nothing for a change that found nothing to do', async () => {
      const before = await count();
      await asTest(() =>
        h.audited.run({
          apply: () => Promise.resolve('unchanged'),
          recorded: () => null,
          refused: () => ({ action: 'contract.noop', target: { type: 'thing', id: '1' }, tenant: null }),
        }),
      );
      expect(await recordedSince(before)).toEqual([]);
    });

    it('rolls a refused change back, records the refusal with its code, and passes the error on', async () => {
      const before = await count();
      const refusal = new CoreError('not_found', 'There is nothing at this address.');
      await expect(
        asTest(() =>
          h.audited.run({
            apply: async (m) => {
              await h.write(m, key('refused'));
              throw refusal;
            },
            recorded: () => ({
              action: 'contract.refused',
              target: { type: 'thing', id: '1' },
              tenant: null,
            }),
            refused: () => ({
              action: 'contract.refused',
              target: { type: 'thing', id: 'unknown' },
              tenant: null,
              details: { asked: 'x' },
            }),
          }),
        ),
      ).rejects.toBe(refusal);
      expect(await h.written(key('refused'))).toBe(false);
      expect(await recordedSince(before)).toEqual([
        { action: 'contract.refused', outcome: 'failure', details: { asked: 'x', error: 'not_found' } },
      ]);
    });

    it('names an unexpected error only as internal_error', async () => {
      const before = await count();
      await expect(
        asTest(() =>
          h.audited.run({
            apply: () => Promise.reject(new Error('connection to 10.0.0.5 lost while running SELECT secret')),
            recorded: () => null,
            refused: () => ({ action: 'contract.broken', target: { type: 'thing', id: '1' }, tenant: null }),
          }),
        ),
      ).rejects.toThrow('connection to 10.0.0.5 lost');
      const recorded = await recordedSince(before);
      expect(recorded).toEqual([
        { action: 'contract.broken', outcome: 'failure', details: { error: 'internal_error' } },
      ]);
    });

    it('refuses to run a change nobody is named as acting for, changing nothing', async () => {
      const before = await count();
      await expect(
        h.audited.run({
          apply: async (m) => {
            await h.write(m, key('anonymous'));
            return 1;
          },
          recorded: () => ({
            action: 'contract.anonymous',
            target: { type: 'thing', id: '1' },
            tenant: null,
          }),
          refused: () => ({ action: 'contract.anonymous', target: { type: 'thing', id: '1' }, tenant: null }),
        }),
      ).rejects.toBeInstanceOf(MissingAuditActorError);
      expect(await h.written(key('anonymous'))).toBe(false);
      expect(await recordedSince(before)).toEqual([]);
    });
  });
}
