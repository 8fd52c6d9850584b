import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditConsistencyProof } from '../audit-consistency';
import { describeAuditKey, type AuditKeyDescription } from '../audit-keys';
import { AuditStore, type SealedPersonalData, type UnsequencedAuditEntry } from '../audit-ports';
import type { AuditEntry } from '../audit-entry';
import type { AuditCheckpoint } from '../checkpoint';
import { InMemoryAuditLog, type AuditExportRequest } from '../in-memory-audit-log';
import { AuditedTransactions } from '../recording/audited-transactions';
import type { AuditSubjectStore } from '../recording/audit-subject-store';
import { DatabaseAuditRecorder } from '../recording/database-audit-recorder';
import { pendingEntry } from '../store/pending-entry';
import { ed25519FromSeed } from './audit-log-fixture';

/**
 * In-memory stand-ins for the audit log's storage, for unit specs: a DataSource whose transactions
 * commit or roll back what the fakes staged in them, the audit store, and the personal-data side
 * table. The recording logic above them is the real one (`fakeAuditStack`). Each fake passes the same
 * contract suite as the adapter it stands for (`audit-contracts.ts`; the real ones in
 * test/integration/audit-contracts.test.ts), so a spec that passes on a fake says something about the
 * real thing.
 */

/** Writes staged in one fake transaction, applied in order when it commits and dropped when it rolls back. */
export class FakeTransaction {
  private readonly writes: (() => void)[] = [];
  private readonly staged = new Map<object, unknown>();

  onCommit(write: () => void): void {
    this.writes.push(write);
  }

  /** What `owner` staged in this transaction, made on first use. */
  stagedBy<T>(owner: object, make: () => T): T {
    if (!this.staged.has(owner)) this.staged.set(owner, make());
    return this.staged.get(owner) as T;
  }

  commit(): void {
    for (const write of this.writes) write();
  }
}

const openTransactions = new WeakMap<object, FakeTransaction>();

/** The fake transaction `manager` works in, or undefined outside one (a fake DataSource's `manager`). */
export function fakeTransactionOf(manager: EntityManager): FakeTransaction | undefined {
  return openTransactions.get(manager);
}

/**
 * The part of a DataSource the audit code uses: `transaction` and `manager`. A spec that needs the
 * manager to answer SQL gives its own (`{ query: jest.fn() }`); one transaction at a time then.
 */
export class FakeDataSource {
  /** Transactions begun, committed or not. */
  transactions = 0;
  /** Outside any transaction: a fake's writes through it commit at once. */
  readonly manager: EntityManager = {} as EntityManager;

  constructor(private readonly transactionManager?: object) {}

  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    this.transactions++;
    const manager = (this.transactionManager ?? {}) as EntityManager;
    const transaction = new FakeTransaction();
    openTransactions.set(manager, transaction);
    let result: T;
    try {
      result = await work(manager);
    } finally {
      openTransactions.delete(manager);
    }
    transaction.commit();
    return result;
  }

  /** For constructors typed with TypeORM's DataSource. */
  asDataSource(): DataSource {
    return this as unknown as DataSource;
  }
}

/** What a fake store received and committed: the entry, its side-table rows, and how it came. */
export interface FakeAppend {
  entry: UnsequencedAuditEntry;
  personal: SealedPersonalData[];
  alone: boolean;
}

/**
 * The audit store in memory: appends are checked as the database store checks them and committed
 * with their fake transaction; `checkpointNow` sequences them into the in-memory reference log and
 * signs a checkpoint, from which exports are made exactly as the database store makes them.
 */
export class FakeAuditStore extends AuditStore {
  /** Everything committed, in commit order, sequenced or not. */
  readonly appended: FakeAppend[] = [];
  private readonly log: InMemoryAuditLog;
  private readonly key = ed25519FromSeed('townhall fake audit store');
  private readonly validFrom = new Date().toISOString();

  constructor(origin = 'townhall.test/audit') {
    super();
    this.log = new InMemoryAuditLog(origin, { tenantSeq: true });
  }

  async append(
    manager: EntityManager,
    entry: UnsequencedAuditEntry,
    personal: readonly SealedPersonalData[] = [],
  ): Promise<void> {
    const transaction = fakeTransactionOf(manager);
    if (!transaction) throw new Error('AuditStore.append needs a manager inside a transaction');
    const checked = parsedEntry(entry);
    transaction.onCommit(() => this.appended.push({ entry: checked, personal: [...personal], alone: false }));
  }

  async appendAlone(
    entry: UnsequencedAuditEntry,
    personal: readonly SealedPersonalData[] = [],
  ): Promise<void> {
    this.appended.push({ entry: parsedEntry(entry), personal: [...personal], alone: true });
  }

  /** The committed entries, in order, as they were handed in. */
  entries(): UnsequencedAuditEntry[] {
    return this.appended.map((a) => a.entry);
  }

  checkpointNow(): Promise<AuditCheckpoint | null> {
    const before = this.log.size;
    for (const { entry } of this.appended.slice(before)) this.log.append(entry);
    if (this.log.size === 0) return Promise.resolve(null);
    const newest = this.log.newestCheckpoint();
    if (newest?.treeSize === this.log.size) return Promise.resolve(newest);
    return Promise.resolve(this.log.checkpoint(this.key, new Date().toISOString()));
  }

  newestCheckpoint(): Promise<AuditCheckpoint | null> {
    return Promise.resolve(this.log.newestCheckpoint() ?? null);
  }

  listCheckpoints(query: { after?: number; limit: number }): Promise<AuditCheckpoint[]> {
    const after = query.after ?? 0;
    return Promise.resolve(this.log.checkpoints.filter((cp) => cp.treeSize > after).slice(0, query.limit));
  }

  // An async generator, as the database store's: a refused request throws on the first read.
  async *exportBundle(request: Omit<AuditExportRequest, 'generatedAt'>): AsyncGenerator<string> {
    yield* this.log.exportBundle({ ...request, generatedAt: new Date().toISOString() });
  }

  async consistencyProof(query: { from: number; to?: number }): Promise<AuditConsistencyProof> {
    return this.log.consistencyProof(query.from, query.to);
  }

  keys(): Promise<AuditKeyDescription[]> {
    return Promise.resolve([describeAuditKey(this.key, { validFrom: this.validFrom })]);
  }
}

/** The entry as the log will hold it: checked (and refused) by the database store's own rule. */
function parsedEntry(entry: UnsequencedAuditEntry): UnsequencedAuditEntry {
  return JSON.parse(pendingEntry(entry)) as Omit<AuditEntry, 'seq'>;
}

interface FakeSubject {
  id: string;
  key: Buffer;
}

/**
 * The personal-data side table in memory: one subject per identifier, created in the caller's fake
 * transaction. Sealed data is only encoded, not encrypted; `open` reads it back for a spec.
 */
export class FakeAuditSubjectStore {
  private readonly committed = new Map<string, FakeSubject>();
  private nextId = 9000;

  subjectFor(manager: EntityManager, identifier: string): Promise<FakeSubject> {
    const found = this.lookup(manager, identifier);
    if (found) return Promise.resolve(found);
    const subject = { id: String(this.nextId++), key: randomBytes(32) };
    const transaction = fakeTransactionOf(manager);
    if (transaction) {
      this.stagedIn(transaction).set(identifier, subject);
      transaction.onCommit(() => this.committed.set(identifier, subject));
    } else this.committed.set(identifier, subject);
    return Promise.resolve(subject);
  }

  existingSubject(manager: EntityManager, identifier: string): Promise<FakeSubject | null> {
    return Promise.resolve(this.lookup(manager, identifier) ?? null);
  }

  findSubject(manager: EntityManager, identifier: string): Promise<string | null> {
    return Promise.resolve(this.lookup(manager, identifier)?.id ?? null);
  }

  seal(
    row: { ref: string; position: number; subject: { id: string }; kind: SealedPersonalData['kind'] },
    data: Record<string, string>,
  ): SealedPersonalData {
    const ciphertext = `fake:${Buffer.from(JSON.stringify(data)).toString('base64url')}`;
    return { ref: row.ref, position: row.position, subjectId: row.subject.id, kind: row.kind, ciphertext };
  }

  /** What `seal` was given. */
  open(sealed: Pick<SealedPersonalData, 'ciphertext'>): Record<string, string> {
    return JSON.parse(Buffer.from(sealed.ciphertext.slice(5), 'base64url').toString()) as Record<
      string,
      string
    >;
  }

  /** The committed subject id of `identifier`. */
  subjectOf(identifier: string): string | undefined {
    return this.committed.get(identifier)?.id;
  }

  /** For constructors typed with the real store. */
  asSubjectStore(): AuditSubjectStore {
    return this as unknown as AuditSubjectStore;
  }

  private lookup(manager: EntityManager, identifier: string): FakeSubject | undefined {
    const transaction = fakeTransactionOf(manager);
    return this.committed.get(identifier) ?? (transaction && this.stagedIn(transaction).get(identifier));
  }

  private stagedIn(transaction: FakeTransaction): Map<string, FakeSubject> {
    return transaction.stagedBy(this, () => new Map<string, FakeSubject>());
  }
}

export interface FakeAuditStack {
  dataSource: FakeDataSource;
  store: FakeAuditStore;
  subjects: FakeAuditSubjectStore;
  /** The real recorder and runner, on the fakes. */
  recorder: DatabaseAuditRecorder;
  audited: AuditedTransactions;
}

/** The recording side of the audit log as the platform wires it, with fake storage underneath. */
export function fakeAuditStack(dataSource = new FakeDataSource()): FakeAuditStack {
  const store = new FakeAuditStore();
  const subjects = new FakeAuditSubjectStore();
  const recorder = new DatabaseAuditRecorder(dataSource.asDataSource(), store, subjects.asSubjectStore());
  return {
    dataSource,
    store,
    subjects,
    recorder,
    audited: new AuditedTransactions(dataSource.asDataSource(), recorder),
  };
}
