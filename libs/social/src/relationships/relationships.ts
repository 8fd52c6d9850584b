import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { type AccountRecord, findAccounts } from '../accounts/account-records';
import { AccountError } from '../accounts/local-account-commands';
import { wantsNotification } from '../notifications/notification-rules';
import { trimFeed } from '../statuses/home-feed';

/** Kinds of `account_relations` rows. */
export const RELATION = { follow: 0, request: 1, block: 2, mute: 3, endorse: 4 } as const;

/** Mastodon's Relationship entity, in our words. */
export interface Relationship {
  id: string;
  following: boolean;
  showingReblogs: boolean;
  notifying: boolean;
  languages: string[] | null;
  followedBy: boolean;
  blocking: boolean;
  blockedBy: boolean;
  muting: boolean;
  mutingNotifications: boolean;
  requested: boolean;
  requestedBy: boolean;
  domainBlocking: boolean;
  endorsed: boolean;
  note: string;
}

/**
 * Who follows, blocks and mutes whom on one tenant (Mastodon's FollowService, BlockService, …). Every
 * change and its counters commit together; following a locked account makes a request instead, which
 * its owner authorises or rejects. Following is for local accounts here; following remote accounts goes
 * through the federation gateway.
 */
@Injectable()
export class Relationships {
  constructor(private readonly transactions: TenantTransactions) {}

  async follow(
    actor: string,
    target: string,
    options: { reblogs?: boolean; notify?: boolean; languages?: string[] | null } = {},
  ): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      const account = await this.target(m, actor, target);
      if (await blockedEitherWay(m, actor, target))
        throw new AccountError('account_not_found', 'Record not found');
      const already = await has(m, RELATION.follow, actor, target);
      if (already) {
        await m.query(
          `UPDATE account_relations SET show_reblogs = coalesce($4, show_reblogs), notify = coalesce($5, notify), languages = $6
            WHERE kind = $1 AND account_id = $2 AND target_account_id = $3`,
          [
            RELATION.follow,
            actor,
            target,
            options.reblogs ?? null,
            options.notify ?? null,
            options.languages ?? null,
          ],
        );
      } else if (account.locked || account.domain !== null) {
        // A locked account decides; a remote one answers through the gateway (until then: requested).
        await m.query(
          `INSERT INTO account_relations (kind, account_id, target_account_id, show_reblogs, notify, languages)
           VALUES ($1, $2, $3, coalesce($4, true), coalesce($5, false), $6) ON CONFLICT DO NOTHING`,
          [
            RELATION.request,
            actor,
            target,
            options.reblogs ?? null,
            options.notify ?? null,
            options.languages ?? null,
          ],
        );
        if (account.domain === null) await notify(m, target, actor, 'follow_request');
      } else {
        await startFollowing(m, actor, target, options);
        await notify(m, target, actor, 'follow');
      }
      return (await relationships(m, actor, [target]))[0];
    });
  }

  async unfollow(actor: string, target: string): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      await this.target(m, actor, target);
      await stopFollowing(m, actor, target);
      await m.query(
        `DELETE FROM account_relations WHERE kind = $1 AND account_id = $2 AND target_account_id = $3`,
        [RELATION.request, actor, target],
      );
      return (await relationships(m, actor, [target]))[0];
    });
  }

  /** Blocking also ends following in both directions, as Mastodon does. */
  async block(actor: string, target: string): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      await this.target(m, actor, target);
      await stopFollowing(m, actor, target);
      await stopFollowing(m, target, actor);
      await m.query(
        `DELETE FROM account_relations WHERE kind = $1 AND ((account_id = $2 AND target_account_id = $3) OR (account_id = $3 AND target_account_id = $2))`,
        [RELATION.request, actor, target],
      );
      await m.query(
        `INSERT INTO account_relations (kind, account_id, target_account_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [RELATION.block, actor, target],
      );
      return (await relationships(m, actor, [target]))[0];
    });
  }

  async unblock(actor: string, target: string): Promise<Relationship> {
    return this.remove(RELATION.block, actor, target);
  }

  async mute(
    actor: string,
    target: string,
    options: { notifications?: boolean; durationSeconds?: number } = {},
  ): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      await this.target(m, actor, target);
      await m.query(
        `INSERT INTO account_relations (kind, account_id, target_account_id, hide_notifications, expires_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $5::int > 0 THEN now() + make_interval(secs => $5) END)
         ON CONFLICT (kind, account_id, target_account_id)
         DO UPDATE SET hide_notifications = EXCLUDED.hide_notifications, expires_at = EXCLUDED.expires_at`,
        [RELATION.mute, actor, target, options.notifications ?? true, options.durationSeconds ?? 0],
      );
      return (await relationships(m, actor, [target]))[0];
    });
  }

  async unmute(actor: string, target: string): Promise<Relationship> {
    return this.remove(RELATION.mute, actor, target);
  }

  /** Accepts a request to follow `owner` (Mastodon's AuthorizeFollowService); 404 if there is none. */
  async authorizeRequest(owner: string, requester: string): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      if (!(await acceptRequest(m, owner, requester)))
        throw new AccountError('account_not_found', 'Record not found');
      return (await relationships(m, owner, [requester]))[0];
    });
  }

  /** Declines a request to follow `owner` (Mastodon's RejectFollowService); 404 if there is none. */
  async rejectRequest(owner: string, requester: string): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      const removed = changedRows(
        await m.query(
          `DELETE FROM account_relations WHERE kind = $1 AND account_id = $2 AND target_account_id = $3 RETURNING 1`,
          [RELATION.request, requester, owner],
        ),
      );
      if (removed.length === 0) throw new AccountError('account_not_found', 'Record not found');
      await forgetRequestNotification(m, owner, requester);
      return (await relationships(m, owner, [requester]))[0];
    });
  }

  /** Makes an account stop following `owner` (`remove_from_followers`). */
  async removeFromFollowers(owner: string, follower: string): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      await this.target(m, owner, follower);
      await stopFollowing(m, follower, owner);
      return (await relationships(m, owner, [follower]))[0];
    });
  }

  /** `GET /api/v1/accounts/relationships`: one per id asked for that exists. */
  of(actor: string, targets: string[]): Promise<Relationship[]> {
    return this.transactions.run((m) => relationships(m, actor, targets));
  }

  /** The people an account follows (`following`) or who follow it (`followers`), newest first. */
  async list(
    accountId: string,
    direction: 'followers' | 'following',
    limit: number,
    maxId?: string,
  ): Promise<{ accounts: AccountRecord[]; relationIds: string[] }> {
    return this.transactions.run(async (m) => {
      const [mine, theirs] =
        direction === 'followers' ? ['target_account_id', 'account_id'] : ['account_id', 'target_account_id'];
      const rows = (await m.query(
        `SELECT r.id::text AS relation_id, r.${theirs}::text AS account_id FROM account_relations r
          WHERE r.kind = 0 AND r.${mine} = $1 AND ($3::bigint IS NULL OR r.id < $3)
          ORDER BY r.id DESC LIMIT $2`,
        [accountId, limit, maxId ?? null],
      )) as { relation_id: string; account_id: string }[];
      const accounts = await findAccounts(
        m,
        rows.map((r) => r.account_id),
      );
      return { accounts, relationIds: rows.map((r) => r.relation_id) };
    });
  }

  /** The accounts an account blocks, mutes or endorses, or that ask to follow it; newest first. */
  async listed(
    kind: 1 | 2 | 3 | 4,
    accountId: string,
    limit: number,
    maxId?: string,
  ): Promise<{ accounts: AccountRecord[]; relationIds: string[] }> {
    return this.transactions.run(async (m) => {
      // A follow request is listed on the requested account's side; the others on the actor's.
      const [mine, theirs] =
        kind === 1 ? ['target_account_id', 'account_id'] : ['account_id', 'target_account_id'];
      const rows = (await m.query(
        `SELECT r.id::text AS relation_id, r.${theirs}::text AS account_id FROM account_relations r
          WHERE r.kind = $4 AND r.${mine} = $1 AND ($3::bigint IS NULL OR r.id < $3)
          ORDER BY r.id DESC LIMIT $2`,
        [accountId, limit, maxId ?? null, kind],
      )) as { relation_id: string; account_id: string }[];
      return {
        accounts: await findAccounts(
          m,
          rows.map((r) => r.account_id),
        ),
        relationIds: rows.map((r) => r.relation_id),
      };
    });
  }

  private async remove(kind: number, actor: string, target: string): Promise<Relationship> {
    return this.transactions.run(async (m) => {
      await this.target(m, actor, target);
      await m.query(
        `DELETE FROM account_relations WHERE kind = $1 AND account_id = $2 AND target_account_id = $3`,
        [kind, actor, target],
      );
      return (await relationships(m, actor, [target]))[0];
    });
  }

  private async target(m: EntityManager, actor: string, target: string): Promise<AccountRecord> {
    if (!/^\d{1,19}$/.test(target)) throw new AccountError('account_not_found', 'Record not found');
    const [account] = await findAccounts(m, [target]);
    if (!account || account.suspendedAt) throw new AccountError('account_not_found', 'Record not found');
    if (target === actor)
      throw new AccountError('invalid_account', 'Validation failed: you cannot do that to yourself');
    return account;
  }
}

async function has(m: EntityManager, kind: number, from: string, to: string): Promise<boolean> {
  const rows = (await m.query(
    `SELECT 1 FROM account_relations WHERE kind = $1 AND account_id = $2 AND target_account_id = $3`,
    [kind, from, to],
  )) as unknown[];
  return rows.length > 0;
}

async function blockedEitherWay(m: EntityManager, a: string, b: string): Promise<boolean> {
  return (await has(m, RELATION.block, a, b)) || (await has(m, RELATION.block, b, a));
}

/** Starts a follow and counts it; the follower's home feed gets the followed account's recent statuses. */
export async function startFollowing(
  m: EntityManager,
  follower: string,
  followed: string,
  options: { reblogs?: boolean; notify?: boolean; languages?: string[] | null } = {},
): Promise<void> {
  const inserted = (await m.query(
    `INSERT INTO account_relations (kind, account_id, target_account_id, show_reblogs, notify, languages)
     VALUES (0, $1, $2, coalesce($3, true), coalesce($4, false), $5) ON CONFLICT DO NOTHING RETURNING 1`,
    [follower, followed, options.reblogs ?? null, options.notify ?? null, options.languages ?? null],
  )) as unknown[];
  if (inserted.length === 0) return;
  await m.query(`UPDATE accounts SET following_count = following_count + 1 WHERE id = $1`, [follower]);
  await m.query(`UPDATE accounts SET followers_count = followers_count + 1 WHERE id = $1`, [followed]);
  // Mastodon merges the newly followed account's recent posts into the home feed.
  await m.query(
    `INSERT INTO home_feed (account_id, status_id)
     SELECT $1, s.id FROM statuses s
      WHERE s.account_id = $2 AND s.deleted_at IS NULL AND s.visibility <= 2
        AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id)
      ORDER BY s.id DESC LIMIT 40
     ON CONFLICT DO NOTHING`,
    [follower, followed],
  );
  await trimFeed(m, follower);
}

/**
 * Turns a pending request into a follow with the options it was made with, and removes the
 * `follow_request` notification it raised (as Mastodon destroys it with the request). False if none.
 */
async function acceptRequest(m: EntityManager, owner: string, requester: string): Promise<boolean> {
  const [request] = changedRows<{ show_reblogs: boolean; notify: boolean; languages: string[] | null }>(
    await m.query(
      `DELETE FROM account_relations WHERE kind = $1 AND account_id = $2 AND target_account_id = $3
       RETURNING show_reblogs, notify, languages`,
      [RELATION.request, requester, owner],
    ),
  );
  if (!request) return false;
  await startFollowing(m, requester, owner, {
    reblogs: request.show_reblogs,
    notify: request.notify,
    languages: request.languages,
  });
  await forgetRequestNotification(m, owner, requester);
  return true;
}

/** Every request waiting for `owner`, accepted (an account that unlocks itself, as Mastodon does). */
export async function acceptPendingRequests(m: EntityManager, owner: string): Promise<void> {
  const rows = (await m.query(
    `SELECT account_id::text FROM account_relations WHERE kind = $1 AND target_account_id = $2 ORDER BY id`,
    [RELATION.request, owner],
  )) as { account_id: string }[];
  for (const r of rows) await acceptRequest(m, owner, r.account_id);
}

async function forgetRequestNotification(m: EntityManager, owner: string, requester: string): Promise<void> {
  await m.query(
    `DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND type = 'follow_request'`,
    [owner, requester],
  );
}

export async function stopFollowing(m: EntityManager, follower: string, followed: string): Promise<void> {
  const removed = changedRows(
    await m.query(
      `DELETE FROM account_relations WHERE kind = 0 AND account_id = $1 AND target_account_id = $2 RETURNING 1`,
      [follower, followed],
    ),
  );
  if (removed.length === 0) return;
  await m.query(`UPDATE accounts SET following_count = greatest(following_count - 1, 0) WHERE id = $1`, [
    follower,
  ]);
  await m.query(`UPDATE accounts SET followers_count = greatest(followers_count - 1, 0) WHERE id = $1`, [
    followed,
  ]);
  // Their statuses leave the unfollower's home feed, as in Mastodon.
  await m.query(
    `DELETE FROM home_feed f USING statuses s WHERE f.account_id = $1 AND s.id = f.status_id AND s.account_id = $2`,
    [follower, followed],
  );
}

export async function notify(
  m: EntityManager,
  account: string,
  from: string,
  type: string,
  statusId: string | null = null,
): Promise<void> {
  await m.query(
    `INSERT INTO notifications (account_id, from_account_id, type, status_id)
     SELECT $1, $2, $3, $4 FROM accounts a
      WHERE a.id = $1 AND a.domain IS NULL AND $1 <> $2 AND ${wantsNotification('$1::bigint', '$2::bigint', '$4::bigint')}`,
    [account, from, type, statusId],
  );
}

async function relationships(m: EntityManager, actor: string, targets: string[]): Promise<Relationship[]> {
  const ids = targets.filter((t) => /^\d{1,19}$/.test(t));
  if (ids.length === 0) return [];
  const rows = (await m.query(
    `SELECT a.id::text,
            fo.id IS NOT NULL AS following, coalesce(fo.show_reblogs, true) AS showing_reblogs,
            coalesce(fo.notify, false) AS notifying, fo.languages,
            EXISTS (SELECT 1 FROM account_relations r WHERE r.kind = 0 AND r.account_id = a.id AND r.target_account_id = $1) AS followed_by,
            EXISTS (SELECT 1 FROM account_relations r WHERE r.kind = 2 AND r.account_id = $1 AND r.target_account_id = a.id) AS blocking,
            EXISTS (SELECT 1 FROM account_relations r WHERE r.kind = 2 AND r.account_id = a.id AND r.target_account_id = $1) AS blocked_by,
            mu.id IS NOT NULL AS muting, coalesce(mu.hide_notifications, false) AS muting_notifications,
            EXISTS (SELECT 1 FROM account_relations r WHERE r.kind = 1 AND r.account_id = $1 AND r.target_account_id = a.id) AS requested,
            EXISTS (SELECT 1 FROM account_relations r WHERE r.kind = 1 AND r.account_id = a.id AND r.target_account_id = $1) AS requested_by,
            EXISTS (SELECT 1 FROM account_relations r WHERE r.kind = 4 AND r.account_id = $1 AND r.target_account_id = a.id) AS endorsed,
            EXISTS (SELECT 1 FROM account_domain_blocks d WHERE d.account_id = $1 AND d.domain = a.domain) AS domain_blocking
       FROM accounts a
       LEFT JOIN account_relations fo ON fo.kind = 0 AND fo.account_id = $1 AND fo.target_account_id = a.id
       LEFT JOIN account_relations mu ON mu.kind = 3 AND mu.account_id = $1 AND mu.target_account_id = a.id
                                      AND (mu.expires_at IS NULL OR mu.expires_at > now())
      WHERE a.id = ANY($2::bigint[])`,
    [actor, ids],
  )) as {
    id: string;
    following: boolean;
    showing_reblogs: boolean;
    notifying: boolean;
    languages: string[] | null;
    followed_by: boolean;
    blocking: boolean;
    blocked_by: boolean;
    muting: boolean;
    muting_notifications: boolean;
    requested: boolean;
    requested_by: boolean;
    endorsed: boolean;
    domain_blocking: boolean;
  }[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids
    .map((id) => byId.get(id))
    .filter((r) => r !== undefined)
    .map((r) => ({
      id: r.id,
      following: r.following,
      showingReblogs: r.showing_reblogs,
      notifying: r.notifying,
      languages: r.languages,
      followedBy: r.followed_by,
      blocking: r.blocking,
      blockedBy: r.blocked_by,
      muting: r.muting,
      mutingNotifications: r.muting_notifications,
      requested: r.requested,
      requestedBy: r.requested_by,
      domainBlocking: r.domain_blocking,
      endorsed: r.endorsed,
      note: '',
    }));
}
