import type { TownhallConfig } from '@townhall/core';
import type { ConversationRecord, StatusPage } from '@townhall/social';
import { AccountPresenter, type MastodonAccount } from './account.presenter';
import { type MastodonStatus, StatusPresenter } from './status.presenter';

/** Mastodon's Conversation entity. */
export interface MastodonConversation {
  id: string;
  unread: boolean;
  accounts: MastodonAccount[];
  last_status: MastodonStatus | null;
}

/** The Conversation entities of what `Conversations` found, with their newest statuses. */
export function conversationEntities(
  found: { conversations: ConversationRecord[]; statuses: StatusPage },
  links: Pick<TownhallConfig, 'publicUrl'>,
  domain: string,
): MastodonConversation[] {
  const accounts = new AccountPresenter(links, domain);
  const statuses = new StatusPresenter(links, domain);
  const byId = new Map(found.statuses.statuses.map((s) => [s.id, s]));
  return found.conversations.map((c) => {
    const last = byId.get(c.lastStatusId);
    return {
      id: c.id,
      unread: c.unread,
      accounts: c.participants.map((a) => accounts.account(a)),
      last_status: last ? statuses.status(found.statuses, last) : null,
    };
  });
}
