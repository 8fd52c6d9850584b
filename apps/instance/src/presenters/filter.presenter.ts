import type {
  FilterKeywordRecord,
  FilterRecord,
  FilterResult,
  FilterStatusRecord,
  FilterSummary,
  V1FilterRecord,
} from '@townhall/social';

/** Mastodon's Filter entity (docs.joinmastodon.org/entities/Filter); its rules only where asked for. */
export interface MastodonFilter {
  id: string;
  title: string;
  context: string[];
  expires_at: string | null;
  filter_action: string;
  keywords?: MastodonFilterKeyword[];
  statuses?: MastodonFilterStatus[];
}

export interface MastodonFilterKeyword {
  id: string;
  keyword: string;
  whole_word: boolean;
}

export interface MastodonFilterStatus {
  id: string;
  status_id: string;
}

/** Mastodon's FilterResult entity, in a status's `filtered`. */
export interface MastodonFilterResult {
  filter: MastodonFilter;
  keyword_matches: string[] | null;
  status_matches: string[] | null;
}

/** Mastodon's deprecated V1::Filter entity: one keyword with its filter's settings. */
export interface MastodonV1Filter {
  id: string;
  phrase: string;
  context: string[];
  whole_word: boolean;
  expires_at: string | null;
  irreversible: boolean;
}

function filterSummary(f: FilterSummary): MastodonFilter {
  return {
    id: f.id,
    title: f.title,
    context: f.context,
    expires_at: f.expiresAt ? f.expiresAt.toISOString() : null,
    filter_action: f.action,
  };
}

export function filterKeywordEntity(k: FilterKeywordRecord): MastodonFilterKeyword {
  return { id: k.id, keyword: k.keyword, whole_word: k.wholeWord };
}

export function filterStatusEntity(s: FilterStatusRecord): MastodonFilterStatus {
  return { id: s.id, status_id: s.statusId };
}

/** A filter as the filters API answers it, with its keywords and statuses. */
export function filterEntity(f: FilterRecord): MastodonFilter {
  return {
    ...filterSummary(f),
    keywords: f.keywords.map(filterKeywordEntity),
    statuses: f.statuses.map(filterStatusEntity),
  };
}

/** As Mastodon renders a FilterResult: the filter without its rules. */
export function filterResultEntity(r: FilterResult): MastodonFilterResult {
  return {
    filter: filterSummary(r.filter),
    keyword_matches: r.keywordMatches,
    status_matches: r.statusMatches,
  };
}

export function v1FilterEntity({ keyword, filter }: V1FilterRecord): MastodonV1Filter {
  return {
    id: keyword.id,
    phrase: keyword.keyword,
    context: filter.context,
    whole_word: keyword.wholeWord,
    expires_at: filter.expiresAt ? filter.expiresAt.toISOString() : null,
    irreversible: filter.action === 'hide',
  };
}
