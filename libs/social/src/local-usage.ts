import { Inject, Injectable } from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { TenantContext, TenantTransactions } from '@townhall/tenancy';
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

/**
 * Usage counts per tenant, as the instance entity and NodeInfo publish them: counted in the tenant's
 * schema at most once per TOWNHALL_USAGE_CACHE_MS per process, because both documents are fetched often (every
 * client start, every crawler) and counting is a scan. Mastodon caches these counts as well; the
 * documents themselves say `Cache-Control: max-age` of minutes.
 */
@Injectable()
export class LocalUsageCache {
  private readonly counted = new Map<string, { usage: Promise<LocalUsage>; at: number }>();

  constructor(
    private readonly transactions: TenantTransactions,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** The current tenant's usage, at most TOWNHALL_USAGE_CACHE_MS old. */
  current(): Promise<LocalUsage> {
    const maxAgeMs = this.config.tenantHttp.usageCacheMs;
    const tenant = TenantContext.current();
    const now = Date.now();
    const known = this.counted.get(tenant.id);
    if (known && now - known.at < maxAgeMs) return known.usage;
    // The promise is kept, so concurrent requests share one count; a failed count is not kept.
    const usage = this.transactions.run((manager) => countLocalUsage(manager));
    this.counted.set(tenant.id, { usage, at: now });
    usage.catch(() => this.counted.delete(tenant.id));
    if (this.counted.size > 10_000) this.counted.delete(this.counted.keys().next().value!);
    return usage;
  }
}
