import type { EntityManager } from 'typeorm';
import {
  type StatusRecord,
  STATUS_COLUMNS,
  statusRecord,
  type StatusRow,
  notHiddenFrom,
  visibleTo,
} from '../statuses/status-records';
import { regconfigSql, searchConfigurationFor } from './search-languages';
import type { ParsedSearch, SearchClause, SearchFilter } from './search-query';

export interface StatusSearchOptions {
  limit: number;
  offset: number;
  /** Only this account's statuses (already known to exist). */
  accountId?: string;
  minId?: string;
  maxId?: string;
  localDomains: readonly string[];
}

/**
 * Mastodon 4.3's status search (StatusesSearchService over its two indexes) in PostgreSQL. What can be
 * found is what Mastodon indexes for a viewer: public statuses of accounts that chose to be indexable,
 * and statuses the viewer has to do with — their own, and those they favourited, bookmarked, boosted,
 * were mentioned in or voted in (`in:public` and `in:library` pick one of the two). Beyond Mastodon,
 * every result must also be visible to the viewer now (`visibleTo`): a private status whose author the
 * viewer no longer follows is not shown even if they once favourited it. Reblogs are never results;
 * accounts the viewer blocks, is blocked by or mutes are left out, and silenced accounts unless the
 * viewer follows them (Mastodon's StatusFilter). Newest first, paged by offset, as Mastodon's are.
 *
 * Words match in two forms at once: word for word, and stemmed in the language of a `language:` filter
 * or else the viewer's own language, so "returns" finds "returned" in English statuses.
 */
export async function searchStatuses(
  m: EntityManager,
  parsed: ParsedSearch,
  viewer: string,
  options: StatusSearchOptions,
): Promise<StatusRecord[]> {
  const params: unknown[] = [viewer];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const languageFilter = parsed.clauses.find(
    (c): c is Extract<SearchClause, { kind: 'filter' }> =>
      c.kind === 'filter' && !c.negated && c.filter.on === 'language',
  );
  const stemming = searchConfigurationFor(
    languageFilter?.filter.on === 'language' ? languageFilter.filter.code : await localeOf(m, viewer),
  );
  const config = stemming === 'simple' ? null : regconfigSql(p(stemming));
  const words = (text: string) => {
    const param = p(text);
    const simple = `plainto_tsquery('pg_catalog.simple', ${param})`;
    return config ? `(${simple} || plainto_tsquery(${config}, ${param}))` : simple;
  };

  const conditions: string[] = [];
  const textQueries: string[] = [];
  for (const clause of parsed.clauses) {
    switch (clause.kind) {
      case 'term':
      case 'phrase': {
        const query =
          clause.kind === 'term'
            ? words(clause.text)
            : `phraseto_tsquery('pg_catalog.simple', ${p(clause.text)})`;
        textQueries.push(clause.operator === 'must' ? query : `!!${query}`);
        break;
      }
      case 'tag': {
        const tagged = `EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id
                                 WHERE st.status_id = s.id AND lower(t.name) = lower(${p(clause.name.normalize('NFKC'))}))`;
        conditions.push(clause.operator === 'must' ? tagged : `NOT ${tagged}`);
        break;
      }
      case 'filter': {
        const condition = filterSql(clause.filter, p, options.localDomains);
        conditions.push(clause.negated ? `NOT ${condition}` : condition);
      }
    }
  }
  const withText = textQueries.length > 0;
  if (withText) conditions.push(`s.search IS NOT NULL AND numnode(q.query) > 0 AND s.search @@ q.query`);
  if (options.accountId) conditions.push(`s.account_id = ${p(options.accountId)}`);
  if (options.minId) conditions.push(`s.id > ${p(options.minId)}::bigint`);
  if (options.maxId) conditions.push(`s.id < ${p(options.maxId)}::bigint`);

  const publicScope = `(s.visibility = 0 AND au.indexable)`;
  const libraryScope = `((s.local AND s.account_id = $1)
      OR EXISTS (SELECT 1 FROM status_reactions r WHERE r.kind IN (0, 1) AND r.account_id = $1 AND r.status_id = s.id)
      OR EXISTS (SELECT 1 FROM mentions mn WHERE mn.status_id = s.id AND mn.account_id = $1)
      OR EXISTS (SELECT 1 FROM statuses b WHERE b.reblog_of_id = s.id AND b.account_id = $1 AND b.deleted_at IS NULL)
      OR EXISTS (SELECT 1 FROM poll_votes v WHERE v.poll_id = s.poll_id AND v.account_id = $1))`;
  const scope =
    parsed.scope === 'public'
      ? publicScope
      : parsed.scope === 'library'
        ? libraryScope
        : `(${publicScope} OR ${libraryScope})`;

  const rows = (await m.query(
    `${withText ? `WITH q AS (SELECT ${textQueries.join(' && ')} AS query) ` : ''}
     SELECT ${STATUS_COLUMNS} FROM statuses s JOIN accounts au ON au.id = s.account_id${withText ? ', q' : ''}
      WHERE s.reblog_of_id IS NULL AND ${visibleTo('$1::bigint')} AND ${scope}
        AND au.suspended_at IS NULL
        AND (au.silenced_at IS NULL OR au.id = $1 OR EXISTS (SELECT 1 FROM account_relations fo
              WHERE fo.kind = 0 AND fo.account_id = $1 AND fo.target_account_id = au.id))
        AND ${notHiddenFrom('$1::bigint')}
        ${conditions.map((c) => `AND ${c}`).join('\n        ')}
      ORDER BY s.id DESC
      LIMIT ${p(options.limit)} OFFSET ${p(options.offset)}`,
    params,
  )) as StatusRow[];
  return rows.map(statusRecord);
}

/** A filter as a condition that is never NULL, so that `NOT` negates it exactly. */
function filterSql(filter: SearchFilter, p: (v: unknown) => string, localDomains: readonly string[]): string {
  switch (filter.on) {
    case 'from': {
      if (filter.acct.toLowerCase() === 'me') return `(s.account_id = $1)`;
      const [username, domain] = filter.acct.split('@');
      const local = domain === undefined || localDomains.includes(domain.toLowerCase());
      return `coalesce(s.account_id = (SELECT fa.id FROM accounts fa WHERE lower(fa.username) = lower(${p(username)})
                 AND coalesce(lower(fa.domain), '') = ${p(local ? '' : domain.toLowerCase())}), false)`;
    }
    case 'language':
      return `coalesce(lower(s.language) = lower(${p(filter.code)}), false)`;
    case 'has':
      switch (filter.what) {
        case 'media':
          return `(cardinality(s.media_attachment_ids) > 0)`;
        case 'poll':
          return `(s.poll_id IS NOT NULL)`;
        case 'image':
        case 'video':
        case 'audio':
          return `EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.id = ANY(s.media_attachment_ids) AND ma.type = ${p(filter.what)})`;
        default:
          // `link` and `embed` are about preview cards, which Townhall does not make yet.
          return `false`;
      }
    case 'is':
      return filter.what === 'reply'
        ? `(s.in_reply_to_id IS NOT NULL)`
        : filter.what === 'sensitive'
          ? `s.sensitive`
          : `false`;
    case 'created':
      return `(${filter.from ? `s.created_at >= ${p(filter.from)}` : 'true'} AND ${filter.before ? `s.created_at < ${p(filter.before)}` : 'true'})`;
  }
}

async function localeOf(m: EntityManager, accountId: string): Promise<string | null> {
  const rows = (await m.query(`SELECT locale FROM users WHERE account_id = $1`, [accountId])) as {
    locale: string | null;
  }[];
  return rows[0]?.locale ?? null;
}
