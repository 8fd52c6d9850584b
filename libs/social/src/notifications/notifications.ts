import { Injectable } from '@nestjs/common';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { type AccountRecord, findAccounts } from '../accounts/account-records';
import { StatusError } from '../statuses/status-commands';
import { findVisibleStatuses, pageBounds, type PageRequest } from '../statuses/status-records';
import { hydrate, type StatusPage } from '../statuses/status-queries';

/** The types Mastodon 4.3 knows; `types[]` and `exclude_types[]` filter by these. */
export const NOTIFICATION_TYPES = [
  'mention',
  'status',
  'reblog',
  'follow',
  'follow_request',
  'favourite',
  'poll',
  'update',
  'admin.sign_up',
  'admin.report',
  'severed_relationships',
  'moderation_warning',
] as const;

export interface NotificationRecord {
  id: string;
  type: string;
  createdAt: Date;
  fromAccountId: string;
  statusId: string | null;
}

/** Notifications with the accounts and statuses their entities show. */
export interface NotificationPage {
  notifications: NotificationRecord[];
  accounts: Map<string, AccountRecord>;
  statuses: StatusPage;
}

/**
 * An account's notifications (written by the use cases that cause them, in their transactions): listed
 * newest first with Mastodon's filters and pagination, read one by one, dismissed, cleared. A
 * notification whose status the account may no longer see is left out.
 */
@Injectable()
export class Notifications {
  constructor(private readonly transactions: TenantTransactions) {}

  list(
    accountId: string,
    page: PageRequest,
    filter: { types?: string[]; excludeTypes?: string[]; fromAccountId?: string },
  ): Promise<NotificationPage> {
    return this.transactions.run(async (m) => {
      const bounds = pageBounds('n.id', page, 6);
      const rows = (await m.query(
        `SELECT n.id::text, n.type, n.created_at, n.from_account_id::text, n.status_id::text
           FROM notifications n
          WHERE n.account_id = $1 AND ${bounds.where}
            AND ($3::text[] IS NULL OR n.type = ANY($3)) AND ($4::text[] IS NULL OR NOT n.type = ANY($4))
            AND ($5::bigint IS NULL OR n.from_account_id = $5)
          ORDER BY ${bounds.order} LIMIT $2`,
        [
          accountId,
          page.limit,
          filter.types ?? null,
          filter.excludeTypes ?? null,
          filter.fromAccountId ?? null,
          ...bounds.params,
        ],
      )) as {
        id: string;
        type: string;
        created_at: Date;
        from_account_id: string;
        status_id: string | null;
      }[];
      const records = rows
        .map((r) => ({
          id: r.id,
          type: r.type,
          createdAt: r.created_at,
          fromAccountId: r.from_account_id,
          statusId: r.status_id,
        }))
        .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
      const statusIds = records.map((n) => n.statusId).filter((id): id is string => id !== null);
      const statuses = await hydrate(m, await findVisibleStatuses(m, statusIds, accountId), accountId);
      const seen = new Set(statuses.statuses.map((s) => s.id));
      const shown = records.filter((n) => n.statusId === null || seen.has(n.statusId));
      const accounts = new Map(
        (
          await findAccounts(
            m,
            shown.map((n) => n.fromAccountId),
          )
        ).map((a) => [a.id, a]),
      );
      return { notifications: shown.filter((n) => accounts.has(n.fromAccountId)), accounts, statuses };
    });
  }

  async one(accountId: string, id: string): Promise<NotificationPage> {
    if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
    const page = await this.list(
      accountId,
      { maxId: (BigInt(id) + 1n).toString(), sinceId: (BigInt(id) - 1n).toString(), limit: 1 },
      {},
    );
    if (page.notifications.length === 0) throw new StatusError('not_found', 'Record not found');
    return page;
  }

  async dismiss(accountId: string, id: string): Promise<void> {
    if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
    const removed = await this.transactions.run(async (m) =>
      changedRows(
        await m.query(`DELETE FROM notifications WHERE account_id = $1 AND id = $2 RETURNING 1`, [
          accountId,
          id,
        ]),
      ),
    );
    if (removed.length === 0) throw new StatusError('not_found', 'Record not found');
  }

  async clear(accountId: string): Promise<void> {
    await this.transactions.run((m) =>
      m.query(`DELETE FROM notifications WHERE account_id = $1`, [accountId]),
    );
  }
}
