import type { EntityManager } from 'typeorm';

/**
 * How much the current tenant's instance is used, as the Mastodon instance entity and NodeInfo report
 * it. Runs in the caller's tenant transaction (`TenantTransactions.run`), so the names are unqualified.
 */
export interface LocalUsage {
  /** Confirmed users of local accounts, as Mastodon's `user_count`; the instance actor has no user. */
  users: number;
  /** Users seen in the last 4 weeks / 6 months. Sign-ins are not tracked yet, so these are 0. */
  activeMonth: number;
  activeHalfyear: number;
  /** Local statuses. There are no statuses yet, so this is 0. */
  localPosts: number;
}

export async function countLocalUsage(manager: EntityManager): Promise<LocalUsage> {
  const [row] = (await manager.query(
    `SELECT count(*)::int AS users
       FROM users u JOIN accounts a ON a.id = u.account_id
      WHERE a.domain IS NULL AND u.confirmed_at IS NOT NULL`,
  )) as [{ users: number }];
  return { users: row.users, activeMonth: 0, activeHalfyear: 0, localPosts: 0 };
}
