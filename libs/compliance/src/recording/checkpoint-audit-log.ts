import { Injectable } from '@nestjs/common';
import { AuditStore } from '../audit-ports';
import type { AuditCheckpoint } from '../checkpoint';
import { AuditedTransactions } from './audited-transactions';

const ACTION = 'audit.checkpoint';

/**
 * A checkpoint on demand (`townhall audit checkpoint`, `POST /api/platform/v1/audit/checkpoints`), besides
 * the ones the sequencer signs every N entries or T seconds: before an export is handed over, say, or to
 * pin the log's state at a moment someone asks about. The request is recorded first, so the checkpoint
 * it produces covers its own entry; if signing then fails, a `failure` entry of the same action follows.
 */
@Injectable()
export class CheckpointAuditLog {
  constructor(
    private readonly audited: AuditedTransactions,
    private readonly store: AuditStore,
  ) {}

  async run(): Promise<AuditCheckpoint> {
    await this.record(async () => undefined);
    try {
      const checkpoint = await this.store.checkpointNow();
      if (!checkpoint) throw new Error('the audit log signed no checkpoint');
      return checkpoint;
    } catch (err) {
      // The request's entry is committed already; a second one says that signing failed, and why.
      await this.record(() => Promise.reject(err)).catch(() => undefined);
      throw err;
    }
  }

  private record(apply: () => Promise<void>): Promise<void> {
    return this.audited.run({
      apply,
      recorded: () => ({ action: ACTION, target: AUDIT_LOG, tenant: null }),
      refused: () => ({ action: ACTION, target: AUDIT_LOG, tenant: null }),
    });
  }
}

const AUDIT_LOG = { type: 'audit_log', id: 'platform' };
