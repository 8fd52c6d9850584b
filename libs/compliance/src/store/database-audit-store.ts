import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { sqlState } from '@townhall/persistence';
import { type AuditEntry } from '../audit-entry';
import { auditConsistencyProof, proofTarget, type AuditConsistencyProof } from '../audit-consistency';
import type { AuditKeyDescription } from '../audit-keys';
import { AuditStore, type SealedPersonalData, type UnsequencedAuditEntry } from '../audit-ports';
import type { AuditCheckpoint } from '../checkpoint';
import { ComplianceError } from '../compliance.errors';
import type { AuditExportRequest } from '../in-memory-audit-log';
import { rangeDecomposition } from '../merkle';
import { AuditExport, type ExportedLeaf, type OmittedRun, type PrecedingEntry } from './audit-export';
import { AuditLogRepository } from './audit-log.repository';
import { AuditOwnerConnection } from './audit-owner-connection';
import { AuditSequencer } from './audit-sequencer';
import { AuditSequencerWorker } from './audit-sequencer.worker';
import { AuditSigningKeys, type AuditKeyRotation } from './audit-signing-keys';
import { PendingAppender } from './pending-appender';
import { pendingEntry } from './pending-entry';

/** Entries read per query while exporting: memory stays bounded however long the range. */
const EXPORT_BATCH = 2000;

/**
 * The audit log in PostgreSQL (`platform.audit_*`): appends in the caller's transaction, the sequencer
 * behind them, checkpoints, keys, and exports streamed from the database in batches — byte for byte
 * what the in-memory reference log exports for the same content, because both go through AuditExport.
 * Reads run on the application's pool; what writes the log runs on the owner's (AuditOwnerConnection).
 */
@Injectable()
export class DatabaseAuditStore extends AuditStore {
  /**
   * Entries appended on their own: outside a transaction a single INSERT is its own transaction,
   * committed and flushed before it returns; under load, concurrent ones share one (PendingAppender).
   */
  private readonly alone = new PendingAppender<{ entry: string; personal: readonly SealedPersonalData[] }>(
    (items) => this.repository.insertPendingMany(this.dataSource, items),
    { entryMayBeAtFault: isDataOrConstraintError },
  );

  /** Positions one batch of a filtered export spans at most, however few of them match. */
  filteredWindow = 1_000_000;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AuditLogRepository,
    private readonly sequencer: AuditSequencer,
    private readonly signingKeys: AuditSigningKeys,
    private readonly worker: AuditSequencerWorker,
    private readonly owner: AuditOwnerConnection,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {
    super();
  }

  async append(
    manager: EntityManager,
    entry: UnsequencedAuditEntry,
    personal: readonly SealedPersonalData[] = [],
  ): Promise<void> {
    requireTransaction(manager, 'append');
    await this.repository.insertPendingMany(manager, [{ entry: pendingEntry(entry), personal }]);
    this.worker.nudge();
  }

  async appendAlone(
    entry: UnsequencedAuditEntry,
    personal: readonly SealedPersonalData[] = [],
  ): Promise<void> {
    await this.alone.append({ entry: pendingEntry(entry), personal });
    this.worker.nudge();
  }

  /** Statements that appendAlone sent, and the entries they held (their ratio is the batching). */
  appendAloneStats(): { statements: number; entries: number } {
    return this.alone.stats();
  }

  checkpointNow(): Promise<AuditCheckpoint | null> {
    return this.sequencer.checkpointNow();
  }

  newestCheckpoint(): Promise<AuditCheckpoint | null> {
    return this.repository.newestCheckpoint(this.dataSource);
  }

  listCheckpoints(query: { after?: number; limit: number }): Promise<AuditCheckpoint[]> {
    const after = query.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(query.limit) || query.limit < 1) {
      throw new ComplianceError('invalid_bundle_request', 'after must be a tree size and limit at least 1');
    }
    return this.repository.checkpointsBetween(
      this.dataSource,
      after + 1,
      Number.MAX_SAFE_INTEGER,
      query.limit,
    );
  }

  async *exportBundle(request: Omit<AuditExportRequest, 'generatedAt'>): AsyncGenerator<string> {
    const db = this.dataSource;
    const plan = new AuditExport(this.config.audit.origin, await this.repository.newestCheckpoint(db), {
      ...request,
      generatedAt: new Date().toISOString(),
    });
    // Checkpoints only grow, and none is ever signed for a size the log already has a checkpoint
    // beyond, so what is read from here on is fixed by the newest checkpoint read above.
    const beyond = plan.beyond((await this.repository.firstCheckpointFrom(db, plan.to)) ?? undefined);
    const size = plan.newest.treeSize;
    const prefix = await this.repository.withSubtrees(db, size, (nodes) => plan.prefixHashes(nodes));
    const proofs = await this.repository.withSubtrees(db, size, (nodes) => plan.proofs(beyond, nodes));
    yield* plan.opening(await this.repository.rotations(db), prefix, await this.preceding(plan));
    const shown = { tenant: request.tenant ?? null, actions: request.actions ?? null };
    if (shown.tenant !== null || shown.actions !== null) yield* this.filteredBody(plan, shown);
    else yield* this.wholeBody(plan);
    yield* plan.closing(beyond, proofs);
  }

  /** The tenant's last entry before the range, when the export shows one (see AuditExport). */
  private async preceding(plan: AuditExport): Promise<PrecedingEntry | null> {
    if (plan.precedingTenant === null) return null;
    const db = this.dataSource;
    const row = await this.repository.lastTenantEntryBefore(db, plan.precedingTenant, plan.from);
    if (!row) return null;
    const seq = Number(row.seq);
    const path = await this.repository.withSubtrees(db, plan.newest.treeSize, (nodes) =>
      plan.precedingPath(nodes, seq),
    );
    return { entry: JSON.parse(row.entry) as AuditEntry, leaf: row.leaf_hash, stored: row.entry, path };
  }

  /** The body of an unfiltered export: every position, EXPORT_BATCH at a time. */
  private async *wholeBody(plan: AuditExport): AsyncGenerator<string> {
    const db = this.dataSource;
    for (let start = plan.from; start < plan.to; start += EXPORT_BATCH) {
      const end = Math.min(start + EXPORT_BATCH, plan.to);
      const rows = await this.repository.exportLeaves(db, start, end);
      const leaves = rows.map((row): ExportedLeaf => ({
        seq: Number(row.seq),
        leaf: row.leaf_hash,
        entry: JSON.parse(row.entry) as AuditEntry,
        stored: row.entry,
      }));
      yield* plan.body(leaves, await this.checkpointsBefore(plan, start, end));
    }
  }

  /**
   * The body of a filtered export: the matching entries, read EXPORT_BATCH at a time through an index,
   * and between them runs of omitted positions given by the stored subtrees of their compact ranges —
   * so the rows read grow with what the filters show, not with the range. Byte for byte what the
   * position-by-position loop writes (a run is cut at every checkpoint inside it, as that loop cuts it).
   */
  private async *filteredBody(
    plan: AuditExport,
    shown: { tenant: string | null; actions: readonly string[] | null },
  ): AsyncGenerator<string> {
    const db = this.dataSource;
    let start = plan.from;
    while (start < plan.to) {
      // A window of positions bounds what one batch holds (checkpoints, omitted runs) when matches are sparse.
      const windowEnd = Math.min(plan.to, start + this.filteredWindow);
      const rows = await this.repository.exportMatches(db, start, windowEnd, shown, EXPORT_BATCH);
      const end = rows.length === EXPORT_BATCH ? Number(rows[rows.length - 1].seq) + 1 : windowEnd;
      const checkpoints = await this.checkpointsBefore(plan, start, end);
      // Omitted positions in runs cut at every checkpoint among them (cuts and runs both ascend).
      const cuts = checkpoints.map((cp) => cp.treeSize);
      let nextCut = 0;
      const runs: { seq: number; to: number; hashes: Buffer[] }[] = [];
      const spans: (ExportedLeaf | OmittedRun)[] = [];
      const omit = (from: number, to: number): void => {
        for (let at = from; at < to;) {
          while (nextCut < cuts.length && cuts[nextCut] <= at) nextCut++;
          const until = nextCut < cuts.length && cuts[nextCut] < to ? cuts[nextCut] : to;
          const run = { seq: at, to: until, hashes: [] };
          runs.push(run);
          spans.push(run);
          at = until;
        }
      };
      let position = start;
      for (const row of rows) {
        const seq = Number(row.seq);
        omit(position, seq);
        spans.push({
          seq,
          leaf: row.leaf_hash,
          entry: JSON.parse(row.entry) as AuditEntry,
          stored: row.entry,
        });
        position = seq + 1;
      }
      omit(position, end);
      // One query for the stored subtrees of every run's compact range.
      const refs = runs.map((run) => rangeDecomposition(run.seq, run.to));
      const stored = new Map(
        (await this.repository.subtrees(db, refs.flat())).map((n) => [`${n.level}:${n.index}`, n.hash]),
      );
      runs.forEach((run, i) =>
        run.hashes.push(...refs[i].map((ref) => storedSubtree(stored, ref.level, ref.index))),
      );
      yield* plan.body(spans, checkpoints);
      start = end;
    }
  }

  /** The checkpoints that sit before positions [start, end) — and, in the last batch, after it. */
  private checkpointsBefore(plan: AuditExport, start: number, end: number): Promise<AuditCheckpoint[]> {
    return this.repository.checkpointsBetween(
      this.dataSource,
      Math.max(start, plan.from + 1),
      end === plan.to ? end : end - 1,
    );
  }

  async consistencyProof(query: { from: number; to?: number }): Promise<AuditConsistencyProof> {
    const db = this.dataSource;
    const { from, to } = query;
    const target = proofTarget(
      to,
      await this.repository.newestCheckpoint(db),
      to === undefined ? null : ((await this.repository.checkpointsBetween(db, to, to, 1))[0] ?? null),
    );
    const rotations = await this.repository.rotations(db);
    return this.repository.withSubtrees(db, target.treeSize, (nodes) =>
      auditConsistencyProof(nodes, from, target, rotations),
    );
  }

  keys(): Promise<AuditKeyDescription[]> {
    return this.signingKeys.describeAll(this.dataSource);
  }

  /**
   * Replaces the signing key in the caller's transaction on the owner's connection (see
   * AuditSequencer.rotateKey): the rotation and the entry that records it commit together.
   * `RotateAuditKey` is the use case.
   */
  async rotateKey(manager: EntityManager, nextKeyId: string | null = null): Promise<AuditKeyRotation> {
    requireTransaction(manager, 'rotateKey');
    if (!(await this.owner.owns(manager.connection))) {
      throw new Error('AuditStore.rotateKey needs a transaction on the audit owner connection');
    }
    return this.sequencer.rotateKey(manager, nextKeyId);
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): one row's doing. */
function isDataOrConstraintError(err: unknown): boolean {
  return /^2[23]/.test(sqlState(err) ?? '');
}

function storedSubtree(stored: Map<string, Buffer>, level: number, index: number): Buffer {
  const hash = stored.get(`${level}:${index}`);
  if (!hash) throw new Error(`The audit log has no stored subtree at level ${level}, index ${index}`);
  return hash;
}

/** The audit log changes only together with what it records: in the caller's transaction. */
function requireTransaction(manager: EntityManager, method: string): void {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error(`AuditStore.${method} needs a manager inside a transaction`);
  }
}
