import type { EntityManager } from 'typeorm';
import { ACCOUNT_SEARCH_WORDS } from '@townhall/persistence';
import { type AccountRecord, findAccountByAcct, findAccounts } from '../accounts/account-records';

export interface AccountSearchOptions {
  limit: number;
  offset: number;
  /** Only accounts the viewer follows (and the viewer). */
  following: boolean;
  /** The tenant's own domains: `user@<one of these>` is a local account. */
  localDomains: readonly string[];
}

/** `@user` or `@user@domain`, nothing else (Mastodon's MENTION_RE, anchored). */
const MENTION_ONLY = /^@[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*(?:@[\p{L}\p{N}_]+(?:[.-]+[\p{L}\p{N}_]+)*)?$/iu;

/** Below this many characters, someone not signed in gets only an exact match (Mastodon's MIN_QUERY_LENGTH). */
const MIN_QUERY_LENGTH = 3;

/**
 * The words an account is found by, exactly as tenant migration 3 indexes them (`accounts_search`); its
 * column names are unqualified, so it is only used where `accounts a` is the one table in scope.
 */
const ACCOUNT_WORDS = ACCOUNT_SEARCH_WORDS;

/**
 * How much an account's match counts beyond its words: the mean of its reputation (followers per
 * account it follows), the logarithm of its followers, and how recently it posted (full weight within
 * 30 days, fading to 0.3 about a month later) — the signals Mastodon's database search ranks by.
 */
const STANDING = `((greatest(a.followers_count, 0) / (greatest(a.following_count, 0) + 1.0)
  + ln(greatest(a.followers_count, 0) + 2)
  + CASE WHEN a.last_status_at IS NULL THEN 0
         ELSE exp(-power(greatest(extract(epoch FROM now() - a.last_status_at) / 86400 - 30, 0), 2)
                  / (2 * power(30, 2) / (-2 * ln(0.3)))) END) / 3.0)`;

/** Accounts that may be found: not suspended, not moved away, and a local one only with a confirmed login. */
const FINDABLE = `a.suspended_at IS NULL AND a.moved_to_account_id IS NULL
  AND (a.domain IS NOT NULL OR EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.confirmed_at IS NOT NULL))`;

/**
 * Mastodon 4.3's AccountSearchService as it works from the database: a complete `user@domain` that names
 * a known account comes first (on the first page); then accounts whose display name, username or domain
 * has words starting with the query, ranked by match and standing — for a signed-in viewer, accounts
 * related to them by a follow either way first, or, with `following`, only accounts they follow (and
 * themselves), those following them back first. Someone not signed in needs three characters for more
 * than the exact match. Remote accounts are only those this tenant already knows: finding new ones
 * (`resolve`, WebFinger) is the federation gateway's to do.
 */
export async function searchAccounts(
  m: EntityManager,
  rawQuery: string,
  viewer: string | null,
  options: AccountSearchOptions,
): Promise<AccountRecord[]> {
  const query = rawQuery.trim().replace(/^@/, '');
  if (query === '' || options.limit < 1) return [];
  const parts = query.split('@');
  const username = parts[0] ?? '';
  const domain = parts.length === 1 ? null : parts[parts.length - 1].toLowerCase();
  const domainIsLocal = domain === null || options.localDomains.includes(domain);

  let exact: AccountRecord | null = null;
  if (options.offset === 0 && query.includes('@') && MENTION_ONLY.test(`@${query}`)) {
    exact = await findAccountByAcct(m, username, domainIsLocal ? null : domain);
    if (exact && options.following && !(viewer !== null && (await follows(m, viewer, exact.id))))
      exact = null;
  }
  const limit = viewer === null && query.length < MIN_QUERY_LENGTH ? 0 : options.limit - (exact ? 1 : 0);
  const found = limit > 0 ? await matching(m, domainIsLocal ? username : query, viewer, limit, options) : [];
  const seen = new Set<string>();
  return [...(exact ? [exact] : []), ...found].filter((a) => !seen.has(a.id) && !!seen.add(a.id));
}

async function matching(
  m: EntityManager,
  terms: string,
  viewer: string | null,
  limit: number,
  options: AccountSearchOptions,
): Promise<AccountRecord[]> {
  // A prefix query over the whole phrase; characters to_tsquery would read as syntax are blanked.
  const tsquery = `' ${terms.replace(/['?\\:‘’]/g, ' ')} ':*`;
  const rank = `${STANDING} * ts_rank_cd(${ACCOUNT_WORDS}, to_tsquery('pg_catalog.simple', $1), 32)`;
  // Follows either way, as membership in two sets the planner hashes once (not a subquery per match).
  const followedByViewer = `a.id IN (SELECT g.target_account_id FROM account_relations g WHERE g.kind = 0 AND g.account_id = $4)`;
  const followingViewer = `a.id IN (SELECT g.account_id FROM account_relations g WHERE g.kind = 0 AND g.target_account_id = $4)`;
  const followsEitherWay = `((${followedByViewer})::int + (${followingViewer})::int)`;
  const followsViewer = `(${followingViewer})::int`;
  const order =
    viewer === null
      ? `${rank} DESC`
      : options.following
        ? `(${followsViewer} + 1) * ${rank} DESC`
        : `${followsEitherWay} DESC, ${rank} DESC`;
  const rows = (await m.query(
    `SELECT a.id::text FROM accounts a
      WHERE to_tsquery('pg_catalog.simple', $1) @@ ${ACCOUNT_WORDS} AND ${FINDABLE}
        AND (NOT $5::boolean OR a.id = $4 OR ${followedByViewer})
      ORDER BY ${order}, a.id
      LIMIT $2 OFFSET $3`,
    [tsquery, limit, options.offset, viewer, options.following && viewer !== null],
  )) as { id: string }[];
  return findAccounts(
    m,
    rows.map((r) => r.id),
  );
}

async function follows(m: EntityManager, account: string, target: string): Promise<boolean> {
  const rows = (await m.query(
    `SELECT 1 FROM account_relations WHERE kind = 0 AND account_id = $1 AND target_account_id = $2`,
    [account, target],
  )) as unknown[];
  return rows.length > 0;
}
