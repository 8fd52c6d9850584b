import type { EntityManager } from 'typeorm';
import { regconfigSql, SEARCH_CONFIGURATIONS } from './search-languages';

/** The language → configuration table as SQL rows, built once from a constant (no input in it). */
const LANGUAGE_ROWS = Object.entries(SEARCH_CONFIGURATIONS)
  .map(([code, config]) => `('${code}', '${config}')`)
  .join(', ');

/**
 * The words a status is found by, as Mastodon indexes them (Status#searchable_text): its content
 * warning, its text (the source of a local status; the content without markup of a remote one), its poll
 * options and its media descriptions.
 */
const DOCUMENT = `concat_ws(E'\\n\\n',
    nullif(s.spoiler_text, ''),
    CASE WHEN s.local THEN s.text
         ELSE replace(replace(replace(replace(replace(regexp_replace(s.content, '<[^>]*>', ' ', 'g'),
              '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&amp;', '&') END,
    (SELECT string_agg(o, E'\\n\\n') FROM polls p, unnest(p.options) AS o WHERE p.id = s.poll_id),
    (SELECT string_agg(a.description, E'\\n\\n') FROM media_attachments a
      WHERE a.id = ANY(s.media_attachment_ids) AND a.description IS NOT NULL))`;

/**
 * Fills a status's `search` column (tenant migration 2's GIN-indexed tsvector) from what it says now,
 * in the status's transaction: stemmed in its language where PostgreSQL has a configuration for it, and
 * word for word (`simple`) always, so exact words match whatever language the searcher uses. Reblogs and
 * deleted statuses are not indexed; they are never search results.
 */
export async function indexStatusForSearch(m: EntityManager, statusId: string): Promise<void> {
  await m.query(
    `WITH doc AS (
       SELECT s.id, ${DOCUMENT} AS text,
              ${regconfigSql(`(SELECT l.config FROM (VALUES ${LANGUAGE_ROWS}) AS l(code, config)
                                WHERE l.code = lower(split_part(replace(s.language, '_', '-'), '-', 1)))`)} AS config
         FROM statuses s WHERE s.id = $1 AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL)
     UPDATE statuses s
        SET search = CASE WHEN doc.config = 'pg_catalog.simple'::regconfig THEN to_tsvector(doc.config, doc.text)
                          ELSE to_tsvector(doc.config, doc.text) || to_tsvector('pg_catalog.simple', doc.text) END
       FROM doc WHERE s.id = doc.id`,
    [statusId],
  );
}
