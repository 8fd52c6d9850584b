/**
 * Which PostgreSQL text search configuration stems a language's words. A status in one of these
 * languages is indexed twice — stemmed in its language and word for word (`simple`) — so a search
 * finds it by an inflected form and by the exact word whatever language the searcher writes in; any
 * other language, and a status without one, is indexed word for word only.
 *
 * Keys are ISO 639-1 codes (and the 639-3 codes Mastodon's language list uses for the same languages);
 * values are configurations PostgreSQL ships in `pg_catalog`. The SQL that uses them still falls back
 * to `simple` when a server lacks one (older PostgreSQL versions ship fewer).
 */
export const SEARCH_CONFIGURATIONS: Readonly<Record<string, string>> = {
  ar: 'arabic',
  hy: 'armenian',
  eu: 'basque',
  ca: 'catalan',
  da: 'danish',
  nl: 'dutch',
  en: 'english',
  fi: 'finnish',
  fr: 'french',
  de: 'german',
  el: 'greek',
  hi: 'hindi',
  hu: 'hungarian',
  id: 'indonesian',
  ga: 'irish',
  it: 'italian',
  lt: 'lithuanian',
  ne: 'nepali',
  no: 'norwegian',
  nb: 'norwegian',
  nn: 'norwegian',
  pt: 'portuguese',
  ro: 'romanian',
  ru: 'russian',
  sr: 'serbian',
  es: 'spanish',
  sv: 'swedish',
  ta: 'tamil',
  tr: 'turkish',
  yi: 'yiddish',
};

/** The configuration for a language code (`en`, `pt-BR`, `de_AT`), or `simple` when none stems it. */
export function searchConfigurationFor(language: string | null | undefined): string {
  if (!language) return 'simple';
  const primary = language.split(/[-_]/)[0].toLowerCase();
  return SEARCH_CONFIGURATIONS[primary] ?? 'simple';
}

/**
 * SQL for "the `regconfig` of this configuration name", looked up in `pg_catalog` only (a tenant schema
 * can never shadow it) and `simple` when the server lacks it. `name` is a bind parameter.
 */
export function regconfigSql(name: string): string {
  return `coalesce((SELECT c.oid::regconfig FROM pg_catalog.pg_ts_config c
                     WHERE c.cfgname = ${name} AND c.cfgnamespace = 'pg_catalog'::regnamespace),
                   'pg_catalog.simple'::regconfig)`;
}
