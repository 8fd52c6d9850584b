import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { auditEntryProblem, type AuditEntry } from '../audit-entry';
import type { AuditKeyDescription } from '../audit-keys';
import { AuditStore, type UnsequencedAuditEntry } from '../audit-ports';
import { canonicalJson } from '../canonical-json';
import type { AuditCheckpoint } from '../checkpoint';
import { ComplianceError } from '../compliance.errors';
import type { AuditExportRequest } from '../in-memory-audit-log';
import { AuditExport, type ExportedLeaf } from './audit-export';
import { AuditLogRepository } from './audit-log.repository';
import { AuditOwnerConnection } from './audit-owner-connection';
import { AuditSequencer } from './audit-sequencer';
import { AuditSequencerWorker } from './audit-sequencer.worker';
import { AuditSigningKeys, type AuditKeyRotation } from './audit-signing-keys';
import { PendingAppender } from './pending-appender';

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
  private readonly alone = new PendingAppender((entries) =>
    this.repository.insertPendingMany(this.dataSource, entries),
  );

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

  async append(manager: EntityManager, entry: UnsequencedAuditEntry): Promise<void> {
    requireTransaction(manager, 'append');
    await this.repository.insertPending(manager, pendingEntry(entry));
    this.worker.nudge();
  }

  async appendAlone(entry: UnsequencedAuditEntry): Promise<void> {
    await this.alone.append(pendingEntry(entry));
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
    yield* plan.opening(await this.repository.rotations(db), prefix);
    const shown = { tenant: request.tenant ?? null, actions: request.actions ?? null };
    for (let start = plan.from; start < plan.to; start += EXPORT_BATCH) {
      const end = Math.min(start + EXPORT_BATCH, plan.to);
      const rows = await this.repository.exportLeaves(db, start, end, shown);
      const leaves = rows.map((row): ExportedLeaf => ({
        seq: Number(row.seq),
        leaf: row.leaf_hash,
        ...(row.entry === null ? {} : { entry: JSON.parse(row.entry) as AuditEntry, stored: row.entry }),
      }));
      // The checkpoints that sit before positions [start, end) — and, in the last batch, after it.
      const checkpoints = await this.repository.checkpointsBetween(
        db,
        Math.max(start, plan.from + 1),
        end === plan.to ? end : end - 1,
      );
      yield* plan.body(leaves, checkpoints);
    }
    yield* plan.closing(beyond, proofs);
  }

  keys(): Promise<AuditKeyDescription[]> {
    return this.signingKeys.describeAll(this.dataSource);
  }

  /**
   * Replaces the signing key in the caller's transaction on the owner's connection (see
   * AuditSequencer.rotateKey): the rotation and the entry that records it commit together.
   * `RotateAuditKey` is the use case.
   */
  async rotateKey(manager: EntityManager): Promise<AuditKeyRotation> {
    requireTransaction(manager, 'rotateKey');
    if (!(await this.owner.owns(manager.connection))) {
      throw new Error('AuditStore.rotateKey needs a transaction on the audit owner connection');
    }
    return this.sequencer.rotateKey(manager);
  }
}

/** The audit log changes only together with what it records: in the caller's transaction. */
function requireTransaction(manager: EntityManager, method: string): void {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error(`AuditStore.${method} needs a manager inside a transaction`);
  }
}

/**
 * The canonical JSON a pending row holds, after checking the entry as the log will (with a placeholder
 * seq): a malformed entry is refused here, in the caller's transaction, with nothing written.
 */
function pendingEntry(entry: UnsequencedAuditEntry): string {
  if (typeof entry === 'object' && entry !== null && ('seq' in entry || 'tenantSeq' in entry)) {
    throw new ComplianceError('invalid_audit_entry', 'seq and tenantSeq are assigned by the log');
  }
  const problem = auditEntryProblem({ ...entry, seq: 0 });
  if (problem !== null) throw new ComplianceError('invalid_audit_entry', problem);
  try {
    return canonicalJson(entry);
  } catch (err) {
    if (err instanceof ComplianceError) throw new ComplianceError('invalid_audit_entry', err.detail);
    throw err;
  }
}
