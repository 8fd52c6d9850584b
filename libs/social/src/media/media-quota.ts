import type { EntityManager } from 'typeorm';
import { StatusError } from '../statuses/status-errors';

/** The key space of the advisory locks that serialise one tenant's uploads while its usage is counted. */
const QUOTA_LOCK_SPACE = 0x6d656469; // "medi"

/** How many bytes of media the current tenant stores, in its transaction, and in how many attachments. */
export async function mediaUsage(m: EntityManager): Promise<{ bytes: number; attachments: number }> {
  const [row] = (await m.query(
    `SELECT coalesce(sum(file_size), 0)::text AS bytes, count(*)::int AS attachments FROM media_attachments
      WHERE remote_url IS NULL`,
  )) as { bytes: string; attachments: number }[];
  return { bytes: Number(row.bytes), attachments: row.attachments };
}

/** The tenant's media quota in bytes: its own figure when the operator set one, else the platform's; 0 is none. */
export async function mediaQuota(m: EntityManager, tenantId: string, platformQuota: number): Promise<number> {
  const [row] = (await m.query(
    `SELECT media_quota_bytes::text AS quota FROM platform.tenants WHERE id = $1`,
    [tenantId],
  )) as { quota: string | null }[];
  return row?.quota == null ? platformQuota : Number(row.quota);
}

/**
 * Refuses an upload of `bytes` that would take the tenant past its quota (422, before anything is
 * stored). The tenant's uploads are serialised from here to their commit by a transaction-scoped
 * advisory lock, so two uploads cannot both pass on the same remaining space.
 */
export async function reserveMediaStorage(
  m: EntityManager,
  tenantId: string,
  bytes: number,
  platformQuota: number,
): Promise<void> {
  const quota = await mediaQuota(m, tenantId, platformQuota);
  if (quota === 0) return;
  await m.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [QUOTA_LOCK_SPACE, tenantId]);
  const { bytes: used } = await mediaUsage(m);
  if (used + bytes > quota) {
    throw new StatusError(
      'validation_failed',
      `Validation failed: File would exceed this instance's media storage quota ` +
        `(${used} of ${quota} bytes used, this file needs ${bytes})`,
    );
  }
}
