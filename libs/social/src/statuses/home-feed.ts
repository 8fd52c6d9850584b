import type { EntityManager } from 'typeorm';

/** How many statuses a home feed keeps; older ones leave it (Mastodon keeps 400 in its Redis feeds). */
export const HOME_FEED_LENGTH = 800;

/**
 * Fan-out trims a feed one time in this many that it writes to (chosen by the account and status ids,
 * so it is spread evenly and the same on a retry): a feed then holds at most about
 * HOME_FEED_LENGTH + TRIM_EVERY statuses, and a post to 100 followers trims about three feeds instead
 * of reading 800 rows of each.
 */
export const TRIM_EVERY = 32;

/**
 * Keeps the home feeds that just received `statusId` to their length, as Mastodon's FeedManager#trim
 * does after each insert, amortised (TRIM_EVERY). In the transaction that wrote the rows.
 */
export async function trimFeedsHolding(m: EntityManager, statusId: string): Promise<void> {
  await m.query(
    `WITH due AS (
       SELECT f.account_id,
              (SELECT k.status_id FROM home_feed k WHERE k.account_id = f.account_id
                ORDER BY k.status_id DESC OFFSET $2 LIMIT 1) AS newest_dropped
         FROM home_feed f
        WHERE f.status_id = $1 AND ((f.account_id # f.status_id) & ($3 - 1)) = 0)
     DELETE FROM home_feed h USING due
      WHERE h.account_id = due.account_id AND h.status_id <= due.newest_dropped`,
    [statusId, HOME_FEED_LENGTH, TRIM_EVERY],
  );
}

/** Keeps one account's home feed to its length, after something merged many statuses into it. */
export async function trimFeed(m: EntityManager, accountId: string): Promise<void> {
  await m.query(
    `DELETE FROM home_feed
      WHERE account_id = $1
        AND status_id <= (SELECT k.status_id FROM home_feed k WHERE k.account_id = $1
                           ORDER BY k.status_id DESC OFFSET $2 LIMIT 1)`,
    [accountId, HOME_FEED_LENGTH],
  );
}
