import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  AuditContext,
  AuditOwnerConnection,
  AuditSequencer,
  benchEntryInput,
  ComplianceError,
  DatabaseAuditStore,
  InMemoryAuditLog,
  RotateAuditKey,
  systemAuditContext,
  verifyAuditBundle,
  type AuditExportRequest,
  type KeyRotationRecord,
  type UnsequencedAuditEntry,
} from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';

const ORIGIN = 'audit.townhall.test/log';
const START = Date.UTC(2025, 0, 1);
/** Two of the 37 tenants the synthetic entries spread over (every tenth entry is platform-wide). */
const TENANT_A = '100000000000001';
const TENANT_B = '100000000000002';

/**
 * The i-th test entry: the benchmark's synthetic entries, every hundredth with details that reach the
 * corners of canonical JSON (non-ASCII, an escaped NUL, a fraction, member names that sort as numbers).
 */
function entryInput(i: number): UnsequencedAuditEntry {
  const input = benchEntryInput(i, START);
  if (i % 100 !== 7) return input;
  return { ...input, details: { note: 'Überprüfung – € 😀\u0000', ratio: 1.5, '10': 1, '9': [true, null] } };
}

interface AuditLogContext {
  config: TownhallConfig;
  app: INestApplicationContext;
  store: DatabaseAuditStore;
  sequencer: AuditSequencer;
  /** The application's pool (the application role). */
  ds: DataSource;
  /** The audit log's writer pool (the owner). */
  owner: DataSource;
}

/** The platform runtime on a fresh, migrated test database, with the audit log's settings in `env`. */
async function openAuditLog(
  env: Record<string, string>,
): Promise<AuditLogContext & { drop: () => Promise<void> }> {
  const { config, drop } = await createTestDatabase({
    TOWNHALL_WORKERS: 'false',
    TOWNHALL_AUDIT_ORIGIN: ORIGIN,
    TOWNHALL_AUDIT_CHECKPOINT_ENTRIES: '100',
    TOWNHALL_AUDIT_CHECKPOINT_SECONDS: '3600',
    ...env,
  });
  await preparePlatform(config, { migrate: true });
  return { ...(await startContext(config)), drop };
}

/**
 * A fresh audit log for the describe block this is called in: opened before the block's tests (the
 * returned object is filled in by then), closed and its database dropped after them.
 */
function auditLogForBlock(env: Record<string, string> = {}): AuditLogContext {
  const log = {} as AuditLogContext;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const { drop: dropDatabase, ...opened } = await openAuditLog(env);
    drop = dropDatabase;
    Object.assign(log, opened);
  });
  afterAll(async () => {
    await log.app?.close();
    await drop?.();
  });
  return log;
}

/** Another process on the same database: its own pool, store and sequencer. */
async function startContext(config: TownhallConfig): Promise<AuditLogContext> {
  const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config)] }).compile();
  const app = await moduleRef.init();
  return {
    config,
    app,
    store: app.get(DatabaseAuditStore),
    sequencer: app.get(AuditSequencer),
    ds: app.get(DataSource),
    owner: await app.get(AuditOwnerConnection).dataSource(),
  };
}

async function appendAll(log: AuditLogContext, entries: readonly UnsequencedAuditEntry[]): Promise<void> {
  await log.ds.transaction(async (m) => {
    for (const entry of entries) await log.store.append(m, entry);
  });
}

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

async function count(ds: DataSource, sql: string): Promise<number> {
  const [{ n }] = (await ds.query(`SELECT (${sql})::int AS n`)) as { n: number }[];
  return n;
}

const inputs = (from: number, to: number): UnsequencedAuditEntry[] =>
  Array.from({ length: to - from }, (_, i) => entryInput(from + i));

/** The size of the newest checkpoint, after signing one for whatever is pending (0 for an empty log). */
async function signedSize(log: AuditLogContext): Promise<number> {
  return (await log.store.checkpointNow())?.treeSize ?? 0;
}

/**
 * Grows the log to at least `size` entries, all under a checkpoint, and returns its size: a test that
 * starts from a given tree makes it, so it passes alone as well as after the tests before it.
 */
async function growTo(log: AuditLogContext, size: number): Promise<number> {
  const have = await signedSize(log);
  if (have >= size) return have;
  await appendAll(log, inputs(have, size));
  return signedSize(log);
}

describe('appending to the database audit log (real PostgreSQL)', () => {
  const log = auditLogForBlock();

  it('refuses to export a log without a checkpoint, saying how to get one', async () => {
    await expect(collect(log.store.exportBundle({}))).rejects.toMatchObject({
      code: 'invalid_bundle_request',
      detail: expect.stringMatching(/no checkpoint yet.*townhall audit checkpoint/),
    });
  });

  it('appends only inside the caller’s transaction, and refuses a malformed entry writing nothing', async () => {
    await expect(log.store.append(log.ds.manager, entryInput(0))).rejects.toThrow(/inside a transaction/);
    const malformed: unknown[] = [
      { ...entryInput(0), outcome: 'maybe' },
      { ...entryInput(0), seq: 5 },
      { ...entryInput(0), actor: { type: 'operator' } },
      { ...entryInput(0), details: { ratio: NaN } },
      { ...entryInput(0), extra: true },
    ];
    for (const entry of malformed) {
      await expect(
        log.ds.transaction((m) => log.store.append(m, entry as UnsequencedAuditEntry)),
      ).rejects.toMatchObject({ code: 'invalid_audit_entry' });
      await expect(log.store.appendAlone(entry as UnsequencedAuditEntry)).rejects.toMatchObject({
        code: 'invalid_audit_entry',
      });
    }
    expect(await count(log.owner, `SELECT count(*) FROM platform.audit_pending`)).toBe(0);
    expect(await log.store.checkpointNow()).toBeNull();
  });

  it('commits an entry appended on its own by the time appendAlone returns', async () => {
    const pending = `SELECT count(*) FROM platform.audit_pending WHERE entry LIKE '%req-alone-check%'`;
    await log.store.appendAlone({ ...entryInput(0), requestId: 'req-alone-check' });
    // Seen from another login's connection at once: committed, not waiting in an open transaction.
    expect(await count(log.owner, pending)).toBe(1);
    await log.owner.query(`DELETE FROM platform.audit_pending WHERE entry LIKE '%req-alone-check%'`);
  });

  it('leaves no entry for a rolled-back transaction, and sequences the committed ones in order', async () => {
    // Entries 1 and 38 concern tenant A, 2 and 39 tenant B, 0 the whole platform.
    await appendAll(log, [entryInput(0), entryInput(1), entryInput(38)]);
    await expect(
      log.ds.transaction(async (m) => {
        await log.store.append(m, entryInput(99));
        await log.store.append(m, entryInput(98));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await appendAll(log, [entryInput(2), entryInput(39)]);
    const checkpoint = await log.store.checkpointNow();
    expect(checkpoint).toMatchObject({ origin: ORIGIN, treeSize: 5 });
    const rows = (await log.ds.query(
      `SELECT seq::int, tenant_id, tenant_seq::int, action, entry FROM platform.audit_entries ORDER BY seq`,
    )) as { seq: number; tenant_id: string | null; tenant_seq: number | null; entry: string }[];
    expect(rows.map((r) => JSON.parse(r.entry).requestId)).toEqual(
      [0, 1, 38, 2, 39].map((i) => entryInput(i).requestId),
    );
    expect(rows.map((r) => [r.seq, r.tenant_id, r.tenant_seq])).toEqual([
      [0, null, null],
      [1, TENANT_A, 0],
      [2, TENANT_A, 1],
      [3, TENANT_B, 0],
      [4, TENANT_B, 1],
    ]);
    expect(await count(log.owner, `SELECT count(*) FROM platform.audit_pending`)).toBe(0);
  });

  it('signs a checkpoint every N entries while sequencing, and on demand for the rest', async () => {
    const start = await growTo(log, 5);
    await appendAll(log, inputs(start, start + 250));
    expect(await log.sequencer.run()).toBe(250);
    const after = (from: number) =>
      log.store.listCheckpoints({ after: from, limit: 10 }).then((cps) => cps.map((cp) => cp.treeSize));
    expect(await after(start - 1)).toEqual([start, start + 100, start + 200]);
    const last = await log.store.checkpointNow();
    expect(last?.treeSize).toBe(start + 250);
    // Nothing new: the newest checkpoint comes back, nothing is signed twice.
    expect(await log.store.checkpointNow()).toEqual(last);
    expect(await after(start + 100)).toEqual([start + 200, start + 250]);
    const keys = await log.store.keys();
    const result = await verifyAuditBundle(await collect(log.store.exportBundle({})), { keys });
    expect(result).toMatchObject({ ok: true, summary: { entries: start + 250 } });
  });

  it('rotates the signing key as an audited action, and not without an actor', async () => {
    const start = await growTo(log, 5);
    const before = (await log.store.keys()).at(-1)!;
    await expect(log.app.get(RotateAuditKey).run()).rejects.toThrow(/has no actor/);
    expect((await log.store.keys()).at(-1)).toEqual(before);
    const { key, rotation } = await AuditContext.run(systemAuditContext('key-ceremony'), () =>
      log.app.get(RotateAuditKey).run(),
    );
    expect(rotation).toMatchObject({ previousKeyId: before.keyId, key });
    expect((await log.store.keys()).slice(-2)).toEqual([{ ...before, validTo: key.validFrom }, key]);
    // The retired key's private half is gone: a copy of the database can no longer sign with it.
    expect(
      await log.owner.query(
        `SELECT key_id AS "keyId" FROM platform.audit_signing_keys WHERE private_key_sealed IS NOT NULL`,
      ),
    ).toEqual([{ keyId: key.keyId }]);
    await expect(log.ds.manager.transaction(async () => log.store.rotateKey(log.ds.manager))).rejects.toThrow(
      /inside a transaction/,
    );
    // The application's own pool may not change the keys.
    await expect(log.ds.transaction((m) => log.store.rotateKey(m))).rejects.toThrow(/audit owner connection/);
    const newest = await log.store.checkpointNow();
    expect(newest).toMatchObject({ treeSize: start + 1, keyId: key.keyId });
    const [row] = (await log.ds.query(`SELECT entry FROM platform.audit_entries WHERE seq = $1`, [
      start,
    ])) as { entry: string }[];
    expect(JSON.parse(row.entry)).toMatchObject({
      action: 'audit.key.rotate',
      actor: { type: 'system', id: 'key-ceremony' },
      target: { type: 'audit_signing_key', id: key.keyId },
      details: { previousKeyId: before.keyId, validFrom: key.validFrom },
      outcome: 'success',
    });
    const bundle = await collect(log.store.exportBundle({ from: start - 1 }));
    expect(bundle).toContain('"type":"key_rotation"');
    expect(await verifyAuditBundle(bundle, before.publicKeyPem)).toMatchObject({ ok: true });
  });

  it('records a pending row written past `append` as rejected instead of dropping it', async () => {
    const start = await signedSize(log);
    const owner = new Client({ connectionString: withDefaultUser(log.config.database.url) });
    await owner.connect();
    try {
      // Valid but for the member given twice: JSON.parse would keep the second action.
      const twice = JSON.stringify(entryInput(9000)).replace('{', '{"action":"tenant.delete",');
      await owner.query(
        `INSERT INTO platform.audit_pending (entry) VALUES ('{"action":"made.up"}'), ('not json'), ($1)`,
        [twice],
      );
    } finally {
      await owner.end();
    }
    expect(await log.store.checkpointNow()).toMatchObject({ treeSize: start + 3 });
    const rows = (await log.ds.query(
      `SELECT entry FROM platform.audit_entries WHERE seq >= $1 ORDER BY seq`,
      [start],
    )) as { entry: string }[];
    expect(rows.map((r) => JSON.parse(r.entry))).toEqual([
      expect.objectContaining({
        action: 'audit.pending_rejected',
        actor: { type: 'system', id: 'audit-sequencer' },
        outcome: 'failure',
        details: { problem: 'time must be RFC 3339 UTC with milliseconds' },
      }),
      expect.objectContaining({ action: 'audit.pending_rejected', details: { problem: 'not JSON' } }),
      expect.objectContaining({
        action: 'audit.pending_rejected',
        details: { problem: 'not the canonical JSON append writes' },
      }),
    ]);
  });

  it('signs nothing with a key nobody vouched for once every key is retired, until an operator rotates', async () => {
    const start = await growTo(log, 1);
    const before = await log.store.keys();
    await log.owner.query(
      `UPDATE platform.audit_signing_keys SET valid_to = now(), private_key_sealed = NULL WHERE valid_to IS NULL`,
    );
    await appendAll(log, inputs(300, 302));
    await expect(log.store.checkpointNow()).rejects.toThrow(
      /no current signing key, only retired ones: an operator must rotate the key/,
    );
    expect((await log.store.keys()).map((k) => k.keyId)).toEqual(before.map((k) => k.keyId));
    expect(await count(log.owner, `SELECT count(*) FROM platform.audit_pending`)).toBe(2);

    const { key } = await AuditContext.run(systemAuditContext('key-ceremony'), () =>
      log.app.get(RotateAuditKey).run(),
    );
    expect(await log.store.checkpointNow()).toMatchObject({ treeSize: start + 3, keyId: key.keyId });
  });
});

describe('concurrent appends to the database audit log (real PostgreSQL)', () => {
  const WRITERS = 8;
  const PER_WRITER = 250;
  let a: AuditLogContext;
  let b: AuditLogContext;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ drop, ...a } = await openAuditLog({}));
    b = await startContext(a.config);
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await drop?.();
  });

  it('yields a gapless sequence that verifies, from many connections, both append paths and two racing sequencers', async () => {
    let writing = true;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      const via = w % 2 === 0 ? a : b;
      for (let i = 0; i < PER_WRITER; i++) {
        const entry = entryInput(w * PER_WRITER + i);
        // Half the writers append in transactions of their own, half as single statements.
        if (w % 4 < 2) await via.ds.transaction((m) => via.store.append(m, entry));
        else await via.store.appendAlone(entry);
      }
    });
    const sequenced = [0, 0];
    const sequencers = (async () => {
      while (writing) {
        const [x, y] = await Promise.all([a.sequencer.run(), b.sequencer.run()]);
        sequenced[0] += x;
        sequenced[1] += y;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all(writers);
    writing = false;
    await sequencers;
    expect(sequenced[0] + sequenced[1]).toBeGreaterThan(0);

    const total = WRITERS * PER_WRITER;
    expect((await a.store.checkpointNow())?.treeSize).toBe(total);
    const [range] = (await a.ds.query(
      `SELECT count(*)::int AS n, min(seq)::int AS min, max(seq)::int AS max FROM platform.audit_entries`,
    )) as { n: number; min: number; max: number }[];
    expect(range).toEqual({ n: total, min: 0, max: total - 1 });
    // Each request id once: nothing lost, nothing sequenced twice.
    expect(
      await count(
        a.ds,
        `SELECT count(DISTINCT substring(entry FROM '"requestId":"([^"]+)"')) FROM platform.audit_entries`,
      ),
    ).toBe(total);
    // tenantSeq is gapless per tenant as well.
    const tenants = (await a.ds.query(
      `SELECT tenant_id, count(*)::int AS n, max(tenant_seq)::int AS max, count(DISTINCT tenant_seq)::int AS distinct
         FROM platform.audit_entries WHERE tenant_id IS NOT NULL GROUP BY tenant_id`,
    )) as { n: number; max: number; distinct: number }[];
    expect(tenants).toHaveLength(37);
    for (const t of tenants) expect([t.max, t.distinct]).toEqual([t.n - 1, t.n]);
    // A checkpoint exactly every N entries, whichever process signed it.
    const sizes = (await a.store.listCheckpoints({ limit: 100 })).map((cp) => cp.treeSize);
    expect(sizes).toEqual(Array.from({ length: total / 100 }, (_, i) => (i + 1) * 100));
    // Both processes signed with the one key the first of them generated.
    const keys = await b.store.keys();
    expect(keys).toHaveLength(1);

    const bundle = await collect(b.store.exportBundle({}));
    expect(await verifyAuditBundle(bundle, { keys })).toMatchObject({
      ok: true,
      summary: { entries: total },
    });
    const tenantView = await collect(a.store.exportBundle({ tenant: TENANT_B, since: 700 }));
    expect(await verifyAuditBundle(tenantView, { keys })).toMatchObject({ ok: true });
  }, 120_000);

  it('lets entries appended on their own at the same moment share statements (group commit)', async () => {
    const size = (await a.store.newestCheckpoint())?.treeSize ?? 0;
    const before = a.store.appendAloneStats();
    await Promise.all(inputs(5000, 5040).map((entry) => a.store.appendAlone(entry)));
    const after = a.store.appendAloneStats();
    expect(after.entries - before.entries).toBe(40);
    expect(after.statements - before.statements).toBeLessThan(20);
    // Every one committed by the time its promise resolved, and sequenced like any other.
    expect(await count(a.owner, `SELECT count(*) FROM platform.audit_pending`)).toBe(40);
    expect((await a.store.checkpointNow())?.treeSize).toBe(size + 40);
    const bundle = await collect(a.store.exportBundle({ since: size }));
    expect(await verifyAuditBundle(bundle, { keys: await a.store.keys() })).toMatchObject({ ok: true });
  });
});

describe('exports of the database audit log (real PostgreSQL)', () => {
  const log = auditLogForBlock();
  const SIZE = 2470;
  const reference = new InMemoryAuditLog(ORIGIN, { tenantSeq: true });
  let rotation: KeyRotationRecord | null;

  beforeAll(async () => {
    // 350 entries, a key rotation, 2,120 more: checkpoints at 100, 200, 300, 350, 450, …, 2350 and 2470.
    // The export reads 2,000 entries per query: longer ranges are read in batches.
    await appendAll(log, inputs(0, 350));
    await log.store.checkpointNow();
    ({ rotation } = await log.owner.transaction((m) => log.store.rotateKey(m)));
    await appendAll(log, inputs(350, SIZE));
    await log.store.checkpointNow();
    // The same content in the reference log: same entries in the same order, same checkpoints.
    for (const entry of inputs(0, SIZE)) reference.append(entry);
    reference.checkpoints.push(...(await log.store.listCheckpoints({ limit: 100 })));
    if (rotation) reference.addRotation(rotation);
  }, 60_000);

  it('has signed checkpoints with the old key before the rotation and the new one after', async () => {
    const checkpoints = await log.store.listCheckpoints({ limit: 100 });
    const after = Array.from({ length: 21 }, (_, i) => 450 + i * 100);
    expect(checkpoints.map((cp) => cp.treeSize)).toEqual([100, 200, 300, 350, ...after, SIZE]);
    const [old, current] = await log.store.keys();
    expect(rotation).toMatchObject({ previousKeyId: old.keyId, key: { ...current, validTo: null } });
    expect(old.validTo).toBe(rotation?.time);
    expect(current).toMatchObject({ validFrom: rotation?.time, validTo: null });
    expect(checkpoints.map((cp) => cp.keyId)).toEqual([
      ...Array(4).fill(old.keyId),
      ...Array(22).fill(current.keyId),
    ]);
    expect(checkpoints[3].time < (rotation?.time ?? '')).toBe(true);
  });

  const requests: [string, Omit<AuditExportRequest, 'generatedAt'>][] = [
    ['everything', {}],
    ['one tenant', { tenant: TENANT_A }],
    ['some actions', { actions: ['account.suspend', 'report.resolve'] }],
    ['a tenant and an action', { tenant: TENANT_B, actions: ['domain_block.create'] }],
    // More matching entries than one read returns (2,000), with the key rotation's entry omitted.
    [
      'two batches of matching entries',
      {
        actions: [
          'status.delete',
          'account.suspend',
          'report.resolve',
          'tenant.update',
          'domain_block.create',
        ],
      },
    ],
    ['a range between checkpoints', { from: 120, to: 333 }],
    ['a range before the first checkpoint', { from: 0, to: 50 }],
    ['a range ending at the newest checkpoint', { from: 2420, to: SIZE }],
    // Batches start at `from`: here the second begins at 2050, right where a checkpoint goes.
    ['a checkpoint between two export batches', { from: 50, to: SIZE }],
    ['two export batches of a tenant', { from: 450, to: SIZE, tenant: TENANT_B }],
    ['a range starting at a checkpoint', { from: 2050, to: 2150, tenant: TENANT_A }],
    ['an empty range', { from: 7, to: 7 }],
    ['everything since an earlier tree', { since: 200 }],
    ['a tenant’s range since an earlier tree', { from: 250, to: 260, since: 100, tenant: TENANT_A }],
    ['a range since the newest tree', { to: 350, since: SIZE }],
  ];

  it.each(requests.filter(([, r]) => r.tenant !== undefined || r.actions !== undefined))(
    'exports %s byte for byte in windows of a few positions too, reading only what it shows',
    async (_, request) => {
      const store = log.store;
      // The store's queries, watched to count the rows an export reads.
      const queries = (
        store as unknown as { repository: { exportMatches: () => unknown; exportLeaves: () => unknown } }
      ).repository;
      const matches = jest.spyOn(queries, 'exportMatches');
      const whole = jest.spyOn(queries, 'exportLeaves');
      store.filteredWindow = 97;
      try {
        const text = await collect(store.exportBundle(request));
        const generatedAt = (JSON.parse(text.slice(0, text.indexOf('\n'))) as { generatedAt: string })
          .generatedAt;
        expect(text).toBe(reference.exportText({ ...request, generatedAt }));
        const shown = text.split('\n').filter((line) => line.startsWith('{"type":"entry"')).length;
        const read = await Promise.all(matches.mock.results.map((r) => r.value as Promise<unknown[]>));
        expect(read.reduce((n, rows) => n + rows.length, 0)).toBe(shown);
        expect(whole).not.toHaveBeenCalled();
      } finally {
        store.filteredWindow = 1_000_000;
        matches.mockRestore();
        whole.mockRestore();
      }
    },
  );

  it.each(requests)('exports %s byte for byte as the in-memory reference log does', async (_, request) => {
    const text = await collect(log.store.exportBundle(request));
    const generatedAt = (JSON.parse(text.slice(0, text.indexOf('\n'))) as { generatedAt: string })
      .generatedAt;
    expect(text).toBe(reference.exportText({ ...request, generatedAt }));
    const keys = await log.store.keys();
    expect(await verifyAuditBundle(text, { keys })).toMatchObject({ ok: true });
  });

  it('verifies across the rotation with only the old key, following the rotation record', async () => {
    const [old] = await log.store.keys();
    const result = await verifyAuditBundle(await collect(log.store.exportBundle({})), old.publicKeyPem);
    expect(result).toMatchObject({ ok: true, summary: { entries: SIZE } });
  });

  it('refuses a range or tree that no checkpoint covers yet, before writing anything', async () => {
    await appendAll(log, inputs(SIZE, SIZE + 5));
    expect(await log.sequencer.run()).toBe(5);
    expect((await log.store.newestCheckpoint())?.treeSize).toBe(SIZE);
    const beyond = [{ to: SIZE + 5 }, { from: SIZE + 1, to: SIZE + 3 }, { since: SIZE + 5 }, { since: -1 }];
    for (const request of beyond) {
      const lines = log.store.exportBundle(request)[Symbol.asyncIterator]();
      await expect(lines.next()).rejects.toEqual(expect.any(ComplianceError));
      await expect(collect(log.store.exportBundle(request))).rejects.toMatchObject({
        code: 'invalid_bundle_request',
      });
    }
  });
});

describe('checkpoints on a timer (real PostgreSQL, sequencer in a worker)', () => {
  const log = auditLogForBlock({
    TOWNHALL_WORKERS: 'true',
    TOWNHALL_AUDIT_CHECKPOINT_SECONDS: '1',
    TOWNHALL_AUDIT_CHECKPOINT_ENTRIES: '1000',
  });

  async function waitForCheckpoint(treeSize: number) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const newest = await log.store.newestCheckpoint();
      if (newest?.treeSize === treeSize) return newest;
      if (Date.now() > deadline)
        throw new Error(`no checkpoint of size ${treeSize}; newest ${newest?.treeSize}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('sequences appends soon and signs a checkpoint T seconds after the last one, far below N entries', async () => {
    await appendAll(log, inputs(0, 3));
    const first = await waitForCheckpoint(3);
    await appendAll(log, inputs(3, 5));
    const deadline = Date.now() + 5000;
    while (
      (await count(log.ds, `SELECT count(*) FROM platform.audit_entries`)) < 5 &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await waitForCheckpoint(5);
    expect(Date.parse(second.time) - Date.parse(first.time)).toBeGreaterThanOrEqual(1000);
    expect(await count(log.owner, `SELECT count(*) FROM platform.audit_pending`)).toBe(0);
  });
});

describe('a bounded sequencer run (real PostgreSQL)', () => {
  const log = auditLogForBlock();

  it('runUntilNow sequences only what was pending when it was asked', async () => {
    // A second sequencer process would find nothing to do while this one held the lock; here the
    // bound itself: entries committed after the call began (ids above the newest pending id it read)
    // are left to the next run.
    await appendAll(log, inputs(0, 5));
    const queries = (
      log.sequencer as unknown as { repository: { newestPendingId: () => Promise<string | null> } }
    ).repository;
    const [{ third }] = (await log.owner.query(
      `SELECT (array_agg(id ORDER BY id))[3]::text AS third FROM platform.audit_pending`,
    )) as { third: string }[];
    const asked = jest.spyOn(queries, 'newestPendingId').mockResolvedValueOnce(third);
    try {
      expect(await log.sequencer.runUntilNow()).toBe(3);
    } finally {
      asked.mockRestore();
    }
    expect(await count(log.owner, `SELECT count(*) FROM platform.audit_pending`)).toBe(2);
    expect(await log.sequencer.runUntilNow()).toBe(2);
    expect(await log.sequencer.runUntilNow()).toBe(0);
  });
});

describe('the audit log’s origin (real PostgreSQL)', () => {
  const log = auditLogForBlock();

  it('refuses to sign under another TOWNHALL_AUDIT_ORIGIN once checkpoints exist, and signs nothing', async () => {
    await appendAll(log, inputs(0, 3));
    expect(await log.store.checkpointNow()).toMatchObject({ origin: ORIGIN, treeSize: 3 });
    const renamed = await startContext({
      ...log.config,
      audit: { ...log.config.audit, origin: 'elsewhere.test/log' },
    });
    try {
      await appendAll(renamed, inputs(3, 5));
      await expect(renamed.store.checkpointNow()).rejects.toThrow(
        /signed as "audit\.townhall\.test\/log".*cannot change/,
      );
      expect(
        await count(log.owner, `SELECT count(*) FROM platform.audit_checkpoints WHERE origin <> '${ORIGIN}'`),
      ).toBe(0);
    } finally {
      await renamed.app.close();
    }
    // The log goes on under its own origin.
    expect(await log.store.checkpointNow()).toMatchObject({ origin: ORIGIN, treeSize: 5 });
  });
});

describe('what the sequencer signs (real PostgreSQL)', () => {
  const log = auditLogForBlock();

  async function asSuperuser<T>(work: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: withDefaultUser(log.config.database.url) });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  it('dates a checkpoint no earlier than the entries it covers, whatever the clock of their appender', async () => {
    await appendAll(log, inputs(0, 99));
    const ahead = new Date(Date.now() + 3600_000).toISOString();
    await log.ds.transaction((m) => log.store.append(m, { ...entryInput(99), time: ahead }));
    const checkpoint = await log.store.checkpointNow();
    expect(checkpoint).toMatchObject({ treeSize: 100, time: ahead });
    const keys = { keys: await log.store.keys() };
    expect(await verifyAuditBundle(await collect(log.store.exportBundle({})), keys)).toMatchObject({
      ok: true,
    });
  });

  it('halts instead of signing a fork when the stored tree was changed behind its back', async () => {
    // A tree of exactly 100 entries (the test before leaves one), whose first 64 leaves make a subtree.
    expect(await growTo(log, 100)).toBe(100);
    // Someone with the database's superuser changes a stored subtree the next root is built on.
    const [{ hash }] = (await log.owner.query(
      `SELECT hash FROM platform.audit_nodes WHERE level = 6 AND index = 0`,
    )) as { hash: Buffer }[];
    const setNode = (value: Buffer) =>
      asSuperuser(async (c) => {
        await c.query(`SET session_replication_role = replica`);
        await c.query(`UPDATE platform.audit_nodes SET hash = $1 WHERE level = 6 AND index = 0`, [value]);
      });
    await setNode(Buffer.alloc(32, 0xab));
    await appendAll(log, inputs(100, 105));
    await expect(log.store.checkpointNow()).rejects.toThrow(
      /stored hashes do not extend its newest signed checkpoint \(tree size 100, .*Refusing to sign a fork/,
    );
    expect((await log.store.newestCheckpoint())?.treeSize).toBe(100);
    expect(await count(log.owner, `SELECT count(*) FROM platform.audit_pending`)).toBe(5);
    expect(await count(log.owner, `SELECT count(*) FROM platform.audit_entries`)).toBe(100);

    // Restored, the log goes on where it stopped.
    await setNode(hash);
    expect(await log.store.checkpointNow()).toMatchObject({ treeSize: 105 });
    const keys = { keys: await log.store.keys() };
    expect(await verifyAuditBundle(await collect(log.store.exportBundle({})), keys)).toMatchObject({
      ok: true,
    });
  });
});
