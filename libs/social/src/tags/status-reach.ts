import type { EntityManager } from 'typeorm';
import { indexStatusForSearch } from '../search/status-search-document';
import { TAG_RELATION } from './tag-records';

/**
 * What a status's words reach beyond its author's followers, brought up to date in the transaction that
 * posts or edits it: the full-text search index, and — for a public status — the home feeds of the local
 * accounts that follow one of its hashtags. Status posting and editing call this once each.
 */
export async function reachByContent(m: EntityManager, statusId: string): Promise<void> {
  await indexStatusForSearch(m, statusId);
  await deliverToTagFollowers(m, statusId);
}

/**
 * Mastodon's FanOutOnWriteService#deliver_to_hashtag_followers and FeedManager#filter_from_tags?: a
 * public status (not a reblog) of an account that is neither silenced nor suspended goes into the home
 * feed of every local account following one of its tags — unless that account wrote it, blocks or mutes
 * its author or an account it mentions, or is blocked by its author. An edit delivers it again to those
 * following a tag the edit added; feeds that have it already keep it once.
 */
export async function deliverToTagFollowers(m: EntityManager, statusId: string): Promise<void> {
  await m.query(
    `INSERT INTO home_feed (account_id, status_id)
     SELECT DISTINCT f.account_id, s.id
       FROM statuses s
       JOIN accounts author ON author.id = s.account_id AND author.silenced_at IS NULL AND author.suspended_at IS NULL
       JOIN status_tags st ON st.status_id = s.id
       JOIN tag_relations f ON f.kind = $2 AND f.tag_id = st.tag_id
       JOIN accounts reader ON reader.id = f.account_id AND reader.domain IS NULL
      WHERE s.id = $1 AND s.visibility = 0 AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
        AND f.account_id <> s.account_id
        AND NOT EXISTS (SELECT 1 FROM account_relations x
                         WHERE x.account_id = f.account_id AND x.kind IN (2, 3)
                           AND (x.kind = 2 OR x.expires_at IS NULL OR x.expires_at > now())
                           AND (x.target_account_id = s.account_id
                                OR x.target_account_id IN (SELECT mn.account_id FROM mentions mn WHERE mn.status_id = s.id)))
        AND NOT EXISTS (SELECT 1 FROM account_relations b
                         WHERE b.kind = 2 AND b.account_id = s.account_id AND b.target_account_id = f.account_id)
     ON CONFLICT DO NOTHING`,
    [statusId, TAG_RELATION.followed],
  );
}

/**
 * After an account stops following a tag (Mastodon's FeedManager#unmerge_tag_from_home): its home feed
 * loses the public statuses with that tag — those the tag could have brought — except its own, those of
 * accounts it follows and those carrying another tag it still follows.
 */
export async function unmergeTagFromHome(m: EntityManager, accountId: string, tagId: string): Promise<void> {
  await m.query(
    `DELETE FROM home_feed h USING statuses s
      WHERE h.account_id = $1 AND h.status_id = s.id AND s.account_id <> $1 AND s.visibility = 0
        AND EXISTS (SELECT 1 FROM status_tags st WHERE st.status_id = s.id AND st.tag_id = $2)
        AND NOT EXISTS (SELECT 1 FROM account_relations f
                         WHERE f.kind = 0 AND f.account_id = $1 AND f.target_account_id = s.account_id)
        AND NOT EXISTS (SELECT 1 FROM status_tags other
                          JOIN tag_relations t ON t.tag_id = other.tag_id AND t.kind = $3 AND t.account_id = $1
                         WHERE other.status_id = s.id)`,
    [accountId, tagId, TAG_RELATION.followed],
  );
}
