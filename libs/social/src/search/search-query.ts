/**
 * Mastodon 4.3's status search syntax, read into clauses (its SearchQueryParser and
 * SearchQueryTransformer): words, `"phrases"`, `#hashtags`, each required (`+` or nothing) or excluded
 * (`-`), and the filters `from:`, `language:`, `has:`, `is:`, `before:`, `after:`, `during:` and the
 * scope `in:library` / `in:public`. A prefix Mastodon does not know is read as two words, as Mastodon
 * does (`foo:bar` searches for "foo bar"). Typographic quotes count as `"`.
 */
export type Operator = 'must' | 'must_not';

export type SearchClause =
  | { kind: 'term'; operator: Operator; text: string }
  | { kind: 'phrase'; operator: Operator; text: string }
  | { kind: 'tag'; operator: Operator; name: string }
  | { kind: 'filter'; negated: boolean; filter: SearchFilter };

export type SearchFilter =
  | { on: 'from'; acct: string }
  | { on: 'language'; code: string }
  | { on: 'has'; what: string }
  | { on: 'is'; what: string }
  | { on: 'created'; from?: Date; before?: Date };

export type SearchScope = 'all' | 'library' | 'public';

export interface ParsedSearch {
  clauses: SearchClause[];
  scope: SearchScope;
}

/** A filter whose value cannot be read (a date that is not one). */
export class SearchSyntaxError extends Error {}

const QUOTES = /[“”„«»「」『』《》]/g;
const PREFIXES = new Set(['has', 'is', 'language', 'from', 'before', 'after', 'during', 'in']);
const DAY_MS = 24 * 60 * 60 * 1000;

export function parseSearchQuery(query: string): ParsedSearch {
  const text = query.replace(QUOTES, '"');
  const clauses: SearchClause[] = [];
  let scope: SearchScope = 'all';
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    let operator: Operator = 'must';
    if ((text[i] === '+' || text[i] === '-') && i + 1 < text.length && !/\s/.test(text[i + 1])) {
      operator = text[i] === '-' ? 'must_not' : 'must';
      i++;
    }
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      const phrase = text.slice(i + 1, end === -1 ? text.length : end).trim();
      i = end === -1 ? text.length : end + 1;
      if (phrase !== '') clauses.push({ kind: 'phrase', operator, text: phrase });
      continue;
    }
    let end = i;
    while (end < text.length && !/\s/.test(text[end]) && text[end] !== '"') end++;
    const token = text.slice(i, end);
    i = end;
    const colon = token.indexOf(':');
    if (colon > 0) {
      const prefix = token.slice(0, colon).toLowerCase();
      let value = token.slice(colon + 1);
      if (value === '' && text[i] === '"') {
        const close = text.indexOf('"', i + 1);
        value = text.slice(i + 1, close === -1 ? text.length : close).trim();
        i = close === -1 ? text.length : close + 1;
      }
      if (PREFIXES.has(prefix) && value !== '') {
        if (prefix === 'in') scope = value === 'library' || value === 'public' ? value : 'all';
        else
          clauses.push({ kind: 'filter', negated: operator === 'must_not', filter: filterOf(prefix, value) });
        continue;
      }
      const words = `${token.slice(0, colon)} ${value}`.trim();
      if (words !== '') clauses.push({ kind: 'term', operator, text: words });
      continue;
    }
    if (token.startsWith('#') && token.length > 1) {
      clauses.push({ kind: 'tag', operator, name: token.slice(1) });
    } else if (token !== '') {
      clauses.push({ kind: 'term', operator, text: token });
    }
  }
  return { clauses, scope };
}

function filterOf(prefix: string, value: string): SearchFilter {
  switch (prefix) {
    case 'from':
      return { on: 'from', acct: value.replace(/^@/, '') };
    case 'language':
      return { on: 'language', code: value };
    case 'has':
    case 'is':
      return { on: prefix, what: value.toLowerCase() };
    default:
      return { on: 'created', ...dateRange(prefix as 'before' | 'after' | 'during', value) };
  }
}

/**
 * A date filter as Elasticsearch reads Mastodon's: a calendar day (`2024-05-01`) covers the whole day in
 * UTC — `before:` is before it starts, `after:` after it ends, `during:` within it; a time (ISO 8601) or
 * epoch milliseconds is an exact instant.
 */
function dateRange(prefix: 'before' | 'after' | 'during', value: string): { from?: Date; before?: Date } {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const at = /^\d+$/.test(value)
    ? new Date(Number(value))
    : day
      ? new Date(`${value}T00:00:00Z`)
      : /^\d{4}-\d{2}-\d{2}T/.test(value)
        ? new Date(value)
        : new Date(NaN);
  if (Number.isNaN(at.getTime()) || (day && at.toISOString().slice(0, 10) !== value)) {
    throw new SearchSyntaxError(
      `${prefix}: needs a date (YYYY-MM-DD), a time (ISO 8601) or epoch milliseconds`,
    );
  }
  const next = day ? new Date(at.getTime() + DAY_MS) : at;
  if (prefix === 'before') return { before: at };
  if (prefix === 'after') return { from: day ? next : new Date(at.getTime() + 1) };
  return { from: at, before: day ? next : new Date(at.getTime() + 1) };
}
