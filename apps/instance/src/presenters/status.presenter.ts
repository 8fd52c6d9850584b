import type { TownhallConfig } from '@townhall/core';
import { publicUrl } from '@townhall/core';
import { type FilterContext, filteredOut, type StatusPage, type StatusRecord } from '@townhall/social';
import { AccountPresenter, type MastodonAccount } from './account.presenter';
import { filterResultEntity, type MastodonFilterResult } from './filter.presenter';
import { type MastodonMediaAttachment, presentMedia } from './media.presenter';
import { type MastodonPoll, presentPoll } from './poll.presenter';

/** Mastodon's Status entity (docs.joinmastodon.org/entities/Status). */
export interface MastodonStatus {
  id: string;
  uri: string;
  url: string | null;
  created_at: string;
  account: MastodonAccount;
  content: string;
  visibility: string;
  sensitive: boolean;
  spoiler_text: string;
  media_attachments: MastodonMediaAttachment[];
  application: { name: string; website: string | null } | null;
  mentions: { id: string; username: string; url: string; acct: string }[];
  tags: { name: string; url: string }[];
  emojis: unknown[];
  reblogs_count: number;
  favourites_count: number;
  replies_count: number;
  in_reply_to_id: string | null;
  in_reply_to_account_id: string | null;
  reblog: MastodonStatus | null;
  poll: MastodonPoll | null;
  card: unknown;
  language: string | null;
  text?: string;
  edited_at: string | null;
  favourited?: boolean;
  reblogged?: boolean;
  muted?: boolean;
  bookmarked?: boolean;
  pinned?: boolean;
  filtered?: MastodonFilterResult[];
}

/** Renders statuses of one page (see StatusQueries) for a tenant's domain. */
export class StatusPresenter {
  private readonly accounts: AccountPresenter;

  constructor(
    private readonly links: Pick<TownhallConfig, 'publicUrl'>,
    private readonly domain: string,
  ) {
    this.accounts = new AccountPresenter(links, domain);
  }

  /**
   * The statuses of a page; shown in a `context` (a timeline, a thread, a profile), those a `hide` filter
   * of that context matches are left out, the others carry what they match in `filtered`.
   */
  page(page: StatusPage, context?: FilterContext): MastodonStatus[] {
    return page.statuses
      .filter((s) => context === undefined || !filteredOut(page, s, context))
      .map((s) => this.status(page, s))
      .filter((s): s is MastodonStatus => s !== null);
  }

  /** One status; `withSource` adds its text, as Mastodon does when answering a deletion. */
  status(page: StatusPage, s: StatusRecord, withSource = false): MastodonStatus | null {
    const author = page.accounts.get(s.accountId);
    if (!author) return null;
    const reblogged = s.reblogOfId ? page.reblogs.get(s.reblogOfId) : undefined;
    if (s.reblogOfId && !reblogged) return null;
    const flags = page.flags?.get(s.id);
    const app = s.applicationId ? page.applications.get(s.applicationId) : undefined;
    return {
      id: s.id,
      uri: s.uri ?? publicUrl(this.links, this.domain, `/users/${author.username}/statuses/${s.id}`),
      url: s.local ? publicUrl(this.links, this.domain, `/@${author.username}/${s.id}`) : s.url,
      created_at: s.createdAt.toISOString(),
      account: this.accounts.account(author),
      content: s.content,
      visibility: s.visibility,
      sensitive: s.sensitive,
      spoiler_text: s.spoilerText,
      media_attachments: (page.media.get(s.id) ?? []).map((a) => presentMedia(this.links, this.domain, a)),
      // Mastodon shows the application of a local status only to its author… and publicly: it is public.
      application: s.local && app ? { name: app.name, website: app.website } : null,
      mentions: s.mentions
        .map((id) => page.accounts.get(id))
        .filter((a) => a !== undefined)
        .map((a) => {
          const shown = this.accounts.account(a);
          return { id: a.id, username: a.username, url: shown.url, acct: shown.acct };
        }),
      tags: s.tags.map((name) => ({
        name: name.toLowerCase(),
        url: publicUrl(this.links, this.domain, `/tags/${encodeURIComponent(name.toLowerCase())}`),
      })),
      emojis: [],
      reblogs_count: s.reblogsCount,
      favourites_count: s.favouritesCount,
      replies_count: s.repliesCount,
      in_reply_to_id: s.inReplyToId,
      in_reply_to_account_id: s.inReplyToAccountId,
      reblog: reblogged ? this.status(page, reblogged) : null,
      poll: page.polls.has(s.id) ? presentPoll(page.polls.get(s.id)!, page.viewer) : null,
      card: null,
      language: s.language,
      ...(withSource ? { text: s.text } : {}),
      edited_at: s.editedAt ? s.editedAt.toISOString() : null,
      ...(flags
        ? {
            favourited: flags.favourited,
            reblogged: flags.reblogged,
            muted: flags.muted,
            bookmarked: flags.bookmarked,
            pinned: flags.pinned,
            filtered: (page.filters.get(s.id) ?? []).map(filterResultEntity),
          }
        : {}),
    };
  }
}
