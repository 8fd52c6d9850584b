import { Logger } from '@nestjs/common';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { hostSkeleton } from '@townhall/core';

/** The unique index that keeps two tenants from holding domains that look alike. */
export const TENANT_DOMAIN_SKELETON_INDEX = 'tenant_domains_skeleton';

/**
 * Each tenant domain's UTS #39 skeleton (`hostSkeleton`), unique: `social.bmі.example` with a
 * Cyrillic `і` cannot be registered beside `social.bmi.example`, even by two registrations racing.
 * The skeleton is computed by the application, so rows written outside it may lack one (NULL, which the
 * index does not compare). Existing domains get theirs here, oldest first; a domain that already looks
 * like an older one keeps NULL — refusing it now would stop the platform from starting — and is named
 * in a warning for the operator to review.
 */
export class TenantDomainSkeletons1732600900000 implements MigrationInterface {
  name = 'TenantDomainSkeletons1732600900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.tenant_domains ADD COLUMN skeleton text`);
    const rows = (await q.query(
      `SELECT domain FROM platform.tenant_domains ORDER BY created_at, domain`,
    )) as { domain: string }[];
    const seen = new Map<string, string>();
    for (const { domain } of rows) {
      const skeleton = hostSkeleton(domain);
      const older = seen.get(skeleton);
      if (older !== undefined) {
        new Logger(TenantDomainSkeletons1732600900000.name).warn(
          `Tenant domain ${domain} looks like ${older}, registered before it: review both tenants`,
        );
        continue;
      }
      seen.set(skeleton, domain);
      await q.query(`UPDATE platform.tenant_domains SET skeleton = $2 WHERE domain = $1`, [domain, skeleton]);
    }
    await q.query(
      `CREATE UNIQUE INDEX ${TENANT_DOMAIN_SKELETON_INDEX} ON platform.tenant_domains (skeleton)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.tenant_domains DROP COLUMN skeleton`);
  }
}
