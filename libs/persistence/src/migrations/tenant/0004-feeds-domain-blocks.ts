import type { TenantMigration } from './tenant-migration';

/**
 * Two lookups by status that had no index, so each read a whole table, and the domains users block.
 * - the home feeds holding a status — when it is deleted or unboosted its rows leave every feed, and
 *   fan-out trims the feeds it just wrote to (libs/social, home feed); `home_feed` is the largest table
 *   of a tenant (up to 800 rows per local account), and its key starts with the account;
 * - the boosts of a status — who boosted it (`reblogged_by`), whom an edit notifies, what its deletion
 *   takes along; the unique index on (account_id, reblog_of_id) serves only one account's boost;
 * - `account_domain_blocks`: the remote domains a local account blocks (Mastodon's AccountDomainBlock),
 *   looked up by account and domain, which its key serves.
 */
export const feedsDomainBlocks: TenantMigration = {
  version: 4,
  name: 'feeds_domain_blocks',
  statements: [
    `CREATE INDEX home_feed_status ON home_feed (status_id)`,
    `CREATE INDEX statuses_reblogs ON statuses (reblog_of_id, id) WHERE reblog_of_id IS NOT NULL`,
    `CREATE TABLE account_domain_blocks (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      domain text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, domain)
    )`,
  ],
};
