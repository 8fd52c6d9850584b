import type { TenantMigration } from './tenant-migration';

/**
 * The words an account is found by in account search — display name, then username, then domain, word
 * for word — as one expression, indexed here and searched with exactly this text by the account search
 * (libs/social), so that the two cannot drift apart.
 */
export const ACCOUNT_SEARCH_WORDS = `(setweight(to_tsvector('pg_catalog.simple', display_name), 'A')
  || setweight(to_tsvector('pg_catalog.simple', username), 'B')
  || setweight(to_tsvector('pg_catalog.simple', coalesce(domain, '')), 'C'))`;

/**
 * Search and followed hashtags. Two indexes and no more, because every relation costs each pooled
 * connection that touches the tenant catalog-cache memory (docs/architecture.md, Tenancy):
 * - account search runs on every keystroke of a mention's autocompletion, over local accounts and every
 *   remote account the tenant knows; without an index each search computes the words of all of them;
 * - posting a status with hashtags looks up who follows them, which the unique index on
 *   (kind, account_id, tag_id) cannot serve.
 * Statuses written before search existed get their search words, word for word (`simple`); statuses
 * posted or edited from now on are indexed in their language as well (libs/social, search).
 */
export const searchTags: TenantMigration = {
  version: 3,
  name: 'search_tags',
  statements: [
    `CREATE INDEX accounts_search ON accounts USING gin (${ACCOUNT_SEARCH_WORDS})`,
    `CREATE INDEX tag_relations_tag ON tag_relations (kind, tag_id)`,
    `UPDATE statuses s
        SET search = to_tsvector('pg_catalog.simple', concat_ws(E'\\n\\n', nullif(s.spoiler_text, ''), s.text,
              (SELECT string_agg(a.description, E'\\n\\n') FROM media_attachments a
                WHERE a.id = ANY(s.media_attachment_ids) AND a.description IS NOT NULL)))
      WHERE s.search IS NULL AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL AND s.local`,
  ],
};
