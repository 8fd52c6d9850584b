import type { TenantMigration } from './tenant-migration';

/**
 * Two lookups by status that had no index, so each read a whole table:
 * - the home feeds holding a status — when it is deleted or unboosted its rows leave every feed, and
 *   fan-out trims the feeds it just wrote to (libs/social, home feed); `home_feed` is the largest table
 *   of a tenant (up to 800 rows per local account), and its key starts with the account;
 * - the boosts of a status — who boosted it (`reblogged_by`), whom an edit notifies, what its deletion
 *   takes along; the unique index on (account_id, reblog_of_id) serves only one account's boost.
 */
export const feedIndexes: TenantMigration = {
  version: 4,
  name: 'feed_indexes',
  statements: [
    `CREATE INDEX home_feed_status ON home_feed (status_id)`,
    `CREATE INDEX statuses_reblogs ON statuses (reblog_of_id, id) WHERE reblog_of_id IS NOT NULL`,
  ],
};
