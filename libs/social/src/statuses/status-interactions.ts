import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { type AccountRecord, findAccounts } from '../accounts/account-records';
import { notify } from '../relationships/relationships';
import { trimFeedsHolding } from './home-feed';
import { StatusError } from './status-errors';
import {
  findVisibleStatuses,
  type PageRequest,
  pageBounds,
  type StatusRecord,
  STATUS_COLUMNS,
  statusRecord,
  type StatusRow,
  notHiddenFrom,
  visibleTo,
} from './status-records';
import { hydrate, type StatusPage } from './status-queries';

/** Mastodon's limit on pinned statuses, as the instance entity announces it. */
export const MAX_PINNED_STATUSES = 5;

/** Kinds of `status_reactions` rows. */
const REACTION = { favourite: 0, bookmark: 1, pin: 2 } as const;

/**
 * What an account does with a status it can see: favourite, reblog, bookmark, pin, and their undos
 * (Mastodon's FavouriteService, ReblogService, …). Each answers the status as the actor now sees it.
 * A status the actor may not see is 404, whatever the action.
 */
@Injectable()
export class StatusInteractions {
  constructor(private readonly transactions: TenantTransactions) {}

  favourite(actor: string, id: string): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      const added = (await m.query(
        `INSERT INTO status_reactions (kind, account_id, status_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
        [REACTION.favourite, actor, status.id],
      )) as unknown[];
      if (added.length > 0) {
        await m.query(`UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = $1`, [
          status.id,
        ]);
        await notify(m, status.accountId, actor, 'favourite', status.id);
      }
      return status.id;
    });
  }

  unfavourite(actor: string, id: string): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      const removed = changedRows(
        await m.query(
          `DELETE FROM status_reactions WHERE kind = $1 AND account_id = $2 AND status_id = $3 RETURNING 1`,
          [REACTION.favourite, actor, status.id],
        ),
      );
      if (removed.length > 0) {
        await m.query(
          `UPDATE statuses SET favourites_count = greatest(favourites_count - 1, 0) WHERE id = $1`,
          [status.id],
        );
      }
      return status.id;
    });
  }

  bookmark(actor: string, id: string): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      await m.query(
        `INSERT INTO status_reactions (kind, account_id, status_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [REACTION.bookmark, actor, status.id],
      );
      return status.id;
    });
  }

  unbookmark(actor: string, id: string): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      await m.query(`DELETE FROM status_reactions WHERE kind = $1 AND account_id = $2 AND status_id = $3`, [
        REACTION.bookmark,
        actor,
        status.id,
      ]);
      return status.id;
    });
  }

  /**
   * Reblogs a public or unlisted status (Mastodon refuses private and direct ones, except an author's own
   * private status, which it may reblog to its followers); answers the reblog, which embeds the status.
   */
  reblog(actor: string, id: string, visibility = 'public'): Promise<StatusPage> {
    return this.act(actor, id, async (m, original) => {
      const target = original.reblogOfId
        ? (await findVisibleStatuses(m, [original.reblogOfId], actor))[0]
        : original;
      if (!target) throw new StatusError('not_found', 'Record not found');
      if (target.visibility === 'direct' || (target.visibility === 'private' && target.accountId !== actor)) {
        throw new StatusError('validation_failed', 'Validation failed: This action is not allowed');
      }
      const existing = (await m.query(
        `SELECT id::text FROM statuses WHERE account_id = $1 AND reblog_of_id = $2 AND deleted_at IS NULL`,
        [actor, target.id],
      )) as { id: string }[];
      if (existing.length > 0) return existing[0].id;
      const level =
        target.visibility === 'private'
          ? 2
          : visibility === 'unlisted'
            ? 1
            : visibility === 'private'
              ? 2
              : 0;
      const [{ id: reblogId }] = (await m.query(
        `INSERT INTO statuses (account_id, local, reblog_of_id, visibility, conversation_id)
         VALUES ($1, true, $2, $3, $4) RETURNING id::text`,
        [actor, target.id, level, target.conversationId],
      )) as { id: string }[];
      await m.query(`UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = $1`, [target.id]);
      await m.query(
        `UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = now() WHERE id = $1`,
        [actor],
      );
      // Followers who want reblogs see it in home, and the author is told.
      await m.query(
        `INSERT INTO home_feed (account_id, status_id)
         SELECT $1::bigint, $2::bigint
         UNION
         SELECT f.account_id, $2 FROM account_relations f JOIN accounts a ON a.id = f.account_id AND a.domain IS NULL
          WHERE f.kind = 0 AND f.target_account_id = $1 AND f.show_reblogs
            AND NOT EXISTS (SELECT 1 FROM home_feed h WHERE h.account_id = f.account_id AND h.status_id = $3)
         ON CONFLICT DO NOTHING`,
        [actor, reblogId, target.id],
      );
      await trimFeedsHolding(m, reblogId);
      await notify(m, target.accountId, actor, 'reblog', target.id);
      return reblogId;
    });
  }

  /** Removes the actor's reblog; answers the original status. */
  unreblog(actor: string, id: string): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      const target = status.reblogOfId ?? status.id;
      const removed = changedRows<{ id: string }>(
        await m.query(
          `UPDATE statuses SET deleted_at = now() WHERE account_id = $1 AND reblog_of_id = $2 AND deleted_at IS NULL RETURNING id::text`,
          [actor, target],
        ),
      );
      for (const r of removed) {
        await m.query(`DELETE FROM home_feed WHERE status_id = $1`, [r.id]);
        await m.query(`UPDATE statuses SET reblogs_count = greatest(reblogs_count - 1, 0) WHERE id = $1`, [
          target,
        ]);
        await m.query(`UPDATE accounts SET statuses_count = greatest(statuses_count - 1, 0) WHERE id = $1`, [
          actor,
        ]);
      }
      return target;
    });
  }

  /**
   * Pins an own status to the profile (Mastodon's StatusPinValidator): not a reblog, not a direct
   * message, at most five pins.
   */
  pin(actor: string, id: string): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      const refuse = (why: string) => new StatusError('validation_failed', `Validation failed: ${why}`);
      if (status.reblogOfId) throw refuse('Boosts cannot be pinned');
      if (status.accountId !== actor) throw refuse('Only own posts can be pinned');
      if (status.visibility === 'direct') throw refuse('Private mentions cannot be pinned');
      // The account's row is locked so that two pins at once cannot both pass the count.
      await m.query(`SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, [actor]);
      const [{ pins }] = (await m.query(
        `SELECT count(*)::int AS pins FROM status_reactions r JOIN statuses s ON s.id = r.status_id
          WHERE r.kind = $1 AND r.account_id = $2 AND s.deleted_at IS NULL AND r.status_id <> $3`,
        [REACTION.pin, actor, status.id],
      )) as { pins: number }[];
      if (pins >= MAX_PINNED_STATUSES) throw refuse('You have already pinned the maximum number of posts');
      await m.query(
        `INSERT INTO status_reactions (kind, account_id, status_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [REACTION.pin, actor, status.id],
      );
      return status.id;
    });
  }

  unpin(actor: string, id: string): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      await m.query(`DELETE FROM status_reactions WHERE kind = $1 AND account_id = $2 AND status_id = $3`, [
        REACTION.pin,
        actor,
        status.id,
      ]);
      return status.id;
    });
  }

  /** Stops (or resumes) notifications from the conversation the status belongs to. */
  muteConversation(actor: string, id: string, muted: boolean): Promise<StatusPage> {
    return this.act(actor, id, async (m, status) => {
      if (status.conversationId === null) return status.id;
      await m.query(
        muted
          ? `INSERT INTO conversation_mutes (account_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
          : `DELETE FROM conversation_mutes WHERE account_id = $1 AND conversation_id = $2`,
        [actor, status.conversationId],
      );
      return status.id;
    });
  }

  /**
   * Who boosted or favourited a status the viewer may see, newest first, paged by the boost's or the
   * favourite's own id (what the `Link` header carries), without accounts the viewer blocks or mutes.
   */
  async reactedBy(
    viewer: string | null,
    id: string,
    how: 'reblogged' | 'favourited',
    page: PageRequest,
  ): Promise<{ accounts: AccountRecord[]; cursorIds: string[] }> {
    if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
    return this.transactions.run(async (m) => {
      const [status] = await findVisibleStatuses(m, [id], viewer);
      if (!status) throw new StatusError('not_found', 'Record not found');
      const source =
        how === 'reblogged'
          ? `SELECT b.id, b.account_id FROM statuses b WHERE b.reblog_of_id = $1 AND b.deleted_at IS NULL`
          : `SELECT r.id, r.account_id FROM status_reactions r WHERE r.kind = 0 AND r.status_id = $1`;
      const bounds = pageBounds('x.id', page, 4);
      const rows = (await m.query(
        `SELECT x.id::text AS cursor, x.account_id::text FROM (${source}) x
          WHERE ${bounds.where}
            AND ($2::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM account_relations v
                  WHERE v.kind IN (2, 3) AND v.account_id = $2 AND v.target_account_id = x.account_id))
          ORDER BY ${bounds.order} LIMIT $3`,
        [status.id, viewer, page.limit, ...bounds.params],
      )) as { cursor: string; account_id: string }[];
      if (page.minId) rows.reverse();
      const byId = new Map(
        (
          await findAccounts(
            m,
            rows.map((r) => r.account_id),
          )
        ).map((a) => [a.id, a]),
      );
      const kept = rows.filter((r) => byId.has(r.account_id));
      return { accounts: kept.map((r) => byId.get(r.account_id)!), cursorIds: kept.map((r) => r.cursor) };
    });
  }

  /** The thread around a status: its ancestors, oldest first, and its descendants, depth first. */
  async context(
    viewer: string | null,
    id: string,
  ): Promise<{ ancestors: StatusPage; descendants: StatusPage }> {
    if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
    return this.transactions.run(async (m) => {
      const [status] = await findVisibleStatuses(m, [id], viewer);
      if (!status) throw new StatusError('not_found', 'Record not found');
      return threadAround(m, id, viewer);
    });
  }

  private async act(
    actor: string,
    id: string,
    work: (m: EntityManager, status: StatusRecord) => Promise<string>,
  ): Promise<StatusPage> {
    if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
    return this.transactions.run(async (m) => {
      const [status] = await findVisibleStatuses(m, [id], actor);
      if (!status) throw new StatusError('not_found', 'Record not found');
      const answerId = await work(m, status);
      return hydrate(m, await findVisibleStatuses(m, [answerId], actor), actor);
    });
  }
}

/**
 * The statuses before and after one in its thread that the viewer may see (Mastodon's context):
 * ancestors oldest first, descendants in depth-first order, at most 40 levels each way.
 */
export async function threadAround(
  m: EntityManager,
  id: string,
  viewer: string | null,
): Promise<{ ancestors: StatusPage; descendants: StatusPage }> {
  const ancestors = (await m.query(
    `WITH RECURSIVE up(id, depth) AS (
         SELECT in_reply_to_id, 1 FROM statuses WHERE id = $1 AND in_reply_to_id IS NOT NULL
         UNION ALL
         SELECT s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.id
          WHERE s.in_reply_to_id IS NOT NULL AND up.depth < 40)
       SELECT ${STATUS_COLUMNS} FROM up JOIN statuses s ON s.id = up.id
        WHERE ${visibleTo('$2::bigint')} AND ${notHiddenFrom('$2::bigint')} ORDER BY up.depth DESC`,
    [id, viewer],
  )) as StatusRow[];
  const descendants = (await m.query(
    `WITH RECURSIVE down(id, path) AS (
         SELECT id, ARRAY[id] FROM statuses WHERE in_reply_to_id = $1
         UNION ALL
         SELECT s.id, down.path || s.id FROM statuses s JOIN down ON s.in_reply_to_id = down.id
          WHERE cardinality(down.path) < 40)
       SELECT ${STATUS_COLUMNS} FROM down JOIN statuses s ON s.id = down.id
        WHERE ${visibleTo('$2::bigint')} AND ${notHiddenFrom('$2::bigint')} ORDER BY down.path LIMIT 4096`,
    [id, viewer],
  )) as StatusRow[];
  return {
    ancestors: await hydrate(m, ancestors.map(statusRecord), viewer),
    descendants: await hydrate(m, descendants.map(statusRecord), viewer),
  };
}
