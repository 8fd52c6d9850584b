import { escapeHtml } from '@townhall/social';
import type { MastodonStatus } from '../presenters/status.presenter';
import { statusContent, statusExcerpt } from './public-views';

/**
 * RSS 2.0 feeds as Mastodon offers them (`/@username.rss`, `/tags/name.rss`): the newest public
 * statuses, each item's description the status's HTML (escaped into the XML), its attachments as
 * Media RSS `media:content` with their descriptions, its hashtags as categories.
 */
export interface FeedChannel {
  title: string;
  description: string;
  link: string;
  /** Where the feed itself is (atom:link rel="self"). */
  self: string;
  image?: { url: string; title: string };
}

export interface FeedItem {
  status: MastodonStatus;
  local: boolean;
}

const xml = escapeHtml;

export function rssFeed(channel: FeedChannel, items: FeedItem[]): string {
  const newest = items[0]?.status.created_at;
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:webfeeds="http://webfeeds.org/rss/1.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom">',
    '<channel>',
    `<title>${xml(channel.title)}</title>`,
    `<description>${xml(channel.description)}</description>`,
    `<link>${xml(channel.link)}</link>`,
    `<atom:link href="${xml(channel.self)}" rel="self" type="application/rss+xml"/>`,
  ];
  if (channel.image) {
    parts.push(
      `<image><url>${xml(channel.image.url)}</url><title>${xml(channel.image.title)}</title><link>${xml(channel.link)}</link></image>`,
      `<webfeeds:icon>${xml(channel.image.url)}</webfeeds:icon>`,
    );
  }
  if (newest) parts.push(`<lastBuildDate>${new Date(newest).toUTCString()}</lastBuildDate>`);
  parts.push('<generator>Townhall</generator>');
  for (const { status, local } of items) {
    const link = status.url ?? status.uri;
    parts.push('<item>', `<guid isPermaLink="true">${xml(link)}</guid>`, `<link>${xml(link)}</link>`);
    parts.push(`<pubDate>${new Date(status.created_at).toUTCString()}</pubDate>`);
    if (status.spoiler_text) parts.push(`<title>${xml(statusExcerpt(status))}</title>`);
    parts.push(`<description>${xml(statusContent(status, local).value)}</description>`);
    for (const media of status.media_attachments) {
      if (!media.url) continue;
      const type = media.type === 'image' || media.type === 'gifv' ? 'image' : media.type;
      parts.push(
        `<media:content url="${xml(media.url)}" medium="${xml(type)}">` +
          (media.description
            ? `<media:description type="plain">${xml(media.description)}</media:description>`
            : '') +
          `<media:rating scheme="urn:simple">${status.sensitive ? 'adult' : 'nonadult'}</media:rating>` +
          '</media:content>',
      );
    }
    for (const tag of status.tags) parts.push(`<category>${xml(tag.name)}</category>`);
    parts.push('</item>');
  }
  parts.push('</channel>', '</rss>');
  return `${parts.join('\n')}\n`;
}
