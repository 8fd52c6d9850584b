import { createHash } from 'node:crypto';
import type { MastodonAccount } from '../presenters/account.presenter';
import type { MastodonMediaAttachment } from '../presenters/media.presenter';
import type { MastodonStatus } from '../presenters/status.presenter';
import { html, htmlAsText, type HtmlValue, SafeHtml, trustedHtml } from './html';
import { formatDate, type PageWords } from './page-locales';

/**
 * The public pages' markup: one layout (landmarks, skip link, one `h1` per page, headings in order) and
 * the parts it is filled with. Everything here renders Mastodon entities as the client API presents them,
 * so a page and the API never disagree about an address, a name or what a status says.
 */

/**
 * The stylesheet, inline so a page is one request, allowed by its hash in the page's CSP (no
 * `unsafe-inline`). Colours keep WCAG AA contrast (text 15:1, secondary text and links at least 6:1 on
 * white); focus is always visible.
 */
const STYLE = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;background:#fff;color:#1f2328}
a{color:#0b4fb3}
a:focus-visible,summary:focus-visible{outline:3px solid #0b4fb3;outline-offset:2px}
.skip{position:absolute;left:-10000px;top:0}
.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
header.site,footer.site{background:#f3f4f6;padding:.75rem 1rem}
header.site nav ul{list-style:none;margin:0;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.muted,.acct,time{color:#4b5563}
.counts{list-style:none;padding:0;display:flex;gap:1.5rem}
.status{border-top:1px solid #d1d5db;padding:.75rem 0}
.status.focal{font-size:1.1rem}
.status-head{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}
.status-head a{text-decoration:none}
.status-head a:hover,.status-head a:focus{text-decoration:underline}
.media{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
.media img{max-width:100%;height:auto;border-radius:4px}
.invisible{font-size:0;line-height:0;display:inline-block;width:0;height:0;position:absolute}
.ellipsis::after{content:"…"}
.pager{display:flex;justify-content:space-between;margin:1rem 0}
.accounts{list-style:none;padding:0}
.accounts li{margin:.25rem 0}
`;

/** Built outside the page template so that formatting the template never changes what is hashed. */
const STYLE_ELEMENT = trustedHtml(`<style>${STYLE}</style>`);

export const PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/**
 * The CSP of a public page: nothing may run, the only style is the inline stylesheet above, images and
 * media from the tenant's own domain or any https origin (remote accounts' pictures), no forms, no frames.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src '${PAGE_STYLE_HASH}'`,
  "img-src 'self' https: data:",
  "media-src 'self' https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface PageMeta {
  lang: string;
  words: PageWords;
  /** The instance's title (the organisation's name). */
  siteName: string;
  /** Home page of the tenant. */
  homeUrl: string;
  title: string;
  description: string;
  canonicalUrl: string;
  ogType: 'website' | 'profile' | 'article';
  image?: { url: string; alt: string; large: boolean };
  /** The ActivityPub document of what the page shows. */
  activityJson?: string;
  rss?: string;
  noindex?: boolean;
  extraMeta?: SafeHtml;
}

export function layout(meta: PageMeta, body: HtmlValue): string {
  const w = meta.words;
  const image = meta.image;
  return `<!DOCTYPE html>${
    html`<html lang="${meta.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${meta.title}</title>
        <meta name="description" content="${meta.description}" />
        ${meta.noindex ? html`<meta name="robots" content="noindex, noarchive" />` : ''}
        <link rel="canonical" href="${meta.canonicalUrl}" />
        ${meta.activityJson ? html`<link rel="alternate" type="application/activity+json" href="${meta.activityJson}" />` : ''}
        ${meta.rss ? html`<link rel="alternate" type="application/rss+xml" href="${meta.rss}" title="${w.feed}" />` : ''}
        <meta property="og:site_name" content="${meta.siteName}" />
        <meta property="og:type" content="${meta.ogType}" />
        <meta property="og:title" content="${meta.title}" />
        <meta property="og:description" content="${meta.description}" />
        <meta property="og:url" content="${meta.canonicalUrl}" />
        <meta property="og:locale" content="${meta.lang}" />
        ${image ? html`<meta property="og:image" content="${image.url}" />${image.alt ? html`<meta property="og:image:alt" content="${image.alt}" />` : ''}` : ''}
        <meta name="twitter:card" content="${image?.large ? 'summary_large_image' : 'summary'}" />
        <meta name="twitter:title" content="${meta.title}" />
        <meta name="twitter:description" content="${meta.description}" />
        ${image ? html`<meta name="twitter:image" content="${image.url}" />` : ''} ${meta.extraMeta ?? ''}
        ${STYLE_ELEMENT}
      </head>
      <body>
        <a class="skip" href="#content">${w.skipToContent}</a>
        <header class="site">
          <nav aria-label="${w.siteNavigation}">
            <ul>
              <li><a href="${meta.homeUrl}">${meta.siteName}</a></li>
              <li><a href="${meta.homeUrl}about">${w.about}</a></li>
            </ul>
          </nav>
        </header>
        <main id="content">${body}</main>
        <footer class="site"><p>${w.footer}</p></footer>
      </body>
    </html>`.value
  }\n`;
}

/** An account's name as people read it: its display name, else its username. */
export function accountName(account: MastodonAccount): string {
  return account.display_name.trim() || account.username;
}

/** The `@user@domain` handle other servers find an account by. */
export function handle(account: MastodonAccount, domain: string): string {
  return account.acct.includes('@') ? `@${account.acct}` : `@${account.acct}@${domain}`;
}

/** A status's text for places that take no markup (meta descriptions, feed titles), shortened. */
export function statusExcerpt(status: MastodonStatus, max = 200): string {
  const text = status.spoiler_text || htmlAsText(status.content).replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A status's content: Townhall's own HTML for a local status, text for anything that came from afar. */
export function statusContent(status: MastodonStatus, local: boolean): SafeHtml {
  if (local) return trustedHtml(status.content);
  return html`${htmlAsText(status.content)
    .split(/\n{2,}/)
    .map((p) => html`<p>${p.split('\n').map((line, i) => (i === 0 ? line : html`<br />${line}`))}</p>`)}`;
}

function mediaItem(media: MastodonMediaAttachment): SafeHtml | '' {
  if (!media.url || !media.preview_url) return '';
  const small = media.meta.small as { width?: number; height?: number } | undefined;
  const alt = media.description ?? '';
  if (media.type === 'image' || media.type === 'gifv') {
    return html`<a href="${media.url}"
      ><img
        src="${media.preview_url}"
        alt="${alt}"
        ${small?.width && small.height ? html` width="${small.width}" height="${small.height}"` : ''}
        loading="lazy"
    /></a>`;
  }
  // Video and audio: a link to the file, named by its description, keeps the page free of players.
  return html`<a href="${media.url}">${alt || media.type}</a>`;
}

export interface StatusView {
  status: MastodonStatus;
  local: boolean;
  focal?: boolean;
}

export function statusArticle(view: StatusView, words: PageWords, lang: string, domain: string): SafeHtml {
  const s = view.status;
  const author = s.account;
  const media = s.media_attachments.map(mediaItem).filter((m) => m !== '');
  const mediaBlock =
    media.length === 0
      ? ''
      : s.sensitive
        ? html`<details>
            <summary>${words.sensitiveMedia}</summary>
            <div class="media">${media}</div>
          </details>`
        : html`<div class="media">${media}</div>`;
  const content = statusContent(s, view.local);
  const body = s.spoiler_text
    ? html`<details>
        <summary>${words.contentWarning}: ${s.spoiler_text}</summary>
        ${content}${mediaBlock}
      </details>`
    : html`${content}${mediaBlock}`;
  return html`<article
    class="status${view.focal ? ' focal' : ''}"
    ${s.language ? html` lang="${s.language}"` : ''}
  >
    <div class="status-head">
      <a href="${author.url}"
        ><strong>${accountName(author)}</strong> <span class="acct">${handle(author, domain)}</span></a
      >
      <a href="${s.url ?? s.uri}"
        ><time datetime="${s.created_at}">${formatDate(s.created_at, lang)} UTC</time
        >${s.edited_at ? html` <span class="muted">(${words.edited})</span>` : ''}</a
      >
    </div>
    ${body}
  </article>`;
}

export function pager(words: PageWords, older: string | null, newer: string | null): SafeHtml | '' {
  if (!older && !newer) return '';
  return html`<nav class="pager" aria-label="${words.pagination}">
    ${
      newer ? html`<a href="${newer}" rel="prev">${words.newer}</a>` : html`<span></span>`
    }${older ? html`<a href="${older}" rel="next">${words.older}</a>` : ''}
  </nav>`;
}
