import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Work that falls due at a time, across every tenant (a scheduled status to publish, a poll that ends):
 * written in the tenant's transaction together with what it refers to, found by workers with one index
 * scan instead of a look into every tenant schema, and done and removed in one transaction.
 */
export class ScheduledWork1732601500000 implements MigrationInterface {
  name = 'ScheduledWork1732601500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.scheduled_work (
        tenant_id bigint NOT NULL REFERENCES platform.tenants(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('publish_status', 'poll_ended')),
        ref_id bigint NOT NULL,
        due_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, kind, ref_id)
      )`);
    await q.query(`CREATE INDEX scheduled_work_due ON platform.scheduled_work (due_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform.scheduled_work`);
  }
}
