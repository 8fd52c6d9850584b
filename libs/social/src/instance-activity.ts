import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { TenantTransactions } from '@townhall/tenancy';
import { PerTenantCache } from './per-tenant-cache';

/** One week of Mastodon's instance activity (GET /api/v1/instance/activity), counts as strings. */
export interface ActivityWeek {
  /** The week's first moment, Monday 00:00 UTC, in UNIX seconds. */
  week: string;
  /** Local statuses posted in the week (those deleted since included, as Mastodon counts them). */
  statuses: string;
  /** Local users who signed in — were given an access token — in the week. */
  logins: string;
  /** Local users who registered in the week. */
  registrations: string;
}

/** The last 12 weeks, this one first, as Mastodon's InstanceActivity. In the caller's tenant transaction. */
export async function weeklyActivity(m: EntityManager): Promise<ActivityWeek[]> {
  // Statuses are counted by id range: ids begin with their millisecond (platform.next_id), so each week
  // is one range scan of the primary key instead of a look at every status's date.
  return (await m.query(
    `WITH weeks AS (
       SELECT w AS starts, w + interval '1 week' AS ends
         FROM generate_series(date_trunc('week', now() AT TIME ZONE 'UTC') - interval '11 weeks',
                              date_trunc('week', now() AT TIME ZONE 'UTC'), interval '1 week') AS w)
     SELECT extract(epoch FROM w.starts)::bigint::text AS week,
            (SELECT count(*) FROM statuses s
              WHERE s.local AND s.reblog_of_id IS NULL
                AND s.id >= (extract(epoch FROM w.starts)::bigint * 1000) << 16
                AND s.id < (extract(epoch FROM w.ends)::bigint * 1000) << 16)::text AS statuses,
            (SELECT count(DISTINCT t.user_id) FROM oauth_access_tokens t
              WHERE t.user_id IS NOT NULL
                AND t.created_at >= w.starts AT TIME ZONE 'UTC' AND t.created_at < w.ends AT TIME ZONE 'UTC')::text AS logins,
            (SELECT count(*) FROM users u JOIN accounts a ON a.id = u.account_id AND a.domain IS NULL
              WHERE u.created_at >= w.starts AT TIME ZONE 'UTC' AND u.created_at < w.ends AT TIME ZONE 'UTC')::text AS registrations
       FROM weeks w ORDER BY w.starts DESC`,
  )) as ActivityWeek[];
}

/**
 * The weekly activity per tenant, counted at most once per TOWNHALL_USAGE_CACHE_MS per process: the
 * counts read a quarter of a year of statuses, and Mastodon answers them from counters it keeps.
 */
@Injectable()
export class InstanceActivity {
  private readonly cache: PerTenantCache<ActivityWeek[]>;

  constructor(transactions: TenantTransactions, @Inject(TOWNHALL_CONFIG) config: TownhallConfig) {
    this.cache = new PerTenantCache(
      () => config.tenantHttp.usageCacheMs,
      () => transactions.run(weeklyActivity),
    );
  }

  current(): Promise<ActivityWeek[]> {
    return this.cache.current();
  }
}
