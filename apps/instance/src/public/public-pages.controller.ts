import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { wantsActivityStreams } from '@townhall/activitypub';
import { pathOf, publicUrl, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { isTagName, type PageRequest, PublicReads, type StatusPage, tagNameFrom } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { instanceDescription } from '../instance/instance.service';
import { LANGUAGES } from '../instance/mastodon-instance';
import { AccountPresenter, type MastodonAccount } from '../presenters/account.presenter';
import { StatusPresenter } from '../presenters/status.presenter';
import { CurrentTenant } from '../tenant-site';
import { html, htmlAsText, type SafeHtml, trustedHtml } from './html';
import { pageLanguage, PAGE_LANGUAGES, type PageWords } from './page-locales';
import {
  accountName,
  handle,
  layout,
  PAGE_CSP,
  type PageMeta,
  pager,
  statusArticle,
  statusExcerpt,
} from './public-views';
import { RenderedPages, type RenderedPage } from './rendered-pages';
import { type FeedItem, rssFeed } from './rss';

const PAGE_SIZE = 20;
const ID = /^\d{1,19}$/;

/**
 * What a CDN may do with a page: keep it 15 seconds, serve it stale for 30 more while it asks again, and
 * for an hour when the origin fails (Mastodon's own choice for its public pages). The page depends on the
 * reader's language and on whether HTML or ActivityPub was asked for, and on nothing else: no cookies,
 * no session, the same for every reader.
 */
const PAGE_CACHE = 'public, max-age=15, stale-while-revalidate=30, stale-if-error=3600';
const FEED_CACHE = 'public, max-age=60';

/** Everything a page of one request needs to know about where it is and whom it is for. */
interface PageContext {
  tenant: TenantAtHost;
  lang: string;
  words: PageWords;
  origin: (path: string) => string;
  statuses: StatusPresenter;
  accounts: AccountPresenter;
}

/**
 * The tenant's public web pages, readable without an account and without JavaScript (Mastodon's
 * server-rendered pages): home, about, profiles `/@username` with their public posts, statuses
 * `/@username/:id` with their thread, hashtags `/tags/:name`, and RSS feeds `/@username.rss` and
 * `/tags/:name.rss`. What each may show is `PublicReads`'s to decide.
 *
 * ActivityPub documents live at `/users/*` (the federation gateway's, which sends browsers here). A
 * request for a profile or a status that asks for ActivityStreams (`wantsActivityStreams`, the gateway's
 * own rule, so the two redirects can never send a client back and forth) is sent there with a redirect.
 */
@ApiExcludeController()
@Controller()
export class PublicPagesController {
  private readonly cache = new RenderedPages();

  constructor(
    private readonly reads: PublicReads,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get()
  async home(
    @CurrentTenant() tenant: TenantAtHost,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const c = this.context(tenant, request);
    return this.serve(reply, c, request, async () => {
      const official = await this.officialAccounts(c);
      const body = html`<h1>${tenant.displayName}</h1>
        <p>${instanceDescription(tenant.displayName)}</p>
        <h2>${c.words.officialAccounts}</h2>
        ${official}
        <p><a href="${c.origin('/about')}">${c.words.about}</a></p>`;
      return this.page(c, this.siteMeta(c, '/'), body);
    });
  }

  @Get('about')
  async about(
    @CurrentTenant() tenant: TenantAtHost,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const c = this.context(tenant, request);
    return this.serve(reply, c, request, async () => {
      const officials = await this.reads.officialAccounts();
      const contact = officials[0] ? c.accounts.account(officials[0]) : null;
      const body = html`<h1>${c.words.about}: ${tenant.displayName}</h1>
        <p>${instanceDescription(tenant.displayName)}</p>
        <h2>${c.words.rules}</h2>
        <p>${c.words.noRules}</p>
        <h2>${c.words.contact}</h2>
        ${contact ? html`<p><a href="${contact.url}">${accountName(contact)}</a> <span class="acct">${handle(contact, tenant.primaryDomain)}</span></p>` : html`<p class="muted">—</p>`}
        <h2>${c.words.officialAccounts}</h2>
        ${this.accountList(
          c,
          officials.map((a) => c.accounts.account(a)),
        )}`;
      return this.page(c, this.siteMeta(c, '/about', `${c.words.about}: ${tenant.displayName}`), body);
    });
  }

  /** `/@username`, and `/@username.rss` (one route: a username never has a dot). */
  @Get('@:username')
  async profile(
    @Param('username') raw: string,
    @Query() query: Record<string, unknown>,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const c = this.context(tenant, request);
    return this.serve(reply, c, request, async () => {
      const { name: username, rss } = feedOrPage(raw);
      const pageRequest = rss ? { limit: PAGE_SIZE } : pageParams(query.max_id, query.min_id);
      const profile = await this.reads.profile(username, pageRequest);
      if (!profile) return this.notFound(c);
      const { account: found, statuses: page } = profile;
      if (!rss && wantsActivityStreams(request.headers.accept)) {
        return redirectTo(c.origin(`/users/${found.username}`));
      }
      const account = c.accounts.account(found);
      if (rss) {
        return this.feed(c, page, {
          title: `${accountName(account)} (${handle(account, tenant.primaryDomain)})`,
          description: htmlAsText(account.note),
          link: account.url,
          self: c.origin(`/@${found.username}.rss`),
          image: { url: account.avatar, title: accountName(account) },
        });
      }
      const profilePath = `/@${found.username}`;
      const name_ = accountName(account);
      const body = html`<h1>${name_}</h1>
        <p class="acct">${handle(account, tenant.primaryDomain)}</p>
        ${account.note ? html`<div class="note">${trustedHtml(account.note)}</div>` : ''}
        ${
          account.fields.length > 0
            ? html`<dl>
                ${account.fields.map(
                  (f) =>
                    html`<dt>${f.name}</dt>
                      <dd>${trustedHtml(f.value)}</dd>`,
                )}
              </dl>`
            : ''
        }
        <ul class="counts">
          <li>${c.words.posts}: ${account.statuses_count}</li>
          <li>${c.words.followers}: ${account.followers_count}</li>
          <li>${c.words.following}: ${account.following_count}</li>
        </ul>
        <p><a href="${c.origin(`${profilePath}.rss`)}">${c.words.feed}</a></p>
        <h2>${c.words.posts}</h2>
        ${this.statusList(c, page, profilePath, pageRequest)}`;
      return this.page(
        c,
        {
          ...this.meta(c),
          title: `${name_} (${handle(account, tenant.primaryDomain)})`,
          description: htmlAsText(account.note).slice(0, 200) || handle(account, tenant.primaryDomain),
          canonicalUrl: account.url,
          ogType: 'profile',
          image: { url: account.avatar, alt: '', large: false },
          activityJson: account.uri,
          rss: c.origin(`${profilePath}.rss`),
          noindex: account.noindex === true,
          extraMeta: html`<meta
            property="profile:username"
            content="${handle(account, tenant.primaryDomain).slice(1)}"
          />`,
        },
        body,
      );
    });
  }

  @Get('@:username/:id')
  async status(
    @Param('username') username: string,
    @Param('id') id: string,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const c = this.context(tenant, request);
    return this.serve(reply, c, request, async () => {
      const thread = await this.reads.thread(username, id);
      const record = thread?.status.statuses[0];
      const status = thread && record ? c.statuses.status(thread.status, record) : null;
      if (!thread || !record || !status) return this.notFound(c);
      if (wantsActivityStreams(request.headers.accept)) {
        return redirectTo(status.uri);
      }
      const domain = tenant.primaryDomain;
      const articles = (page: StatusPage) =>
        page.statuses.map((s) => {
          const shown = c.statuses.status(page, s);
          return shown ? statusArticle({ status: shown, local: s.local }, c.words, c.lang, domain) : '';
        });
      const name = accountName(status.account);
      const firstImage = status.media_attachments.find((m) => m.type === 'image' && m.url);
      const body = html`<h1>${c.words.postBy(name)}</h1>
        ${
          thread.ancestors.statuses.length > 0
            ? html`<section aria-labelledby="earlier">
                <h2 id="earlier">${c.words.earlierInThread}</h2>
                ${articles(thread.ancestors)}
              </section>`
            : ''
        }
        ${statusArticle({ status, local: record.local, focal: true }, c.words, c.lang, domain)}
        <section aria-labelledby="replies">
          <h2 id="replies">${c.words.replies}</h2>
          ${
            thread.descendants.statuses.length > 0
              ? articles(thread.descendants)
              : html`<p class="muted">${c.words.noReplies}</p>`
          }
        </section>`;
      return this.page(
        c,
        {
          ...this.meta(c),
          title: `${name}: “${statusExcerpt(status, 80)}”`,
          description: statusExcerpt(status),
          canonicalUrl: status.url ?? status.uri,
          ogType: 'article',
          image: firstImage
            ? { url: firstImage.url!, alt: firstImage.description ?? '', large: true }
            : { url: status.account.avatar, alt: '', large: false },
          activityJson: status.uri,
          noindex: status.account.noindex === true,
          extraMeta: html`<meta property="article:published_time" content="${status.created_at}" />`,
        },
        body,
      );
    });
  }

  /** `/tags/name`, and `/tags/name.rss` (local statuses only, as Mastodon's tag feed). */
  @Get('tags/:name')
  async tag(
    @Param('name') raw: string,
    @Query() query: Record<string, unknown>,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const c = this.context(tenant, request);
    return this.serve(reply, c, request, async () => {
      const asked = feedOrPage(raw);
      const rss = asked.rss;
      const name = tagNameFrom(asked.name);
      if (!isTagName(name)) return this.notFound(c);
      const path = `/tags/${encodeURIComponent(name.toLowerCase())}`;
      if (rss) {
        const page = await this.reads.tagStatuses(name, { limit: PAGE_SIZE }, { local: true });
        return this.feed(c, page, {
          title: `#${name}`,
          description: c.words.tagTitle(name),
          link: c.origin(path),
          self: c.origin(`${path}.rss`),
        });
      }
      const pageRequest = pageParams(query.max_id, query.min_id);
      const page = await this.reads.tagStatuses(name, pageRequest);
      const body = html`<h1>${c.words.tagTitle(name)}</h1>
        <p><a href="${c.origin(`${path}.rss`)}">${c.words.feed}</a></p>
        ${this.statusList(c, page, path, pageRequest)}`;
      return this.page(
        c,
        {
          ...this.meta(c),
          title: `#${name}`,
          description: c.words.tagTitle(name),
          canonicalUrl: c.origin(path),
          ogType: 'website',
          rss: c.origin(`${path}.rss`),
        },
        body,
      );
    });
  }

  private context(tenant: TenantAtHost, request: FastifyRequest): PageContext {
    const header = request.headers['accept-language'];
    const lang = pageLanguage(typeof header === 'string' ? header : undefined, LANGUAGES[0]);
    const domain = tenant.primaryDomain;
    return {
      tenant,
      lang,
      words: PAGE_LANGUAGES[lang],
      origin: (path) => publicUrl(this.config, domain, path),
      statuses: new StatusPresenter(this.config, domain),
      accounts: new AccountPresenter(this.config, domain),
    };
  }

  private meta(c: PageContext): Pick<PageMeta, 'lang' | 'words' | 'siteName' | 'homeUrl'> {
    return { lang: c.lang, words: c.words, siteName: c.tenant.displayName, homeUrl: c.origin('/') };
  }

  private siteMeta(c: PageContext, path: string, title = c.tenant.displayName): PageMeta {
    return {
      ...this.meta(c),
      title,
      description: instanceDescription(c.tenant.displayName),
      canonicalUrl: c.origin(path),
      ogType: 'website',
    };
  }

  private async officialAccounts(c: PageContext): Promise<SafeHtml> {
    const found = await this.reads.officialAccounts();
    return this.accountList(
      c,
      found.map((a) => c.accounts.account(a)),
    );
  }

  private accountList(c: PageContext, accounts: MastodonAccount[]): SafeHtml {
    if (accounts.length === 0) return html`<p class="muted">${c.words.noOfficialAccounts}</p>`;
    return html`<ul class="accounts">
      ${accounts.map(
        (a) =>
          html`<li>
            <a href="${a.url}">${accountName(a)}</a>
            <span class="acct">${handle(a, c.tenant.primaryDomain)}</span>
          </li>`,
      )}
    </ul>`;
  }

  /** A list of statuses with links to the pages before and after it. */
  private statusList(c: PageContext, page: StatusPage, path: string, asked: PageRequest): SafeHtml {
    const shown = page.statuses
      .map((s) => ({ record: s, status: c.statuses.status(page, s) }))
      .filter((x) => x.status !== null);
    if (shown.length === 0 && !asked.maxId && !asked.minId) {
      return html`<p class="muted">${c.words.noPosts}</p>`;
    }
    const first = page.statuses[0]?.id;
    const last = page.statuses[page.statuses.length - 1]?.id;
    const older = last && page.statuses.length >= asked.limit ? c.origin(`${path}?max_id=${last}`) : null;
    const newer = first && (asked.maxId || asked.minId) ? c.origin(`${path}?min_id=${first}`) : null;
    return html`${shown.map((x) =>
      statusArticle({ status: x.status!, local: x.record.local }, c.words, c.lang, c.tenant.primaryDomain),
    )}${pager(c.words, older, newer)}`;
  }

  /**
   * Answers from the page cache, rendering on a miss. The key is everything a page depends on: the
   * tenant, the address with its query, the language, and whether ActivityPub was asked for.
   */
  private async serve(
    reply: FastifyReply,
    c: PageContext,
    request: FastifyRequest,
    render: () => Promise<RenderedPage>,
  ): Promise<void> {
    const wantsActivity = wantsActivityStreams(request.headers.accept);
    // The query counts only for what a page reads from it, so made-up parameters cannot fill the cache.
    const query = request.query as Record<string, unknown>;
    const { maxId, minId } = pageParams(query.max_id, query.min_id);
    const key = `${c.tenant.ref.id} ${c.lang} ${wantsActivity ? 'ap' : 'html'} ${pathOf(request.url)} ${maxId ?? ''} ${minId ?? ''}`;
    const page = await this.cache.get(key, render);
    reply.code(page.status).headers(page.headers);
    await reply.send(page.body);
  }

  private page(c: PageContext, meta: PageMeta, body: SafeHtml, status = 200): RenderedPage {
    return {
      status,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-language': c.lang,
        'content-security-policy': PAGE_CSP,
        'cache-control': status === 200 ? PAGE_CACHE : 'public, max-age=15',
        vary: 'Accept, Accept-Language',
      },
      body: layout(meta, body),
    };
  }

  private feed(c: PageContext, page: StatusPage, channel: Parameters<typeof rssFeed>[0]): RenderedPage {
    const items: FeedItem[] = [];
    for (const s of page.statuses) {
      const status = c.statuses.status(page, s);
      if (status) items.push({ status, local: s.local });
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/rss+xml; charset=utf-8', 'cache-control': FEED_CACHE },
      body: rssFeed(channel, items),
    };
  }

  private notFound(c: PageContext): RenderedPage {
    return this.page(
      c,
      { ...this.siteMeta(c, '/', c.words.notFoundTitle) },
      html`<h1>${c.words.notFoundTitle}</h1>
        <p>${c.words.notFoundText}</p>`,
      404,
    );
  }
}

/** The ActivityPub document of a page is the gateway's to serve, at its own address. */
function redirectTo(location: string): RenderedPage {
  return {
    status: 302,
    headers: { location, vary: 'Accept, Accept-Language', 'cache-control': PAGE_CACHE },
    body: '',
  };
}

/** A name from an address that may ask for its feed (`name.rss`): names never hold a dot. */
function feedOrPage(raw: string): { name: string; rss: boolean } {
  return raw.endsWith('.rss') ? { name: raw.slice(0, -4), rss: true } : { name: raw, rss: false };
}

/** `max_id` / `min_id` of a page address; anything that is not an id is ignored, as a link may be old. */
function pageParams(maxId: unknown, minId: unknown): PageRequest {
  return {
    maxId: typeof maxId === 'string' && ID.test(maxId) ? maxId : undefined,
    minId: typeof minId === 'string' && ID.test(minId) && !maxId ? minId : undefined,
    limit: PAGE_SIZE,
  };
}
