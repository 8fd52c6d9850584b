import type { EntityManager } from 'typeorm';
import { preparedQuery } from '@townhall/persistence';
import type { MediaRecord } from '../media/media-attachments';
import type { StatusRecord } from '../statuses/status-records';

/** Where a filter applies (Mastodon's CustomFilter::VALID_CONTEXTS). */
export const FILTER_CONTEXTS = ['home', 'notifications', 'public', 'thread', 'account'] as const;
export type FilterContext = (typeof FILTER_CONTEXTS)[number];

/** What a client does with a match: warn (the default), hide, or blur the media (Mastodon 4.4's `blur`). */
export const FILTER_ACTIONS = ['warn', 'hide', 'blur'] as const;
export type FilterAction = (typeof FILTER_ACTIONS)[number];

/** A filter as a FilterResult names it: without its keywords and statuses. */
export interface FilterSummary {
  id: string;
  title: string;
  context: string[];
  action: FilterAction;
  expiresAt: Date | null;
}

/** Mastodon's FilterResult: which filter matched a status, by which text or which status id. */
export interface FilterResult {
  filter: FilterSummary;
  /** The text the filter's keywords found first (as it is written in the status), or null. */
  keywordMatches: string[] | null;
  /** The ids of this status or the status it reblogs that the filter names, or null. */
  statusMatches: string[] | null;
}

/** One viewer's filters that have not expired, ready to match: loaded once per page, not per status. */
export interface ActiveFilter {
  filter: FilterSummary;
  /** The filter's keywords, or null when it has none. */
  keywords: KeywordMatcher | null;
  statusIds: Set<string>;
}

/**
 * A letter, mark, decimal digit or connector: what Ruby calls a word character when it decides where
 * `\b` falls in Unicode text. JavaScript's own `\b` knows only ASCII, so "café" would never end a word.
 */
const WORD_CHARACTER = /^[\p{L}\p{M}\p{Nd}\p{Pc}]$/u;

function isWordCharacter(character: string | undefined): boolean {
  return character !== undefined && WORD_CHARACTER.test(character);
}

/** The text itself in an expression: only the characters with a meaning are escaped (`u` refuses others). */
function literal(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * A filter's keywords, found as Mastodon finds them (Regexp.union of each CustomFilterKeyword#to_regex):
 * the text itself in any case; a whole-word keyword also needs a word boundary on each side of it that
 * begins or ends with a word character (so `#tag` and `c++` still match as written). The leftmost match
 * wins, and at one place the first keyword in order that matches there.
 *
 * The boundaries are checked here rather than written into the expression: a Unicode character class
 * in a lookaround costs irregexp milliseconds per keyword to compile and makes matching a hundred times
 * slower (5,000 whole-word keywords: 10 s to compile, 20 s to match 40 statuses), while an expression of
 * plain alternatives finds the places worth checking in a few milliseconds.
 */
export class KeywordMatcher {
  private readonly anywhere: RegExp;
  private readonly here: (RegExp | undefined)[] = [];
  private readonly bounded: { start: boolean; end: boolean }[];

  constructor(private readonly keywords: readonly { keyword: string; wholeWord: boolean }[]) {
    // One group per keyword: the first group that took part names the first keyword matching here.
    this.anywhere = new RegExp(keywords.map((k) => `(${literal(k.keyword)})`).join('|'), 'giu');
    this.bounded = keywords.map(({ keyword, wholeWord }) => ({
      start: wholeWord && isWordCharacter(String.fromCodePoint(keyword.codePointAt(0)!)),
      end: wholeWord && isWordCharacter([...keyword].pop()),
    }));
  }

  /** The first text the keywords find, as it is written in `text`; null when none matches. */
  find(text: string): string | null {
    this.anywhere.lastIndex = 0;
    for (let candidate = this.anywhere.exec(text); candidate; candidate = this.anywhere.exec(text)) {
      const at = candidate.index;
      const first = candidate.findIndex((group, i) => i > 0 && group !== undefined) - 1;
      if (this.withinBounds(first, text, at, candidate[0])) return candidate[0];
      // Rare: a keyword found inside a longer word. The keywords after it may still match here.
      for (let i = first + 1; i < this.keywords.length; i++) {
        const found = this.matchAt(i, text, at);
        if (found !== null) return found;
      }
      this.anywhere.lastIndex = at + (text.codePointAt(at)! > 0xffff ? 2 : 1);
    }
    return null;
  }

  private matchAt(i: number, text: string, at: number): string | null {
    const expression = (this.here[i] ??= new RegExp(literal(this.keywords[i].keyword), 'iuy'));
    expression.lastIndex = at;
    const found = expression.exec(text)?.[0];
    return found !== undefined && this.withinBounds(i, text, at, found) ? found : null;
  }

  private withinBounds(i: number, text: string, at: number, found: string): boolean {
    if (this.bounded[i].start && isWordCharacter(codePointBefore(text, at))) return false;
    return !(this.bounded[i].end && isWordCharacter(codePointFrom(text, at + found.length)));
  }
}

function codePointBefore(text: string, index: number): string | undefined {
  if (index === 0) return undefined;
  const low = text.charCodeAt(index - 1);
  const pair = index >= 2 && low >= 0xdc00 && low <= 0xdfff && text.charCodeAt(index - 2) >= 0xd800;
  return String.fromCodePoint(text.codePointAt(pair ? index - 2 : index - 1)!);
}

function codePointFrom(text: string, index: number): string | undefined {
  return index < text.length ? String.fromCodePoint(text.codePointAt(index)!) : undefined;
}

interface ActiveFilterRow {
  filter_id: string;
  title: string;
  context: string[];
  action: FilterAction;
  expires_at: Date | null;
  keyword: string | null;
  whole_word: boolean;
  status_id: string | null;
}

/** The viewer's filters that have not expired, with their keywords compiled and their status ids. */
export async function activeFilters(m: EntityManager, accountId: string): Promise<ActiveFilter[]> {
  const rows = await preparedQuery<ActiveFilterRow>(
    m,
    `SELECT f.id::text AS filter_id, f.title, f.context, f.action, f.expires_at,
            r.keyword, r.whole_word, r.status_id::text
       FROM filters f JOIN filter_rules r ON r.filter_id = f.id
      WHERE f.account_id = $1 AND (f.expires_at IS NULL OR f.expires_at > now())
      ORDER BY f.id, r.id`,
    [accountId],
  );
  const byFilter = new Map<
    string,
    { filter: FilterSummary; keywords: { keyword: string; wholeWord: boolean }[]; statusIds: Set<string> }
  >();
  for (const r of rows) {
    let entry = byFilter.get(r.filter_id);
    if (!entry) {
      entry = {
        filter: {
          id: r.filter_id,
          title: r.title,
          context: r.context,
          action: r.action,
          expiresAt: r.expires_at,
        },
        keywords: [],
        statusIds: new Set(),
      };
      byFilter.set(r.filter_id, entry);
    }
    if (r.keyword !== null) entry.keywords.push({ keyword: r.keyword, wholeWord: r.whole_word });
    if (r.status_id !== null) entry.statusIds.add(r.status_id);
  }
  return [...byFilter.values()].map((e) => ({
    filter: e.filter,
    keywords: e.keywords.length > 0 ? new KeywordMatcher(e.keywords) : null,
    statusIds: e.statusIds,
  }));
}

/**
 * The text keywords are looked for in (Mastodon's Status#searchable_text): the content warning, the
 * text as written (a remote status's HTML as plain text) and the media descriptions.
 */
export function searchableText(status: StatusRecord, media: readonly MediaRecord[]): string {
  return [
    status.spoilerText,
    status.local ? status.text : htmlAsPlainText(status.content),
    media.map((a) => a.description ?? '').join('\n\n'),
  ].join('\n\n');
}

/**
 * What each status of a page matches (Mastodon's CustomFilter.apply_cached_filters): a reblog is
 * matched by the text of the status it reblogs, by its own id and by that status's id, and the results
 * stand for both. Every filter that matches is named, whatever its context: the client, which knows
 * where it shows the status, decides — except that a `hide` filter's match is removed where it applies (`filteredOut`).
 */
export function matchFilters(
  filters: readonly ActiveFilter[],
  statuses: readonly StatusRecord[],
  reblogs: ReadonlyMap<string, StatusRecord>,
  media: ReadonlyMap<string, readonly MediaRecord[]>,
): Map<string, FilterResult[]> {
  const results = new Map<string, FilterResult[]>();
  if (filters.length === 0) return results;
  const needsText = filters.some((f) => f.keywords !== null);
  for (const status of statuses) {
    const proper = status.reblogOfId ? reblogs.get(status.reblogOfId) : status;
    if (!proper) continue;
    const text = needsText ? searchableText(proper, media.get(proper.id) ?? []) : '';
    const ids = status.reblogOfId ? [status.id, status.reblogOfId] : [status.id];
    const matched: FilterResult[] = [];
    for (const f of filters) {
      const keyword = f.keywords?.find(text) ?? null;
      const statusMatches = ids.filter((id) => f.statusIds.has(id));
      if (keyword === null && statusMatches.length === 0) continue;
      matched.push({
        filter: f.filter,
        keywordMatches: keyword !== null ? [keyword] : null,
        statusMatches: statusMatches.length > 0 ? statusMatches : null,
      });
    }
    if (matched.length === 0) continue;
    results.set(status.id, matched);
    if (status.reblogOfId) results.set(status.reblogOfId, matched);
  }
  return results;
}

/** Whether these results include a `hide` filter of `context`: what removes a status from where it is shown. */
export function hidesIn(results: readonly FilterResult[] | undefined, context: FilterContext): boolean {
  return results?.some((r) => r.filter.action === 'hide' && r.filter.context.includes(context)) === true;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** HTML as the text a person reads: line breaks and paragraphs as new lines, tags dropped, entities read. */
export function htmlAsPlainText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code =
          name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}
