import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cancelling a deletion must put a tenant back exactly where it was: a suspended tenant comes back
 * suspended (with its reason), not active — otherwise "delete, then cancel" would lift a suspension.
 */
export class StatusBeforeDeletion1732600200000 implements MigrationInterface {
  name = 'StatusBeforeDeletion1732600200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE platform.tenants ADD COLUMN status_before_deletion text
        CHECK (status_before_deletion IN ('provisioning','active','suspended','failed'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.tenants DROP COLUMN status_before_deletion`);
  }
}
