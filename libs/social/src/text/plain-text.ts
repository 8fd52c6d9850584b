/**
 * Local text as Mastodon renders it into HTML: escaped, paragraphs on blank lines, `<br />` on single
 * line breaks, URLs as links that open elsewhere without passing a referrer. Mentions and hashtags are
 * linked by the status formatter, which knows the accounts and tags they resolve to.
 */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'’]/g;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A link as Mastodon writes one: the visible text shortened the same way (scheme hidden, long tails cut). */
export function linkHtml(url: string): string {
  const match = /^(https?:\/\/(?:www\.)?)(.*)$/.exec(url)!;
  const [, prefix, rest] = match;
  const visible = rest.length > 30 ? rest.slice(0, 30) : rest;
  const ellipsis = rest.length > 30 ? rest.slice(30) : '';
  return (
    `<a href="${escapeHtml(url)}" target="_blank" rel="nofollow noopener" translate="no">` +
    `<span class="invisible">${escapeHtml(prefix)}</span>` +
    `<span class="${ellipsis ? 'ellipsis' : ''}">${escapeHtml(visible)}</span>` +
    `<span class="invisible">${escapeHtml(ellipsis)}</span></a>`
  );
}

/** Escaped text with its URLs linked; `decorate` may link other tokens (mentions, hashtags). */
export function linkify(text: string, decorate: (escaped: string) => string = (t) => t): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    out += decorate(escapeHtml(text.slice(last, match.index)));
    out += linkHtml(match[0]);
    last = match.index! + match[0].length;
  }
  return out + decorate(escapeHtml(text.slice(last)));
}

export function plainTextToHtml(text: string, decorate?: (escaped: string) => string): string {
  const normalized = text.replace(/\r\n?/g, '\n').trim();
  if (normalized === '') return '';
  return normalized
    .split(/\n{2,}/)
    .map(
      (paragraph) =>
        `<p>${paragraph
          .split('\n')
          .map((line) => linkify(line, decorate))
          .join('<br />')}</p>`,
    )
    .join('');
}
