import { Inject, Injectable } from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { TenantTransactions } from '@townhall/tenancy';
import type { EntityManager } from 'typeorm';
import { PerTenantCache } from './per-tenant-cache';

/**
 * How much the current tenant's instance is used, as the Mastodon instance entity and NodeInfo report
 * it. Runs in the caller's tenant transaction (`TenantTransactions.run`), so the names are unqualified.
 */
export interface LocalUsage {
  /** Confirmed users of local accounts, as Mastodon's `user_count`; the instance actor has no user. */
  users: number;
  /**
   * Local users active in the last 4 weeks / 24 weeks, as Mastodon counts weekly logins: users one of
   * whose access tokens was issued or used then (a token's use is noted at most once an hour).
   */
  activeMonth: number;
  activeHalfyear: number;
  /** Local statuses, boosts included, as Mastodon sums its local accounts' status counts. */
  localPosts: number;
}

export async function countLocalUsage(manager: EntityManager): Promise<LocalUsage> {
  const [row] = (await manager.query(
    `WITH local_users AS (
       SELECT u.id, u.confirmed_at, a.suspended_at, a.statuses_count
         FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.domain IS NULL),
     seen AS (
       SELECT t.user_id, max(greatest(t.created_at, coalesce(t.last_used_at, t.created_at))) AS at
         FROM oauth_access_tokens t JOIN local_users lu ON lu.id = t.user_id AND lu.suspended_at IS NULL
        GROUP BY t.user_id)
     SELECT (SELECT count(*) FROM local_users WHERE confirmed_at IS NOT NULL)::int AS users,
            (SELECT count(*) FROM seen WHERE at > now() - interval '4 weeks')::int AS active_month,
            (SELECT count(*) FROM seen WHERE at > now() - interval '24 weeks')::int AS active_halfyear,
            (SELECT coalesce(sum(statuses_count), 0) FROM accounts WHERE domain IS NULL)::int AS local_posts`,
  )) as [{ users: number; active_month: number; active_halfyear: number; local_posts: number }];
  return {
    users: row.users,
    activeMonth: row.active_month,
    activeHalfyear: row.active_halfyear,
    localPosts: row.local_posts,
  };
}

/**
 * Usage counts per tenant, as the instance entity and NodeInfo publish them: counted in the tenant's
 * schema at most once per TOWNHALL_USAGE_CACHE_MS per process, because both documents are fetched often (every
 * client start, every crawler) and counting is a scan. Mastodon caches these counts as well; the
 * documents themselves say `Cache-Control: max-age` of minutes.
 */
@Injectable()
export class LocalUsageCache {
  private readonly cache: PerTenantCache<LocalUsage>;

  constructor(transactions: TenantTransactions, @Inject(TOWNHALL_CONFIG) config: TownhallConfig) {
    this.cache = new PerTenantCache(
      () => config.tenantHttp.usageCacheMs,
      () => transactions.run((manager) => countLocalUsage(manager)),
    );
  }

  /** The current tenant's usage, at most TOWNHALL_USAGE_CACHE_MS old. */
  current(): Promise<LocalUsage> {
    return this.cache.current();
  }
}
