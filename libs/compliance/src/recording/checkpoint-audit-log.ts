import { Injectable } from '@nestjs/common';
import { AuditStore } from '../audit-ports';
import type { AuditCheckpoint } from '../checkpoint';
import { AuditedTransactions } from './audited-transactions';

const ACTION = 'audit.checkpoint';

/**
 * A checkpoint on demand (`townhall audit checkpoint`, `POST /api/platform/v1/audit/checkpoints`), besides
 * the ones the sequencer signs every N entries or T seconds: before an export is handed over, say, or to
 * pin the log's state at a moment someone asks about. The request is recorded first, so the checkpoint
 * it produces covers its own entry — and is therefore never null.
 */
@Injectable()
export class CheckpointAuditLog {
  constructor(
    private readonly audited: AuditedTransactions,
    private readonly store: AuditStore,
  ) {}

  async run(): Promise<AuditCheckpoint> {
    await this.audited.run({
      apply: async () => undefined,
      recorded: () => ({ action: ACTION, target: AUDIT_LOG, tenant: null }),
      refused: () => ({ action: ACTION, target: AUDIT_LOG, tenant: null }),
    });
    return (await this.store.checkpointNow())!;
  }
}

const AUDIT_LOG = { type: 'audit_log', id: 'platform' };
