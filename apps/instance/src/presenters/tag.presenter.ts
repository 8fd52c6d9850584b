import { publicUrl, type TownhallConfig } from '@townhall/core';
import type { AccountRecord, FeaturedTag, TagView } from '@townhall/social';

/** Mastodon's Tag entity (docs.joinmastodon.org/entities/Tag). */
export interface MastodonTag {
  /** Added by Mastodon 4.4; given here for clients that already read it (absent for a tag never used). */
  id?: string;
  name: string;
  url: string;
  history: { day: string; uses: string; accounts: string }[];
  /** Only for a signed-in user. */
  following?: boolean;
}

/** Mastodon's FeaturedTag entity (docs.joinmastodon.org/entities/FeaturedTag). */
export interface MastodonFeaturedTag {
  id: string;
  name: string;
  url: string;
  statuses_count: string;
  last_status_at: string | null;
}

/** Renders hashtags for one tenant's domain. */
export class TagPresenter {
  constructor(
    private readonly links: Pick<TownhallConfig, 'publicUrl'>,
    private readonly domain: string,
  ) {}

  tag(view: TagView): MastodonTag {
    return {
      ...(view.id !== null ? { id: view.id } : {}),
      name: view.name,
      url: publicUrl(this.links, this.domain, `/tags/${encodeURIComponent(view.name.toLowerCase())}`),
      // Counts are strings and days UNIX timestamps, as Mastodon renders its Redis-kept history.
      history: view.history.map((d) => ({
        day: String(d.day.getTime() / 1000),
        uses: String(d.uses),
        accounts: String(d.accounts),
      })),
      ...(view.following !== null ? { following: view.following } : {}),
    };
  }

  /** A featured tag links to the account's statuses with it (`/@user/tagged/tag`, `/@user@domain/…` if remote). */
  featured(account: AccountRecord, tag: FeaturedTag): MastodonFeaturedTag {
    const profile = account.domain === null ? account.username : `${account.username}@${account.domain}`;
    return {
      id: tag.id,
      name: tag.name,
      url: publicUrl(
        this.links,
        this.domain,
        `/@${profile}/tagged/${encodeURIComponent(tag.name.toLowerCase())}`,
      ),
      statuses_count: String(tag.statusesCount),
      last_status_at: tag.lastStatusAt ? tag.lastStatusAt.toISOString().slice(0, 10) : null,
    };
  }
}
