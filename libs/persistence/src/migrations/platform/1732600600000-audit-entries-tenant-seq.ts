import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's entries by position: a tenant-filtered export reads only that tenant's rows in the range
 * (and the stored subtrees that stand for everything between them) instead of every row of the range.
 */
export class AuditEntriesTenantSeq1732600600000 implements MigrationInterface {
  name = 'AuditEntriesTenantSeq1732600600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_entries_tenant_seq ON platform.audit_entries (tenant_id, seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX platform.audit_entries_tenant_seq`);
  }
}
