import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import {
  benchEntryInput,
  DatabaseAuditStore,
  InMemoryAuditLog,
  verifyAuditBundle,
  type AuditCheckpoint,
  type AuditExportRequest,
} from '@townhall/compliance';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';

const ORIGIN = 'audit.townhall.test/edges';
const SIZE = 250;
const START = Date.UTC(2025, 0, 1);

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

/**
 * Empty ranges (`from == to`) exported by the database store: at 0, at a checkpoint's size, between
 * checkpoints and at the newest checkpoint, with and without `since`. Each bundle must verify and be
 * byte for byte what the in-memory reference log exports (the same planner, AuditExport).
 */
describe('empty-range exports of the database audit log (real PostgreSQL)', () => {
  let app: INestApplicationContext;
  let store: DatabaseAuditStore;
  let drop: () => Promise<void>;
  const reference = new InMemoryAuditLog(ORIGIN, { tenantSeq: true });
  let checkpoints: AuditCheckpoint[];

  beforeAll(async () => {
    const db = await createTestDatabase({
      TOWNHALL_WORKERS: 'false',
      TOWNHALL_AUDIT_ORIGIN: ORIGIN,
      TOWNHALL_AUDIT_CHECKPOINT_ENTRIES: '100',
      TOWNHALL_AUDIT_CHECKPOINT_SECONDS: '3600',
    });
    drop = db.drop;
    await preparePlatform(db.config, { migrate: true });
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule.forRoot(db.config)],
    }).compile();
    app = await moduleRef.init();
    store = app.get(DatabaseAuditStore);
    const inputs = Array.from({ length: SIZE }, (_, i) => benchEntryInput(i, START));
    await app.get(DataSource).transaction(async (m) => {
      for (const entry of inputs) await store.append(m, entry);
    });
    // Checkpoints at 100 and 200 while sequencing, then one on demand at 250.
    await store.checkpointNow();
    checkpoints = await store.listCheckpoints({ limit: 10 });
    for (const entry of inputs) reference.append(entry);
    reference.checkpoints.push(...checkpoints);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('has checkpoints at 100, 200 and 250', () => {
    expect(checkpoints.map((cp) => cp.treeSize)).toEqual([100, 200, SIZE]);
  });

  const requests: [string, Omit<AuditExportRequest, 'generatedAt'>, number[]][] = [
    ['at 0', { from: 0, to: 0 }, []],
    ['at a checkpoint’s size', { from: 100, to: 100 }, [100]],
    ['between checkpoints', { from: 150, to: 150 }, []],
    ['at the newest checkpoint’s size', { from: SIZE, to: SIZE }, [SIZE]],
    ['at 0, since 100', { from: 0, to: 0, since: 100 }, [SIZE]],
    ['at a checkpoint’s size, since 100', { from: 200, to: 200, since: 100 }, [200, SIZE]],
    ['between checkpoints, since 100', { from: 150, to: 150, since: 100 }, [SIZE]],
    ['at the newest checkpoint’s size, since 100', { from: SIZE, to: SIZE, since: 100 }, [SIZE]],
  ];

  it.each(requests)('exports %s as a bundle that verifies', async (_, request, sizes) => {
    const text = await collect(store.exportBundle(request));
    const generatedAt = (JSON.parse(text.slice(0, text.indexOf('\n'))) as { generatedAt: string })
      .generatedAt;
    expect(text).toBe(reference.exportText({ ...request, generatedAt }));
    const since = checkpoints.find((cp) => cp.treeSize === request.since);
    const result = await verifyAuditBundle(text, { keys: await store.keys() }, since ? { since } : {});
    expect(result).toMatchObject({ ok: true, summary: { entries: 0, checkpoints: sizes.length } });
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; treeSize?: number });
    expect(lines.filter((l) => l.type === 'checkpoint').map((l) => l.treeSize)).toEqual(sizes);
  });
});
