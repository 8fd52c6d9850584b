import { Injectable } from '@nestjs/common';
import { defineErrors } from '@townhall/core';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import type { EntityManager } from 'typeorm';
import { type AccountRecord, findAccount } from '../accounts/account-records';
import { unmergeTagFromHome } from './status-reach';
import { isTagName, tagNameFrom } from './tag-names';
import { findOrCreateTag, findTag, TAG_RELATION, type TagRow, type TagView, tagViews } from './tag-records';

/** The errors of hashtags, followed and featured, with Mastodon's statuses and wording. */
export class TagError extends defineErrors({
  missing_param: { status: 400, title: 'Bad request' },
  not_found: { status: 404, title: 'Record not found' },
  validation_failed: { status: 422, title: 'Validation failed' },
}) {}

/** A tag an account shows on its profile (Mastodon's FeaturedTag), with its use by that account. */
export interface FeaturedTag {
  id: string;
  name: string;
  /** The account's public and unlisted statuses with the tag. */
  statusesCount: number;
  lastStatusAt: Date | null;
}

/** Mastodon's FeaturedTag::LIMIT for local accounts. */
export const MAX_FEATURED_TAGS = 10;

/** Mastodon's Tag::RECENT_STATUS_LIMIT: suggestions come from this many of the account's newest statuses. */
const RECENT_STATUSES = 1000;

/**
 * Hashtags for the client API (Mastodon's TagsController, FollowedTagsController, FeaturedTagsController
 * and their services): a tag with its usage, following and unfollowing one, the tags an account features
 * on its profile. A name that is not a hashtag is not found (404), as Mastodon answers.
 */
@Injectable()
export class Tags {
  constructor(private readonly transactions: TenantTransactions) {}

  /** A tag by name; one nobody has used yet is answered too, with no usage. */
  show(rawName: string, viewer: string | null): Promise<TagView> {
    const name = validName(rawName);
    return this.transactions.run(async (m) => {
      const tag = await findTag(m, name);
      return (await tagViews(m, [tag ? viewOf(tag) : { id: null, name }], viewer))[0];
    });
  }

  /** Follows a tag (idempotent): its public statuses will reach the viewer's home feed. */
  follow(viewer: string, rawName: string): Promise<TagView> {
    const name = validName(rawName);
    return this.transactions.run(async (m) => {
      const tag = await findOrCreateTag(m, name);
      await m.query(
        `INSERT INTO tag_relations (kind, account_id, tag_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [TAG_RELATION.followed, viewer, tag.id],
      );
      return (await tagViews(m, [viewOf(tag)], viewer))[0];
    });
  }

  /** Stops following a tag (idempotent); what it brought into the home feed leaves it. */
  unfollow(viewer: string, rawName: string): Promise<TagView> {
    const name = validName(rawName);
    return this.transactions.run(async (m) => {
      const tag = await findTag(m, name);
      if (!tag) return (await tagViews(m, [{ id: null, name }], viewer))[0];
      const removed = changedRows(
        await m.query(
          `DELETE FROM tag_relations WHERE kind = $1 AND account_id = $2 AND tag_id = $3 RETURNING 1`,
          [TAG_RELATION.followed, viewer, tag.id],
        ),
      );
      if (removed.length > 0) await unmergeTagFromHome(m, viewer, tag.id);
      return (await tagViews(m, [viewOf(tag)], viewer))[0];
    });
  }

  /** The tags the viewer follows, newest follow first, paged by the follow's id. */
  followed(
    viewer: string,
    page: { maxId?: string; sinceId?: string; minId?: string; limit: number },
  ): Promise<{ tags: TagView[]; cursorIds: string[] }> {
    return this.transactions.run(async (m) => {
      const rows = (await m.query(
        `SELECT r.id::text AS relation_id, t.id::text, t.name, t.display_name
           FROM tag_relations r JOIN tags t ON t.id = r.tag_id
          WHERE r.kind = $1 AND r.account_id = $2
            AND ($3::bigint IS NULL OR r.id < $3) AND ($4::bigint IS NULL OR r.id > $4)
            AND ($5::bigint IS NULL OR r.id > $5)
          ORDER BY CASE WHEN $5::bigint IS NULL THEN -r.id ELSE r.id END
          LIMIT $6`,
        [
          TAG_RELATION.followed,
          viewer,
          page.maxId ?? null,
          page.sinceId ?? null,
          page.minId ?? null,
          page.limit,
        ],
      )) as (TagRow & { relation_id: string })[];
      rows.sort((a, b) => (BigInt(b.relation_id) > BigInt(a.relation_id) ? 1 : -1));
      return {
        tags: await tagViews(m, rows.map(viewOf), viewer),
        cursorIds: rows.map((r) => r.relation_id),
      };
    });
  }

  /** The tags an account features, most used first; none for a suspended account. */
  featuredBy(accountId: string): Promise<{ account: AccountRecord; featured: FeaturedTag[] }> {
    return this.transactions.run(async (m) => {
      const account = /^\d{1,19}$/.test(accountId) ? await findAccount(m, accountId) : null;
      if (!account) throw new TagError('not_found', 'Record not found');
      return { account, featured: account.suspendedAt ? [] : await featuredTags(m, account.id) };
    });
  }

  /**
   * Features a tag on the viewer's profile (Mastodon's CreateFeaturedTagService): a valid name, at most
   * ten; featuring a tag that is featured already answers it as it is.
   */
  feature(viewer: string, rawName: string): Promise<{ account: AccountRecord; featured: FeaturedTag }> {
    const name = tagNameFrom(rawName);
    if (!isTagName(name)) throw new TagError('validation_failed', 'Validation failed: Name is invalid');
    return this.transactions.run(async (m) => {
      // Serialises this account's features, so that two at once cannot pass the limit together.
      const account = (await findAccountForUpdate(m, viewer))!;
      const tag = await findOrCreateTag(m, name);
      const existing = (await featuredTags(m, viewer)).find(
        (f) => f.name.toLowerCase() === tag.name.toLowerCase(),
      );
      if (existing) return { account, featured: existing };
      const [{ count }] = (await m.query(
        `SELECT count(*)::int AS count FROM tag_relations WHERE kind = $1 AND account_id = $2`,
        [TAG_RELATION.featured, viewer],
      )) as { count: number }[];
      if (count >= MAX_FEATURED_TAGS) {
        throw new TagError(
          'validation_failed',
          'Validation failed: You have already featured the maximum number of hashtags',
        );
      }
      await m.query(`INSERT INTO tag_relations (kind, account_id, tag_id) VALUES ($1, $2, $3)`, [
        TAG_RELATION.featured,
        viewer,
        tag.id,
      ]);
      const featured = (await featuredTags(m, viewer)).find((f) => f.name === tag.display_name)!;
      return { account, featured };
    });
  }

  /** Stops featuring a tag, by the featured tag's id (404 for an id that is not one of the viewer's). */
  async unfeature(viewer: string, id: string): Promise<void> {
    if (!/^\d{1,19}$/.test(id)) throw new TagError('not_found', 'Record not found');
    const removed = await this.transactions.run(async (m) =>
      changedRows(
        await m.query(
          `DELETE FROM tag_relations WHERE id = $1 AND kind = $2 AND account_id = $3 RETURNING 1`,
          [id, TAG_RELATION.featured, viewer],
        ),
      ),
    );
    if (removed.length === 0) throw new TagError('not_found', 'Record not found');
  }

  /** Tags the viewer used most in their recent statuses and does not feature yet (at most ten). */
  suggestions(viewer: string): Promise<TagView[]> {
    return this.transactions.run(async (m) => {
      const rows = (await m.query(
        `SELECT t.id::text, t.name, t.display_name
           FROM tags t JOIN status_tags st ON st.tag_id = t.id
          WHERE st.status_id IN (SELECT s.id FROM statuses s WHERE s.account_id = $1 AND s.deleted_at IS NULL
                                  ORDER BY s.id DESC LIMIT $2)
            AND NOT EXISTS (SELECT 1 FROM tag_relations r WHERE r.kind = $3 AND r.account_id = $1 AND r.tag_id = t.id)
          GROUP BY t.id ORDER BY count(*) DESC, t.id LIMIT 10`,
        [viewer, RECENT_STATUSES, TAG_RELATION.featured],
      )) as TagRow[];
      return tagViews(m, rows.map(viewOf), viewer);
    });
  }
}

function validName(raw: string): string {
  const name = tagNameFrom(raw);
  if (!isTagName(name)) throw new TagError('not_found', 'Record not found');
  return name;
}

function viewOf(tag: TagRow): { id: string; name: string } {
  return { id: tag.id, name: tag.display_name };
}

async function findAccountForUpdate(m: EntityManager, id: string): Promise<AccountRecord | null> {
  await m.query(`SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, [id]);
  return findAccount(m, id);
}

/**
 * An account's featured tags with their use, computed from its statuses (Mastodon keeps counters; these
 * stay right through edits and deletions without any): public and unlisted statuses, not deleted.
 */
async function featuredTags(m: EntityManager, accountId: string): Promise<FeaturedTag[]> {
  const rows = (await m.query(
    `SELECT r.id::text, t.display_name AS name, u.statuses_count, u.last_status_at
       FROM tag_relations r
       JOIN tags t ON t.id = r.tag_id
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS statuses_count, max(s.created_at) AS last_status_at
           FROM status_tags st JOIN statuses s ON s.id = st.status_id
          WHERE st.tag_id = r.tag_id AND s.account_id = r.account_id
            AND s.visibility IN (0, 1) AND s.deleted_at IS NULL) u
      WHERE r.kind = $1 AND r.account_id = $2
      ORDER BY u.statuses_count DESC, r.id`,
    [TAG_RELATION.featured, accountId],
  )) as { id: string; name: string; statuses_count: number; last_status_at: Date | null }[];
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    statusesCount: r.statuses_count,
    lastStatusAt: r.last_status_at,
  }));
}
