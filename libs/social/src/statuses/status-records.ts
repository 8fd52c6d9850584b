import type { EntityManager } from 'typeorm';
import { preparedQuery } from '@townhall/persistence';

export const VISIBILITIES = ['public', 'unlisted', 'private', 'direct'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** A status as the client API presents it. */
export interface StatusRecord {
  id: string;
  accountId: string;
  uri: string | null;
  url: string | null;
  local: boolean;
  text: string;
  content: string;
  spoilerText: string;
  visibility: Visibility;
  sensitive: boolean;
  language: string | null;
  inReplyToId: string | null;
  inReplyToAccountId: string | null;
  reblogOfId: string | null;
  conversationId: string | null;
  applicationId: string | null;
  repliesCount: number;
  reblogsCount: number;
  favouritesCount: number;
  editedAt: Date | null;
  deletedAt: Date | null;
  createdAt: Date;
  mentions: string[];
  tags: string[];
  /** The attachments' ids, in the order the author gave them. */
  mediaIds: string[];
  pollId: string | null;
}

export const STATUS_COLUMNS = `s.id::text, s.account_id::text, s.uri, s.url, s.local, s.text, s.content, s.spoiler_text,
  s.visibility, s.sensitive, s.language, s.in_reply_to_id::text, s.in_reply_to_account_id::text,
  s.reblog_of_id::text, s.conversation_id::text, s.application_id::text, s.replies_count, s.reblogs_count,
  s.favourites_count, s.edited_at, s.deleted_at, s.created_at, s.media_attachment_ids::text[] AS media_ids, s.poll_id::text,
  ARRAY(SELECT m.account_id::text FROM mentions m WHERE m.status_id = s.id ORDER BY m.account_id) AS mentions,
  ARRAY(SELECT t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id ORDER BY t.name) AS tags`;

export type StatusRow = {
  id: string;
  account_id: string;
  uri: string | null;
  url: string | null;
  local: boolean;
  text: string;
  content: string;
  spoiler_text: string;
  visibility: number;
  sensitive: boolean;
  language: string | null;
  in_reply_to_id: string | null;
  in_reply_to_account_id: string | null;
  reblog_of_id: string | null;
  conversation_id: string | null;
  application_id: string | null;
  replies_count: number;
  reblogs_count: number;
  favourites_count: number;
  edited_at: Date | null;
  deleted_at: Date | null;
  created_at: Date;
  mentions: string[];
  tags: string[];
  media_ids: string[];
  poll_id: string | null;
};

export function statusRecord(r: StatusRow): StatusRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    uri: r.uri,
    url: r.url,
    local: r.local,
    text: r.text,
    content: r.content,
    spoilerText: r.spoiler_text,
    visibility: VISIBILITIES[r.visibility],
    sensitive: r.sensitive,
    language: r.language,
    inReplyToId: r.in_reply_to_id,
    inReplyToAccountId: r.in_reply_to_account_id,
    reblogOfId: r.reblog_of_id,
    conversationId: r.conversation_id,
    applicationId: r.application_id,
    repliesCount: r.replies_count,
    reblogsCount: r.reblogs_count,
    favouritesCount: r.favourites_count,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
    createdAt: r.created_at,
    mentions: r.mentions,
    tags: r.tags,
    mediaIds: r.media_ids,
    pollId: r.poll_id,
  };
}

/**
 * The SQL condition "the viewer may see status `s`", for every read path (Mastodon's StatusPolicy):
 * public and unlisted to everyone, private to the author and accepted followers, direct to the author
 * and those it mentions; never a deleted status, nor one whose author blocks the viewer or is blocked
 * by them. `$viewer` is a bind parameter holding the viewer's account id, or null for nobody signed in.
 */
export function visibleTo(viewer: string): string {
  return `(s.deleted_at IS NULL
    AND (s.visibility <= 1
      OR s.account_id = ${viewer}
      OR (s.visibility = 2 AND EXISTS (SELECT 1 FROM account_relations f
            WHERE f.kind = 0 AND f.account_id = ${viewer} AND f.target_account_id = s.account_id))
      OR (s.visibility = 3 AND EXISTS (SELECT 1 FROM mentions mv
            WHERE mv.status_id = s.id AND mv.account_id = ${viewer})))
    AND (${viewer}::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM account_relations b
          WHERE b.kind = 2 AND ((b.account_id = s.account_id AND b.target_account_id = ${viewer})
                             OR (b.account_id = ${viewer} AND b.target_account_id = s.account_id)))))`;
}

/**
 * The SQL condition "the viewer has not chosen to stop seeing status `s`" (Mastodon's StatusFilter), for
 * timelines, threads and search — not for a status asked for by id, which Mastodon still shows: it is
 * not by an account the viewer mutes (until the mute expires), nor by an account on a domain the viewer
 * blocks unless the viewer follows that account. The viewer's own statuses always pass; with nobody
 * signed in (`$viewer` null) nothing is hidden.
 */
export function notHiddenFrom(viewer: string): string {
  return `(${viewer}::bigint IS NULL OR s.account_id = ${viewer} OR (
    NOT EXISTS (SELECT 1 FROM account_relations mu
                 WHERE mu.kind = 3 AND mu.account_id = ${viewer} AND mu.target_account_id = s.account_id
                   AND (mu.expires_at IS NULL OR mu.expires_at > now()))
    AND NOT EXISTS (SELECT 1 FROM account_domain_blocks db JOIN accounts da ON da.domain = db.domain
                     WHERE db.account_id = ${viewer} AND da.id = s.account_id
                       AND NOT EXISTS (SELECT 1 FROM account_relations df
                                        WHERE df.kind = 0 AND df.account_id = ${viewer}
                                          AND df.target_account_id = s.account_id))))`;
}

/** Statuses by id, in the order asked for, that the viewer may see. */
export async function findVisibleStatuses(
  m: EntityManager,
  ids: readonly string[],
  viewer: string | null,
): Promise<StatusRecord[]> {
  if (ids.length === 0) return [];
  const rows = await preparedQuery<StatusRow>(
    m,
    `SELECT ${STATUS_COLUMNS} FROM statuses s WHERE s.id = ANY($1::bigint[]) AND ${visibleTo('$2::bigint')}`,
    [ids, viewer],
  );
  const byId = new Map(rows.map((r) => [r.id, statusRecord(r)]));
  return ids.map((id) => byId.get(id)).filter((s): s is StatusRecord => s !== undefined);
}

/** Mastodon's page: `limit` items in id order before `maxId`, after `sinceId`, or right after `minId`. */
export interface PageRequest {
  maxId?: string;
  sinceId?: string;
  minId?: string;
  limit: number;
}

/**
 * The ORDER BY and id bounds of a page over a column holding status ids: newest first, except with
 * `min_id`, which pages forward from that id (oldest first), then is shown newest first as Mastodon does.
 */
export function pageBounds(
  column: string,
  page: PageRequest,
  firstParam: number,
): { where: string; order: string; params: string[] } {
  const where: string[] = [];
  const params: string[] = [];
  const param = (v: string) => {
    params.push(v);
    return `$${firstParam + params.length - 1}::bigint`;
  };
  if (page.maxId) where.push(`${column} < ${param(page.maxId)}`);
  if (page.sinceId) where.push(`${column} > ${param(page.sinceId)}`);
  if (page.minId) where.push(`${column} > ${param(page.minId)}`);
  return {
    where: where.length ? where.join(' AND ') : 'true',
    order: page.minId ? `${column} ASC` : `${column} DESC`,
    params,
  };
}
