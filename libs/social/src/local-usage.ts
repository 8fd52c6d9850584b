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
