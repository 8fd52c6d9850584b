import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * What the gateway reads of local accounts and their public statuses, in the caller's tenant
 * transaction. Queries only; what may be shown is decided by the service.
 */
export interface LocalAccountRow {
  id: string;
  /** The actor id, fixed when the account was made (on the tenant's primary domain). */
  uri: string;
  url: string | null;
  username: string;
  display_name: string;
  note: string;
  actor_type: 'Person' | 'Service' | 'Application' | 'Group' | 'Organization';
  locked: boolean;
  discoverable: boolean;
  indexable: boolean;
  memorial: boolean;
  hide_collections: boolean;
  fields: Array<{ name: string; value: string }>;
  avatar: { key: string } | null;
  header: { key: string } | null;
  followers_count: number;
  following_count: number;
  suspended: boolean;
  created_at: Date;
}

export interface StatusRow {
  id: string;
  uri: string;
  url: string | null;
  content: string;
  spoiler_text: string;
  sensitive: boolean;
  language: string | null;
  visibility: number;
  created_at: Date;
  edited_at: Date | null;
  in_reply_to_uri: string | null;
  mentions: Array<{ uri: string; username: string; domain: string | null }> | null;
  tags: string[] | null;
}

const ACCOUNT_COLUMNS = `id::text, uri, url, username, display_name, note, actor_type, locked, discoverable, indexable,
  memorial, hide_collections, fields, avatar, header, followers_count, following_count,
  suspended_at IS NOT NULL AS suspended, created_at`;

// Public (0) and unlisted (1) statuses, as Mastodon shows them to a reader who is not signed in.
const STATUS_COLUMNS = `s.id::text, s.uri, s.url, s.content, s.spoiler_text, s.sensitive, s.language, s.visibility, s.created_at,
  s.edited_at, r.uri AS in_reply_to_uri,
  (SELECT json_agg(json_build_object('uri', ma.uri, 'username', ma.username, 'domain', ma.domain))
     FROM mentions m JOIN accounts ma ON ma.id = m.account_id WHERE m.status_id = s.id AND NOT m.silent) AS mentions,
  (SELECT array_agg(t.name ORDER BY t.name) FROM status_tags st JOIN tags t ON t.id = st.tag_id
    WHERE st.status_id = s.id) AS tags`;

@Injectable()
export class LocalActorsRepository {
  /** A local account by its username (Mastodon's letters, digits and underscores; case-insensitive). */
  async byUsername(m: EntityManager, username: string): Promise<LocalAccountRow | null> {
    const rows = (await m.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts
        WHERE domain IS NULL AND lower(username) = lower($1) AND actor_type <> 'Application'`,
      [username],
    )) as LocalAccountRow[];
    return rows[0] ?? null;
  }

  /** The tenant's instance actor: the Application account provisioning made. */
  async instanceActor(m: EntityManager): Promise<LocalAccountRow | null> {
    const rows = (await m.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE domain IS NULL AND actor_type = 'Application' ORDER BY id LIMIT 1`,
    )) as LocalAccountRow[];
    return rows[0] ?? null;
  }

  async publicStatusCount(m: EntityManager, accountId: string): Promise<number> {
    const [{ n }] = (await m.query(
      `SELECT count(*)::int AS n FROM statuses
        WHERE account_id = $1 AND visibility <= 1 AND reblog_of_id IS NULL AND deleted_at IS NULL`,
      [accountId],
    )) as [{ n: number }];
    return n;
  }

  /**
   * Public and unlisted statuses (not boosts), newest first: older than `maxId`, or the `limit` just
   * newer than `minId` (paging back towards the newest, as Mastodon's `min_id`).
   */
  async publicStatuses(
    m: EntityManager,
    accountId: string,
    range: { maxId: string | null; minId: string | null },
    limit: number,
  ): Promise<StatusRow[]> {
    const rows = (await m.query(
      `SELECT ${STATUS_COLUMNS} FROM statuses s LEFT JOIN statuses r ON r.id = s.in_reply_to_id
        WHERE s.account_id = $1 AND s.visibility <= 1 AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
          AND ($2::bigint IS NULL OR s.id < $2::bigint) AND ($3::bigint IS NULL OR s.id > $3::bigint)
        ORDER BY CASE WHEN $3::bigint IS NULL THEN -s.id ELSE s.id END LIMIT $4`,
      [accountId, range.maxId, range.minId, limit],
    )) as StatusRow[];
    return range.minId === null ? rows : rows.reverse();
  }

  async publicStatus(m: EntityManager, accountId: string, statusId: string): Promise<StatusRow | null> {
    const rows = (await m.query(
      `SELECT ${STATUS_COLUMNS} FROM statuses s LEFT JOIN statuses r ON r.id = s.in_reply_to_id
        WHERE s.id = $2 AND s.account_id = $1 AND s.visibility <= 1 AND s.reblog_of_id IS NULL
          AND s.deleted_at IS NULL`,
      [accountId, statusId],
    )) as StatusRow[];
    return rows[0] ?? null;
  }

  /** Pinned statuses that are public or unlisted, newest pin first (Mastodon's featured collection). */
  async pinnedStatuses(m: EntityManager, accountId: string): Promise<StatusRow[]> {
    return (await m.query(
      `SELECT ${STATUS_COLUMNS} FROM status_reactions p JOIN statuses s ON s.id = p.status_id
         LEFT JOIN statuses r ON r.id = s.in_reply_to_id
        WHERE p.kind = 2 AND p.account_id = $1 AND s.visibility <= 1 AND s.deleted_at IS NULL
        ORDER BY p.id DESC LIMIT 5`,
      [accountId],
    )) as StatusRow[];
  }

  /**
   * Actor ids of followers (`direction: 'followers'`) or of followed accounts, oldest relation first
   * after `afterId`, with the relation id to page on.
   */
  async relations(
    m: EntityManager,
    accountId: string,
    direction: 'followers' | 'following',
    afterId: string | null,
    limit: number,
  ): Promise<Array<{ id: string; uri: string; username: string; domain: string | null }>> {
    const [mine, theirs] =
      direction === 'followers' ? ['target_account_id', 'account_id'] : ['account_id', 'target_account_id'];
    return (await m.query(
      `SELECT r.id::text, a.uri, a.username, a.domain FROM account_relations r JOIN accounts a ON a.id = r.${theirs}
        WHERE r.kind = 0 AND r.${mine} = $1 AND ($2::bigint IS NULL OR r.id > $2::bigint)
        ORDER BY r.id LIMIT $3`,
      [accountId, afterId, limit],
    )) as Array<{ id: string; uri: string; username: string; domain: string | null }>;
  }

  async relationCount(
    m: EntityManager,
    accountId: string,
    direction: 'followers' | 'following',
  ): Promise<number> {
    const mine = direction === 'followers' ? 'target_account_id' : 'account_id';
    const [{ n }] = (await m.query(
      `SELECT count(*)::int AS n FROM account_relations WHERE kind = 0 AND ${mine} = $1`,
      [accountId],
    )) as [{ n: number }];
    return n;
  }
}
