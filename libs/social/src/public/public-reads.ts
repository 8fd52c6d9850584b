import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { TenantTransactions } from '@townhall/tenancy';
import { type AccountRecord, findAccountByAcct, findAccounts } from '../accounts/account-records';
import { hydrate, newestFirst, type StatusPage } from '../statuses/status-queries';
import {
  pageBounds,
  type PageRequest,
  STATUS_COLUMNS,
  statusRecord,
  type StatusRow,
  visibleTo,
} from '../statuses/status-records';
import { threadAround } from '../statuses/status-interactions';
import { TagTimeline } from '../tags/tag-timeline';

/** Mastodon's rule for usernames. */
const USERNAME = /^[A-Za-z0-9_]{1,30}$/;

/** A status on its own page, with the thread around it that an anonymous reader may see. */
export interface PublicThread {
  status: StatusPage;
  ancestors: StatusPage;
  descendants: StatusPage;
}

/**
 * What the tenant's public web pages (and their RSS feeds) show to a reader without an account. Every
 * read is for the anonymous viewer (`visibleTo(NULL)`: public and unlisted, never private or direct, never
 * deleted) and leaves out suspended accounts — local ones suspended by the tenant's moderators, remote ones
 * suspended one by one or by a blocked domain — whose content Mastodon no longer shows.
 *
 * Lists (a profile's posts, a hashtag, the feeds) show public statuses only: an unlisted status is
 * reachable only through its own address and the thread it belongs to. Reblogs and replies to others are
 * not part of a profile's list, as in Mastodon's RSS feed.
 */
@Injectable()
export class PublicReads {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly tags: TagTimeline,
  ) {}

  /**
   * A local account that is not suspended, by username (case-insensitive, as Mastodon finds it), with a
   * page of its public statuses, newest first, without reblogs and replies to others. One transaction.
   */
  async profile(
    username: string,
    page: PageRequest,
  ): Promise<{ account: AccountRecord; statuses: StatusPage } | null> {
    if (!USERNAME.test(username)) return null;
    return this.transactions.run(async (m) => {
      const account = await findAccountByAcct(m, username, null);
      if (!account || account.suspendedAt !== null) return null;
      const bounds = pageBounds('s.id', page, 3);
      const rows = (await m.query(
        `SELECT ${STATUS_COLUMNS} FROM statuses s
          WHERE s.account_id = $1 AND s.visibility = 0 AND s.reblog_of_id IS NULL
            AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)
            AND ${bounds.where} AND ${visibleTo('NULL')}
          ORDER BY ${bounds.order} LIMIT $2`,
        [account.id, page.limit, ...bounds.params],
      )) as StatusRow[];
      return { account, statuses: await hydrate(m, newestFirst(rows), null) };
    });
  }

  /**
   * A local account's status with its thread, or null when the anonymous reader may not see it (or it
   * is not that account's, or not an original status, or the account is suspended). Ancestors and
   * descendants of suspended accounts are left out. One transaction.
   */
  async thread(username: string, id: string): Promise<PublicThread | null> {
    if (!USERNAME.test(username) || !/^\d{1,19}$/.test(id)) return null;
    return this.transactions.run(async (m) => {
      const account = await findAccountByAcct(m, username, null);
      if (!account || account.suspendedAt !== null) return null;
      const rows = (await m.query(
        `SELECT ${STATUS_COLUMNS} FROM statuses s
          WHERE s.id = $1 AND s.account_id = $2 AND s.reblog_of_id IS NULL AND ${visibleTo('NULL')}`,
        [id, account.id],
      )) as StatusRow[];
      if (rows.length === 0) return null;
      const status = await hydrate(m, rows.map(statusRecord), null);
      const { ancestors, descendants } = await threadAround(m, id, null);
      return { status, ancestors: withoutSuspended(ancestors), descendants: withoutSuspended(descendants) };
    });
  }

  /** Public statuses with a hashtag (Mastodon's TagFeed for an anonymous reader). */
  tagStatuses(name: string, page: PageRequest, scope: { local?: boolean } = {}): Promise<StatusPage> {
    return this.tags.statuses(name, null, page, { local: scope.local });
  }

  /**
   * The accounts that speak for the organisation: its local accounts of the ActivityPub types of an
   * organisation or a service, not suspended, the oldest first.
   */
  officialAccounts(limit = 40): Promise<AccountRecord[]> {
    return this.transactions.run(async (m: EntityManager) => {
      const rows = (await m.query(
        `SELECT id::text FROM accounts
          WHERE domain IS NULL AND suspended_at IS NULL AND actor_type IN ('Organization', 'Service')
          ORDER BY id LIMIT $1`,
        [limit],
      )) as { id: string }[];
      return findAccounts(
        m,
        rows.map((r) => r.id),
      );
    });
  }
}

/** The page without statuses of suspended accounts (a thread's context is read for any viewer). */
function withoutSuspended(page: StatusPage): StatusPage {
  return {
    ...page,
    statuses: page.statuses.filter((s) => page.accounts.get(s.accountId)?.suspendedAt === null),
  };
}
