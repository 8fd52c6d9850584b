import { Injectable } from '@nestjs/common';
import { defineErrors } from '@townhall/core';
import { TenantTransactions } from '@townhall/tenancy';
import type { EntityManager } from 'typeorm';
import { type AccountRecord, findAccount, findAccountByAcct } from '../accounts/account-records';
import { hydrate, type StatusPage } from '../statuses/status-queries';
import { findVisibleStatuses, type StatusRecord } from '../statuses/status-records';
import { tagSearchTerm } from '../tags/tag-names';
import { type TagRow, type TagView, tagViews } from '../tags/tag-records';
import { searchAccounts } from './account-search';
import { parseSearchQuery, SearchSyntaxError } from './search-query';
import { searchStatuses } from './status-search';

/** The errors of search, with Mastodon's statuses and wording. */
export class SearchError extends defineErrors({
  missing_param: { status: 400, title: 'Bad request' },
  unauthenticated: { status: 401, title: 'Unauthorized' },
  not_found: { status: 404, title: 'Record not found' },
  invalid_query: { status: 422, title: 'Unprocessable entity' },
}) {}

export const SEARCH_TYPES = ['accounts', 'hashtags', 'statuses'] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];

export interface SearchRequest {
  q: string;
  type?: SearchType;
  limit: number;
  offset: number;
  /** Look a URL up instead of searching words (local addresses and known `uri`s; see `resolveUrl`). */
  resolve: boolean;
  /** Accounts: only those the viewer follows. */
  following: boolean;
  /** Hashtags: only reviewed ones or the exact name (Townhall reviews none, so the exact name only). */
  excludeUnreviewed: boolean;
  /** Statuses: only this account's. */
  accountId?: string;
  minId?: string;
  maxId?: string;
}

export interface SearchResults {
  accounts: AccountRecord[];
  statuses: StatusPage;
  hashtags: TagView[];
}

/** Typographic quotes a query may use for `"` (Mastodon's QUOTE_EQUIVALENT_CHARACTERS). */
const QUOTES = /[“”„«»「」『』《》]/g;

/**
 * Search for the client API (Mastodon 4.3's SearchService), in one tenant transaction: accounts, statuses
 * and hashtags of this tenant only. Statuses are searched for a signed-in viewer only, as Mastodon does;
 * `offset` counts only with a `type`. With `resolve`, a URL is looked up rather than searched for: the
 * tenant's own addresses of accounts and statuses, and the ids (`uri`) of those it already knows; fetching
 * what it does not know is for the federation gateway.
 */
@Injectable()
export class Search {
  constructor(private readonly transactions: TenantTransactions) {}

  search(
    request: SearchRequest,
    viewer: string | null,
    localDomains: readonly string[],
  ): Promise<SearchResults> {
    const q = request.q.trim().replace(QUOTES, '"');
    const offset = request.type === undefined ? 0 : request.offset;
    const wants = (type: SearchType) => request.type === undefined || request.type === type;
    return this.transactions.run(async (m) => {
      const results: SearchResults = { accounts: [], statuses: await hydrate(m, [], viewer), hashtags: [] };
      if (q === '' || request.limit === 0) return results;
      if (request.resolve && /^https?:\/\//i.test(q)) {
        if (offset > 0) return results;
        const found = await resolveUrl(m, q, viewer, localDomains);
        if (found && 'account' in found && wants('accounts')) results.accounts = [found.account];
        if (found && 'status' in found && wants('statuses'))
          results.statuses = await hydrate(m, [found.status], viewer);
        return results;
      }
      if (wants('accounts') && !(q.startsWith('#') || (q.includes('@') && q.includes(' ')))) {
        results.accounts = await searchAccounts(m, q, viewer, {
          limit: request.limit,
          offset,
          following: request.following,
          localDomains,
        });
      }
      if (wants('statuses') && viewer !== null) {
        if (
          request.accountId &&
          !(/^\d{1,19}$/.test(request.accountId) && (await findAccount(m, request.accountId)))
        ) {
          throw new SearchError('not_found', 'Record not found');
        }
        let parsed;
        try {
          parsed = parseSearchQuery(q);
        } catch (e) {
          if (e instanceof SearchSyntaxError) throw new SearchError('invalid_query', e.message);
          throw e;
        }
        const statuses = await searchStatuses(m, parsed, viewer, {
          limit: request.limit,
          offset,
          accountId: request.accountId,
          minId: request.minId,
          maxId: request.maxId,
          localDomains,
        });
        results.statuses = await hydrate(m, statuses, viewer);
      }
      if (wants('hashtags') && !q.includes('@')) {
        results.hashtags = await searchTags(m, q, viewer, request.limit, offset, request.excludeUnreviewed);
      }
      return results;
    });
  }

  /** `GET /api/v1/accounts/search`: accounts only (Mastodon's AccountSearchService). */
  accounts(
    q: string,
    viewer: string,
    options: { limit: number; offset: number; following: boolean; localDomains: readonly string[] },
  ): Promise<AccountRecord[]> {
    return this.transactions.run((m) => searchAccounts(m, q, viewer, options));
  }
}

/**
 * Hashtags whose names start with the query (Mastodon's Tag.search_for): shortest first, then by name;
 * with `excludeUnreviewed`, only the exact name. Tags moderation made unusable are not suggested.
 */
async function searchTags(
  m: EntityManager,
  q: string,
  viewer: string | null,
  limit: number,
  offset: number,
  exactOnly: boolean,
): Promise<TagView[]> {
  const term = tagSearchTerm(q);
  if (term === '') return [];
  const rows = (await m.query(
    `SELECT id::text, name, display_name FROM tags
      WHERE lower(name) LIKE $1 || '%' AND usable AND (NOT $4::boolean OR lower(name) = $2)
      ORDER BY length(name), lower(name) LIMIT $3 OFFSET $5`,
    [term.replace(/_/g, '\\_'), term, limit, exactOnly, offset],
  )) as TagRow[];
  return tagViews(
    m,
    rows.map((t) => ({ id: t.id, name: t.display_name })),
    viewer,
  );
}

/**
 * A URL as an account or a status, without the network: this tenant's own addresses (`/@user`,
 * `/@user/123`, `/users/user`, `/users/user/statuses/123` on one of its domains), else an account or
 * status whose ActivityPub id it is. A status only if the viewer may see it.
 */
async function resolveUrl(
  m: EntityManager,
  url: string,
  viewer: string | null,
  localDomains: readonly string[],
): Promise<{ account: AccountRecord } | { status: StatusRecord } | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (localDomains.includes(parsed.hostname.toLowerCase())) {
    const path =
      /^\/@([A-Za-z0-9_]+)(?:\/(\d{1,19}))?\/?$/.exec(parsed.pathname) ??
      /^\/users\/([A-Za-z0-9_]+)(?:\/statuses\/(\d{1,19}))?\/?$/.exec(parsed.pathname);
    if (!path) return null;
    const [, username, statusId] = path;
    if (statusId === undefined) {
      const account = await findAccountByAcct(m, username, null);
      return account ? { account } : null;
    }
    const [status] = await findVisibleStatuses(m, [statusId], viewer);
    const author = status ? await findAccount(m, status.accountId) : null;
    return status && author && author.username.toLowerCase() === username.toLowerCase() ? { status } : null;
  }
  const [known] = (await m.query(
    `SELECT 'status' AS kind, id::text FROM statuses WHERE uri = $1
     UNION ALL SELECT 'account', id::text FROM accounts WHERE uri = $1 LIMIT 1`,
    [url],
  )) as { kind: 'status' | 'account'; id: string }[];
  if (!known) return null;
  if (known.kind === 'account') {
    const account = await findAccount(m, known.id);
    return account ? { account } : null;
  }
  const [status] = await findVisibleStatuses(m, [known.id], viewer);
  return status ? { status } : null;
}
