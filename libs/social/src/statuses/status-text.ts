import { escapeHtml, linkify } from '../text/plain-text';

/** Mastodon's default limits, as the instance entity announces them. */
export const MAX_STATUS_CHARACTERS = 500;
export const CHARACTERS_RESERVED_PER_URL = 23;

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'’]/g;
/** `@user` or `@user@domain`, not inside a word or an e-mail address. */
export const MENTION = /(?<![\p{L}\p{N}_/@])@([a-z0-9_]{1,30})(?:@([a-z0-9.-]+\.[a-z]{2,}))?/giu;
/** `#tag`: letters, digits, underscores and middle dots, not only digits. */
export const HASHTAG = /(?<![\p{L}\p{N}_&/#])#([\p{L}\p{N}_·]*[\p{L}_·][\p{L}\p{N}_·]*)/gu;

/**
 * How long a status counts as, as Mastodon counts: in characters as people see them, every URL as 23,
 * a mention of a remote account as its username part only.
 */
export function countedLength(text: string): number {
  const counted = text
    .replace(URL_IN_TEXT, 'x'.repeat(CHARACTERS_RESERVED_PER_URL))
    .replace(MENTION, (_m, user: string) => `@${user}`);
  return [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(counted)].length;
}

export interface MentionToken {
  username: string;
  domain: string | null;
}

export function mentionsIn(text: string): MentionToken[] {
  const seen = new Map<string, MentionToken>();
  for (const m of text.matchAll(MENTION)) {
    const key = `${m[1].toLowerCase()}@${(m[2] ?? '').toLowerCase()}`;
    if (!seen.has(key)) seen.set(key, { username: m[1], domain: m[2]?.toLowerCase() ?? null });
  }
  return [...seen.values()];
}

export function hashtagsIn(text: string): string[] {
  const seen = new Map<string, string>();
  for (const m of text.matchAll(HASHTAG)) {
    const name = m[1].normalize('NFC');
    if (name.length <= 100 && !seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), name);
  }
  return [...seen.values()];
}

/** Where a mention links: the account's profile URL, if the mention resolved to a known account. */
export type MentionLinks = (token: MentionToken) => string | undefined;

/**
 * A local status's text as HTML, as Mastodon's formatter writes it: escaped, paragraphs and line breaks,
 * links, mentions as h-card links to the profile, hashtags as links to the tag page.
 */
export function statusHtml(text: string, mentionUrl: MentionLinks, tagUrl: (tag: string) => string): string {
  const decorate = (escaped: string) =>
    escaped
      .replace(MENTION, (whole, user: string, domain: string | undefined) => {
        const url = mentionUrl({ username: user, domain: domain?.toLowerCase() ?? null });
        return url
          ? `<span class="h-card" translate="no"><a href="${escapeHtml(url)}" class="u-url mention">@<span>${user}</span></a></span>`
          : whole;
      })
      .replace(
        HASHTAG,
        (_whole, tag: string) =>
          `<a href="${escapeHtml(tagUrl(tag))}" class="mention hashtag" rel="tag">#<span>${tag}</span></a>`,
      );
  const normalized = text.replace(/\r\n?/g, '\n').trim();
  if (normalized === '') return '';
  return normalized
    .split(/\n{2,}/)
    .map(
      (p) =>
        `<p>${p
          .split('\n')
          .map((line) => linkify(line, decorate))
          .join('<br />')}</p>`,
    )
    .join('');
}
