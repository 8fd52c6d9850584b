import type { TownhallConfig } from '@townhall/core';
import { filteredOut, type NotificationPage } from '@townhall/social';
import { AccountPresenter, type MastodonAccount } from './account.presenter';
import { type MastodonStatus, StatusPresenter } from './status.presenter';

export interface MastodonNotification {
  id: string;
  type: string;
  created_at: string;
  group_key: string;
  account: MastodonAccount;
  status?: MastodonStatus;
}

/**
 * Mastodon's Notification entity for each notification of a page. Listed (`listed`), a notification
 * about a status that a `hide` filter of notifications matches is left out.
 */
export function notificationEntities(
  page: NotificationPage,
  links: Pick<TownhallConfig, 'publicUrl'>,
  domain: string,
  listed = false,
): MastodonNotification[] {
  const accounts = new AccountPresenter(links, domain);
  const statuses = new StatusPresenter(links, domain);
  const byId = new Map(page.statuses.statuses.map((s) => [s.id, s]));
  return page.notifications.flatMap((n) => {
    const status = n.statusId ? byId.get(n.statusId) : undefined;
    if (listed && status && filteredOut(page.statuses, status, 'notifications')) return [];
    const shown = status ? statuses.status(page.statuses, status) : null;
    return {
      id: n.id,
      type: n.type,
      created_at: n.createdAt.toISOString(),
      group_key: `ungrouped-${n.id}`,
      account: accounts.account(page.accounts.get(n.fromAccountId)!),
      ...(shown ? { status: shown } : {}),
    };
  });
}
