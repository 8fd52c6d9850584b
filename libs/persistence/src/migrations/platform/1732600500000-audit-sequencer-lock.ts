import { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureApplicationRoleOfSession } from './1732600300000-audit-log';

/**
 * The audit sequencer's lock as a row only the owner may lock. An advisory lock can be taken by any
 * login, so the application's could have held it and stalled sequencing and checkpoints; `FOR UPDATE`
 * on this row needs a privilege the application role does not have.
 */
export class AuditSequencerLock1732600500000 implements MigrationInterface {
  name = 'AuditSequencerLock1732600500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.audit_sequencer_lock (
        id smallint PRIMARY KEY CHECK (id = 1)
      )`);
    await q.query(`INSERT INTO platform.audit_sequencer_lock (id) VALUES (1)`);
    // Default privileges gave the application role this table too; take them back in this transaction.
    await ensureApplicationRoleOfSession(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform.audit_sequencer_lock`);
  }
}
