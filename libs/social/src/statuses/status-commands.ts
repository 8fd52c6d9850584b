import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queueNotificationEvents, queueStatusEvent } from '../streaming/stream-events';
import { publicUrl, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import {
  findVisibleStatuses,
  type StatusRecord,
  STATUS_COLUMNS,
  statusRecord,
  type StatusRow,
  VISIBILITIES,
  type Visibility,
} from './status-records';
import {
  checkDescription,
  type MediaRecord,
  mediaOfStatuses,
  ownMedia,
  refuseUnprocessed,
  parseFocus,
} from '../media/media-attachments';
import { recordDirectStatus } from '../conversations/conversations';
import { wantsNotification } from '../notifications/notification-rules';
import { checkPoll, createPoll, editPoll, type PollInput } from '../polls/polls';
import { trimFeedsHolding } from './home-feed';
import { StatusError } from './status-errors';
import { hydrate, type StatusPage } from './status-queries';
import { reachByContent } from '../tags/status-reach';
import { countedLength, hashtagsIn, MAX_STATUS_CHARACTERS, mentionsIn, statusHtml } from './status-text';

export { StatusError } from './status-errors';

export interface PostStatusInput {
  status?: string;
  spoilerText?: string;
  visibility?: string;
  sensitive?: boolean;
  language?: string;
  inReplyToId?: string;
  mediaIds?: string[];
  poll?: PollInput;
}

/** What an edit may change (Mastodon's PUT /api/v1/statuses/:id); absent fields keep their value. */
export interface EditStatusInput {
  status?: string;
  spoilerText?: string;
  sensitive?: boolean;
  language?: string;
  mediaIds?: string[];
  /** Descriptions and focal points of the attachments, changed with the edit. */
  mediaAttributes?: { id: string; description?: string; focus?: string }[];
  /** A poll replaces the status's poll; `null` removes it; left out, the poll stays as it is. */
  poll?: PollInput | null;
}

/** Who posts: the signed-in account, the application its token belongs to, and the tenant's domain. */
export interface Poster {
  accountId: string;
  applicationId: string | null;
  domain: string;
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/**
 * Posting and deleting statuses (Mastodon's PostStatusService and RemoveStatusService), each in one
 * tenant transaction: the status, its mentions and tags, the counters, the fan-out into the home feeds of
 * the local accounts that should see it, and the mention notifications commit together or not at all.
 */
@Injectable()
export class StatusCommands {
  constructor(
    private readonly transactions: TenantTransactions,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /**
   * Posts a status and answers it as its author sees it, read in the posting transaction (one transaction
   * per post, not a second one to read back what the first wrote). With an `idempotencyKey`, the first
   * request with that key and body posts; a repeat with the same body answers the same status; a repeat
   * with another body is refused (422).
   */
  async post(poster: Poster, input: PostStatusInput, idempotencyKey?: string): Promise<StatusPage> {
    const checked = checkPostInput(input);
    const requestHash =
      idempotencyKey === undefined
        ? null
        : digestOf({
            ...input,
            status: checked.text,
            spoilerText: checked.spoiler,
            visibility: checked.visibility,
          });
    return this.transactions.run(async (m) => {
      if (idempotencyKey !== undefined) {
        const earlier = await this.claimKey(m, poster.accountId, idempotencyKey, requestHash!);
        if (earlier) return hydrate(m, [earlier], poster.accountId);
      }
      const status = await this.postIn(m, poster, input, checked);
      if (idempotencyKey !== undefined) {
        await m.query(`UPDATE idempotency_keys SET response = $3 WHERE account_id = $1 AND key = $2`, [
          poster.accountId,
          idempotencyKey,
          JSON.stringify({ status_id: status.id }),
        ]);
      }
      return hydrate(m, [status], poster.accountId);
    });
  }

  /**
   * Posts in the caller's tenant transaction (a scheduled status is published in the transaction that
   * takes its scheduled work). `checked` is what `checkPostInput` made of `input`.
   */
  async postIn(
    m: EntityManager,
    poster: Poster,
    input: PostStatusInput,
    checked: CheckedPost = checkPostInput(input),
  ): Promise<StatusRecord> {
    const { text, spoiler, mediaIds, visibility, poll } = checked;
    const media = await attachableMedia(m, poster.accountId, mediaIds);
    if (text.trim() === '' && media.length === 0) {
      throw new StatusError('validation_failed', "Validation failed: Text can't be blank");
    }
    const parent = input.inReplyToId ? await this.parent(m, input.inReplyToId, poster.accountId) : null;
    const { html, mentionedIds, tags } = await this.compose(m, text, poster.domain);
    const conversationId = parent?.conversationId ?? (await newConversation(m));
    const [{ id, username }] = (await m.query(
      `SELECT platform.next_id()::text AS id, (SELECT username FROM accounts WHERE id = $1) AS username`,
      [poster.accountId],
    )) as { id: string; username: string }[];
    // Local statuses' ids are URLs of the tenant's domain, as ActivityPub needs them.
    await m.query(
      `INSERT INTO statuses (id, account_id, local, text, content, spoiler_text, visibility, sensitive, language,
                             in_reply_to_id, in_reply_to_account_id, conversation_id, application_id,
                             media_attachment_ids, uri, url)
       VALUES ($1, $2, true, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::bigint[], $14, $15)`,
      [
        id,
        poster.accountId,
        text,
        html,
        spoiler,
        VISIBILITIES.indexOf(visibility),
        input.sensitive === true || spoiler !== '',
        input.language || null,
        parent?.id ?? null,
        parent?.accountId ?? null,
        conversationId,
        poster.applicationId,
        media.map((a) => a.id),
        publicUrl(this.config, poster.domain, `/users/${username}/statuses/${id}`),
        publicUrl(this.config, poster.domain, `/@${username}/${id}`),
      ],
    );
    if (media.length > 0) {
      await m.query(`UPDATE media_attachments SET status_id = $1 WHERE id = ANY($2::bigint[])`, [
        id,
        media.map((a) => a.id),
      ]);
    }
    if (poll) await createPoll(m, id, poster.accountId, poll);
    if (mentionedIds.length > 0) {
      await m.query(
        `INSERT INTO mentions (status_id, account_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
        [id, mentionedIds],
      );
    }
    if (tags.length > 0) await linkTags(m, id, tags);
    await m.query(
      `UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = now() WHERE id = $1`,
      [poster.accountId],
    );
    if (parent)
      await m.query(`UPDATE statuses SET replies_count = replies_count + 1 WHERE id = $1`, [parent.id]);
    await fanOut(m, {
      id,
      authorId: poster.accountId,
      visibility,
      replyToAccountId: parent?.accountId ?? null,
      mentioned: mentionedIds,
    });
    await reachByContent(m, id);
    await trimFeedsHolding(m, id);
    await notifyMentioned(m, id, poster.accountId, mentionedIds);
    if (visibility === 'direct')
      await recordDirectStatus(m, id, conversationId, poster.accountId, mentionedIds);
    await queueStatusEvent(m, 'update', id);
    return (await findStatus(m, id))!;
  }

  /** Deletes an own status; returns it with its source text, for "delete and redraft". */
  async delete(accountId: string, statusId: string): Promise<StatusRecord> {
    return this.transactions.run(async (m) => {
      const found = changedRows<StatusRow>(
        await m.query(
          `UPDATE statuses s SET deleted_at = now(), updated_at = now()
            WHERE s.id = $1 AND s.account_id = $2 AND s.deleted_at IS NULL RETURNING ${STATUS_COLUMNS}`,
          [statusId, accountId],
        ),
      );
      if (found.length === 0) throw new StatusError('not_found', 'Record not found');
      const status = statusRecord(found[0]);
      await queueStatusEvent(m, 'delete', statusId);
      await m.query(`DELETE FROM home_feed WHERE status_id = $1`, [statusId]);
      await m.query(`DELETE FROM notifications WHERE status_id = $1`, [statusId]);
      // As in Mastodon, a deleted status lets go of its media: a redraft may attach them again, and
      // otherwise the sweep of unattached media removes them with their files.
      await m.query(`UPDATE media_attachments SET status_id = NULL WHERE status_id = $1`, [statusId]);
      await m.query(`UPDATE accounts SET statuses_count = greatest(statuses_count - 1, 0) WHERE id = $1`, [
        accountId,
      ]);
      if (status.inReplyToId) {
        await m.query(`UPDATE statuses SET replies_count = greatest(replies_count - 1, 0) WHERE id = $1`, [
          status.inReplyToId,
        ]);
      }
      return status;
    });
  }

  /**
   * Edits an own status (Mastodon's UpdateStatusService): text, content warning, sensitivity, language
   * and attachments change, visibility and the reply never do. The first edit records the original
   * version in the history, and every edit records the new one; an edit that changes nothing records
   * nothing and answers the status as it was. Accounts mentioned for the first time are notified;
   * local accounts that boosted the status get an `update` notification.
   */
  async edit(editor: Poster, statusId: string, input: EditStatusInput): Promise<StatusRecord> {
    if (!/^\d{1,19}$/.test(statusId)) throw new StatusError('not_found', 'Record not found');
    return this.transactions.run(async (m) => {
      const [current] = (
        (await m.query(
          `SELECT ${STATUS_COLUMNS} FROM statuses s
            WHERE s.id = $1 AND s.account_id = $2 AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL
            FOR UPDATE`,
          [statusId, editor.accountId],
        )) as StatusRow[]
      ).map(statusRecord);
      if (!current) throw new StatusError('not_found', 'Record not found');
      // As Mastodon: a field left out keeps its value.
      const { text, spoiler, mediaIds } = checkStatusInput(
        {
          ...input,
          status: input.status ?? current.text,
          spoilerText: input.spoilerText ?? current.spoilerText,
          mediaIds: input.mediaIds ?? current.mediaIds,
        },
        [],
      );
      const media =
        input.mediaIds === undefined
          ? ((await mediaOfStatuses(m, [current])).get(current.id) ?? [])
          : await attachableMedia(m, editor.accountId, mediaIds, current.id);
      if (text.trim() === '' && media.length === 0) {
        throw new StatusError('validation_failed', "Validation failed: Text can't be blank");
      }
      const poll = checkStatusPoll(input.poll, media.length);
      const attributes = (input.mediaAttributes ?? [])
        .filter((c) => media.some((a) => a.id === c.id))
        .map((c) => ({
          id: c.id,
          description: c.description === undefined ? undefined : checkDescription(c.description),
          focus: c.focus === undefined ? undefined : parseFocus(c.focus),
        }));
      const next = {
        text,
        spoiler,
        sensitive:
          input.sensitive === undefined && input.spoilerText === undefined
            ? current.sensitive
            : input.sensitive === true || spoiler !== '',
        language: input.language === undefined || input.language === '' ? current.language : input.language,
        mediaIds: media.map((a) => a.id),
      };
      const changed =
        next.text !== current.text ||
        next.spoiler !== current.spoilerText ||
        next.sensitive !== current.sensitive ||
        next.language !== current.language ||
        next.mediaIds.join() !== current.mediaIds.join() ||
        attributes.length > 0;
      // The original version goes into the history before anything changes, the poll included.
      const [{ edits }] = (await m.query(
        `SELECT count(*)::int AS edits FROM status_edits WHERE status_id = $1`,
        [statusId],
      )) as { edits: number }[];
      if (edits === 0 && (changed || (poll === null ? current.pollId !== null : poll !== undefined))) {
        await recordEdit(m, current.id, editor.accountId, current.createdAt);
      }
      const pollChanged = poll !== undefined && (await editPoll(m, statusId, editor.accountId, poll));
      if (!changed && !pollChanged) return current;

      for (const change of attributes) {
        await m.query(
          `UPDATE media_attachments SET description = coalesce($2, description),
                  focus_x = CASE WHEN $3::boolean THEN $4 ELSE focus_x END,
                  focus_y = CASE WHEN $3::boolean THEN $5 ELSE focus_y END
            WHERE id = $1`,
          [
            change.id,
            change.description ?? null,
            change.focus !== undefined,
            change.focus?.x ?? null,
            change.focus?.y ?? null,
          ],
        );
      }
      const { html, mentionedIds, tags } = await this.compose(m, text, editor.domain);
      await m.query(
        `UPDATE statuses SET text = $2, content = $3, spoiler_text = $4, sensitive = $5, language = $6,
                media_attachment_ids = $7::bigint[], edited_at = now(), updated_at = now()
          WHERE id = $1`,
        [statusId, text, html, spoiler, next.sensitive, next.language, next.mediaIds],
      );
      // Media taken out in an edit stay the status's, as in Mastodon: its history still shows them, and
      // the sweep of unattached media must not remove them.
      if (next.mediaIds.length > 0) {
        await m.query(`UPDATE media_attachments SET status_id = $1 WHERE id = ANY($2::bigint[])`, [
          statusId,
          next.mediaIds,
        ]);
      }
      const newlyMentioned = mentionedIds.filter((id) => !current.mentions.includes(id));
      await m.query(`DELETE FROM mentions WHERE status_id = $1 AND NOT (account_id = ANY($2::bigint[]))`, [
        statusId,
        mentionedIds,
      ]);
      if (newlyMentioned.length > 0) {
        await m.query(
          `INSERT INTO mentions (status_id, account_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
          [statusId, newlyMentioned],
        );
      }
      await m.query(`DELETE FROM status_tags WHERE status_id = $1`, [statusId]);
      if (tags.length > 0) await linkTags(m, statusId, tags);
      await reachByContent(m, statusId);
      await recordEdit(m, statusId, editor.accountId, null);
      await notifyMentioned(m, statusId, editor.accountId, newlyMentioned);
      queueNotificationEvents(
        m,
        (await m.query(
          `INSERT INTO notifications (account_id, from_account_id, type, status_id)
         SELECT DISTINCT b.account_id, $2::bigint, 'update', $1::bigint
           FROM statuses b JOIN accounts a ON a.id = b.account_id AND a.domain IS NULL
          WHERE b.reblog_of_id = $1 AND b.deleted_at IS NULL AND b.account_id <> $2
            AND ${wantsNotification('b.account_id', '$2::bigint', '$1::bigint')}
           RETURNING id::text, account_id::text`,
          [statusId, editor.accountId],
        )) as { id: string; account_id: string }[],
      );
      await queueStatusEvent(m, 'status.update', statusId);
      return (await findStatus(m, statusId))!;
    });
  }

  /** The HTML of a status's text, with its local mentions and hashtags linked, and what it mentions. */
  private async compose(
    m: EntityManager,
    text: string,
    domain: string,
  ): Promise<{ html: string; mentionedIds: string[]; tags: string[] }> {
    const mentioned = await resolveMentions(m, mentionsIn(text), (username) =>
      publicUrl(this.config, domain, `/@${username}`),
    );
    const html = statusHtml(
      text,
      (t) => mentioned.get(key(t))?.url,
      (tag) => publicUrl(this.config, domain, `/tags/${encodeURIComponent(tag.toLowerCase())}`),
    );
    return {
      html,
      mentionedIds: [...new Set([...mentioned.values()].map((a) => a.id))],
      tags: hashtagsIn(text),
    };
  }

  /** The status replied to, which the poster must be allowed to see (else, as Mastodon, 404). */
  private async parent(m: EntityManager, id: string, viewer: string): Promise<StatusRecord> {
    if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
    const [parent] = await findVisibleStatuses(m, [id], viewer);
    if (!parent) throw new StatusError('not_found', 'Record not found');
    return parent;
  }

  /**
   * Reserves the key for this request in the posting transaction. An earlier request with the key
   * committed its status (returned here) or is still running (its row lock makes this wait for it).
   */
  private async claimKey(
    m: EntityManager,
    accountId: string,
    idempotencyKey: string,
    hash: Buffer,
  ): Promise<StatusRecord | null> {
    const inserted = (await m.query(
      `INSERT INTO idempotency_keys (account_id, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (account_id, key) DO NOTHING RETURNING 1`,
      [accountId, idempotencyKey, hash],
    )) as unknown[];
    if (inserted.length > 0) return null;
    const [earlier] = (await m.query(
      `SELECT request_hash, response FROM idempotency_keys WHERE account_id = $1 AND key = $2`,
      [accountId, idempotencyKey],
    )) as { request_hash: Buffer; response: { status_id: string } | null }[];
    if (!earlier.request_hash.equals(hash)) {
      throw new StatusError(
        'idempotency_conflict',
        'Idempotency-Key was already used for a different request',
      );
    }
    const status = earlier.response ? await findStatus(m, earlier.response.status_id) : null;
    if (!status || status.deletedAt !== null) throw new StatusError('not_found', 'Record not found');
    return status;
  }
}

/** Mastodon's Status::MEDIA_ATTACHMENTS_LIMIT, as the instance entity announces it. */
export const MAX_MEDIA_ATTACHMENTS = 4;

/**
 * The poster's unattached media with these ids, in the order given, locked until the status commits so
 * that two statuses cannot take the same attachment. As Mastodon 4.3 does, ids that are not the
 * poster's or are already attached are left out; media still processing refuse the post.
 */
async function attachableMedia(
  m: EntityManager,
  accountId: string,
  ids: readonly string[],
  editedStatusId: string | null = null,
): Promise<MediaRecord[]> {
  const found = (await ownMedia(m, accountId, ids, { lock: true })).filter(
    (a) => a.statusId === null || a.statusId === editedStatusId,
  );
  const byId = new Map(found.map((a) => [a.id, a]));
  const media = [...new Set(ids)].map((id) => byId.get(id)).filter((a): a is MediaRecord => a !== undefined);
  if (media.length > 1 && media.some((a) => a.type === 'video' || a.type === 'audio' || a.type === 'gifv')) {
    throw new StatusError(
      'validation_failed',
      'Validation failed: Cannot attach a video to a post that already contains images',
    );
  }
  refuseUnprocessed(media);
  return media;
}

function key(t: { username: string; domain: string | null }): string {
  return `${t.username.toLowerCase()}@${t.domain ?? ''}`;
}

/** Mentioned accounts this tenant knows (local ones by username; remote ones once fetched). */
async function resolveMentions(
  m: EntityManager,
  tokens: { username: string; domain: string | null }[],
  localProfile: (username: string) => string,
): Promise<Map<string, { id: string; url: string }>> {
  if (tokens.length === 0) return new Map();
  const rows = (await m.query(
    `SELECT a.id::text, lower(a.username) AS username, a.username AS name, a.domain, coalesce(a.url, a.uri) AS url
       FROM accounts a
       JOIN unnest($1::text[], $2::text[]) AS t(username, domain)
         ON lower(a.username) = lower(t.username) AND coalesce(lower(a.domain), '') = coalesce(t.domain, '')
      WHERE a.suspended_at IS NULL`,
    [tokens.map((t) => t.username), tokens.map((t) => t.domain ?? '')],
  )) as { id: string; username: string; name: string; domain: string | null; url: string }[];
  // A local account's profile is where the tenant's domain is now, not where it was when created.
  return new Map(
    rows.map((r) => [
      `${r.username}@${r.domain ?? ''}`,
      { id: r.id, url: r.domain === null ? localProfile(r.name) : r.url },
    ]),
  );
}

async function newConversation(m: EntityManager): Promise<string> {
  const [row] = (await m.query(`INSERT INTO conversations DEFAULT VALUES RETURNING id::text`)) as {
    id: string;
  }[];
  return row.id;
}

async function linkTags(m: EntityManager, statusId: string, tags: string[]): Promise<void> {
  await m.query(
    `WITH wanted AS (SELECT DISTINCT ON (lower(t)) t FROM unnest($2::text[]) AS t),
          created AS (INSERT INTO tags (name, display_name) SELECT t, t FROM wanted
                      ON CONFLICT (lower(name)) DO NOTHING RETURNING id),
          existing AS (SELECT tags.id FROM tags JOIN wanted ON lower(tags.name) = lower(wanted.t))
     INSERT INTO status_tags (tag_id, status_id)
       SELECT id, $1::bigint FROM created UNION SELECT id, $1::bigint FROM existing
     ON CONFLICT DO NOTHING`,
    [statusId, tags],
  );
  await m.query(
    `UPDATE tags SET last_status_at = now() WHERE id IN (SELECT tag_id FROM status_tags WHERE status_id = $1)`,
    [statusId],
  );
}

/**
 * Into the home feeds of the local accounts that should see the status, in the posting transaction
 * (Mastodon's FanOutOnWriteService): the author's own; for public, unlisted and private statuses its
 * local followers' — a reply to someone else only to followers who follow that account too; for direct
 * ones, the local accounts it mentions.
 */
async function fanOut(
  m: EntityManager,
  s: {
    id: string;
    authorId: string;
    visibility: Visibility;
    replyToAccountId: string | null;
    mentioned: string[];
  },
): Promise<void> {
  const replyToOther = s.replyToAccountId !== null && s.replyToAccountId !== s.authorId;
  await m.query(
    `INSERT INTO home_feed (account_id, status_id)
     SELECT $2::bigint, $1::bigint
     UNION
     SELECT f.account_id, $1 FROM account_relations f JOIN accounts a ON a.id = f.account_id AND a.domain IS NULL
      WHERE $3::boolean AND f.kind = 0 AND f.target_account_id = $2
        AND (NOT $4::boolean OR EXISTS (SELECT 1 FROM account_relations g
              WHERE g.kind = 0 AND g.account_id = f.account_id AND g.target_account_id = $5))
     UNION
     SELECT a.id, $1 FROM accounts a WHERE $6::boolean AND a.id = ANY($7::bigint[]) AND a.domain IS NULL
     ON CONFLICT DO NOTHING`,
    [
      s.id,
      s.authorId,
      s.visibility !== 'direct',
      replyToOther,
      s.replyToAccountId,
      s.visibility === 'direct',
      s.mentioned,
    ],
  );
}

/** A mention notification for every local account mentioned, unless it blocks or mutes the author. */
async function notifyMentioned(
  m: EntityManager,
  statusId: string,
  authorId: string,
  mentioned: string[],
): Promise<void> {
  if (mentioned.length === 0) return;
  queueNotificationEvents(
    m,
    (await m.query(
      `INSERT INTO notifications (account_id, from_account_id, type, status_id)
     SELECT a.id, $2, 'mention', $1 FROM accounts a
      WHERE a.id = ANY($3::bigint[]) AND a.domain IS NULL AND a.id <> $2
        -- Mentions from muted accounts are dropped whatever the mute's notification option, as Mastodon does.
        AND NOT EXISTS (SELECT 1 FROM account_relations r
                         WHERE r.kind = 3 AND r.account_id = a.id AND r.target_account_id = $2)
        AND ${wantsNotification('a.id', '$2::bigint', '$1::bigint')}
       RETURNING id::text, account_id::text`,
      [statusId, authorId, mentioned],
    )) as { id: string; account_id: string }[],
  );
}

export async function findStatus(m: EntityManager, id: string): Promise<StatusRecord | null> {
  const rows = (await m.query(`SELECT ${STATUS_COLUMNS} FROM statuses s WHERE s.id = $1`, [
    id,
  ])) as StatusRow[];
  return rows[0] ? statusRecord(rows[0]) : null;
}

function digestOf(input: unknown): Buffer {
  return createHash('sha256').update(JSON.stringify(input)).digest();
}

export type CheckedPost = ReturnType<typeof checkPostInput>;

/** A new status's fields checked, before any transaction: text, visibility, media, poll. */
export function checkPostInput(input: PostStatusInput) {
  const visibility = (input.visibility ?? 'public') as Visibility;
  const { text, spoiler, mediaIds } = checkStatusInput(
    input,
    VISIBILITIES.includes(visibility) ? [] : ['Visibility is not included in the list'],
  );
  const poll = checkStatusPoll(input.poll, mediaIds.length) ?? null;
  return { text, spoiler, mediaIds, visibility, poll };
}

/**
 * A status's poll checked as Mastodon's PollValidator does, and refused beside attachments (a status has
 * one or the other); no poll (`undefined`) and a removed one (`null`) pass as they are.
 */
function checkStatusPoll<T extends null | undefined>(
  poll: PollInput | T,
  attachments: number,
): ReturnType<typeof checkPoll> | T {
  if (poll === undefined || poll === null) return poll as T;
  if (attachments > 0) {
    throw new StatusError(
      'validation_failed',
      'Validation failed: Cannot attach files to a post with a poll',
    );
  }
  return checkPoll(poll);
}

/** Text, content warning and attachments as a new status or an edit carries them, checked. */
function checkStatusInput(
  input: { status?: string; spoilerText?: string; language?: string; mediaIds?: string[] },
  problems: string[],
): { text: string; spoiler: string; mediaIds: string[] } {
  const text = (input.status ?? '').replace(/\r\n?/g, '\n');
  const spoiler = (input.spoilerText ?? '').trim();
  const mediaIds = input.mediaIds ?? [];
  if (text.trim() === '' && mediaIds.length === 0) problems.push("Text can't be blank");
  if (countedLength(text) + countedLength(spoiler) > MAX_STATUS_CHARACTERS) {
    problems.push(`Text character limit of ${MAX_STATUS_CHARACTERS} exceeded`);
  }
  if (input.language !== undefined && input.language !== '' && !LANGUAGE.test(input.language)) {
    problems.push('Language is not a valid language code');
  }
  if (mediaIds.length > MAX_MEDIA_ATTACHMENTS)
    problems.push(`Cannot attach more than ${MAX_MEDIA_ATTACHMENTS} files`);
  if (problems.length > 0)
    throw new StatusError('validation_failed', `Validation failed: ${problems.join(', ')}`);
  return { text, spoiler, mediaIds };
}

/**
 * One version in a status's history: the status as it is now, with its attachments' descriptions. The
 * first edit records the original (dated when it was posted) before changing anything.
 */
async function recordEdit(
  m: EntityManager,
  statusId: string,
  accountId: string,
  at: Date | null,
): Promise<void> {
  await m.query(
    `INSERT INTO status_edits (status_id, account_id, text, content, spoiler_text, sensitive, media, poll, created_at)
     SELECT s.id, $2, s.text, s.content, s.spoiler_text, s.sensitive,
            coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id::text, 'description', a.description)
                                       ORDER BY array_position(s.media_attachment_ids, a.id))
                        FROM media_attachments a WHERE a.id = ANY(s.media_attachment_ids)), '[]'),
            (SELECT jsonb_build_object('options', to_jsonb(p.options)) FROM polls p WHERE p.id = s.poll_id),
            coalesce($3::timestamptz, now())
       FROM statuses s WHERE s.id = $1`,
    [statusId, accountId, at],
  );
}
