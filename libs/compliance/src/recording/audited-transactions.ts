import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TownhallError } from '@townhall/core';
import { AuditRecorder, AuditRecordInput } from '../audit-ports';
import { MissingAuditActorError } from './database-audit-recorder';

/** An entry to record, without its outcome: the runner decides that. */
export type AuditedOutcome = Omit<AuditRecordInput, 'outcome'>;

export interface AuditedChange<T> {
  /** The change, in a transaction; throwing rolls it back. */
  apply(manager: EntityManager): Promise<T>;
  /**
   * The entry of a change that went through, recorded in the change's own transaction; null only when
   * the change found nothing to do (an idempotent repeat, such as a start-up that finds its state).
   */
  recorded(result: T): AuditedOutcome | null;
  /**
   * Work after the entry is written, in the same transaction, for a change that must cover the
   * entry's own side-table rows (re-sealing every secret under a new platform key).
   */
  complete?(manager: EntityManager, result: T): Promise<void>;
  /** The entry of a refused or failed change (no such tenant, wrong state, …), recorded on its own after the rollback. */
  refused(error: unknown): AuditedOutcome;
}

/**
 * The one way a use case makes an audited change. A change and its entry commit together or not at
 * all; a change that throws is rolled back and then recorded with outcome `failure` and the error's
 * code, on its own (AuditRecorder.recordAlone), so attempts that were refused are on the record too. If even
 * that cannot be written (say, the database is gone), the original error still reaches the caller.
 */
@Injectable()
export class AuditedTransactions {
  private readonly logger = new Logger(AuditedTransactions.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly recorder: AuditRecorder,
  ) {}

  /** `on`: the DataSource of the change's transaction when it is not the application's (key rotation). */
  async run<T>(change: AuditedChange<T>, on: DataSource = this.dataSource): Promise<T> {
    try {
      return await on.transaction(async (manager) => {
        const result = await change.apply(manager);
        const entry = change.recorded(result);
        if (entry !== null) await this.recorder.record(manager, { ...entry, outcome: 'success' });
        await change.complete?.(manager, result);
        return result;
      });
    } catch (err) {
      // Without an actor the refusal could not be recorded either; the error says what is missing.
      if (!(err instanceof MissingAuditActorError)) await this.recordRefusal(change, err);
      throw err;
    }
  }

  private async recordRefusal(change: AuditedChange<unknown>, err: unknown): Promise<void> {
    try {
      const entry = change.refused(err);
      await this.recorder.recordAlone({
        ...entry,
        outcome: 'failure',
        details: { ...entry.details, error: errorCode(err) },
      });
    } catch (recordingError) {
      this.logger.error({ err: recordingError, cause: errorCode(err) }, 'Could not record a refused action');
    }
  }
}

/** What the log says went wrong: a Townhall error's code, never a message that might carry internals. */
function errorCode(err: unknown): string {
  return err instanceof TownhallError ? err.code : 'internal_error';
}
