import type { TenantMigration } from './tenant-migration';

/**
 * The Mastodon domain of a tenant: logins and OAuth, statuses and everything that hangs off them,
 * relationships, feeds, notifications. Kinds of the same shape share a table (`account_relations`,
 * `status_reactions`, `tag_relations`, `filter_rules`) because every relation of a tenant schema costs
 * each pooled connection that touches the tenant catalog-cache memory (docs/architecture.md, Tenancy).
 *
 * Counters on `accounts` and `statuses` are kept by the use cases in the same transaction as the row they
 * count, as Mastodon's counter caches are; ids come from `platform.next_id()` and sort by time.
 */
export const social: TenantMigration = {
  version: 2,
  name: 'social',
  statements: [
    // --- accounts and logins -------------------------------------------------------------------------
    `ALTER TABLE accounts
       ADD COLUMN fields jsonb NOT NULL DEFAULT '[]',
       ADD COLUMN bot boolean NOT NULL DEFAULT false,
       ADD COLUMN indexable boolean NOT NULL DEFAULT true,
       ADD COLUMN hide_collections boolean NOT NULL DEFAULT false,
       ADD COLUMN avatar jsonb,
       ADD COLUMN header jsonb,
       ADD COLUMN statuses_count integer NOT NULL DEFAULT 0,
       ADD COLUMN followers_count integer NOT NULL DEFAULT 0,
       ADD COLUMN following_count integer NOT NULL DEFAULT 0,
       ADD COLUMN last_status_at timestamptz,
       ADD COLUMN suspended_at timestamptz,
       ADD COLUMN silenced_at timestamptz,
       ADD COLUMN memorial boolean NOT NULL DEFAULT false,
       ADD COLUMN moved_to_account_id bigint REFERENCES accounts(id) ON DELETE SET NULL,
       ADD COLUMN inbox_url text,
       ADD COLUMN shared_inbox_url text,
       ADD COLUMN outbox_url text,
       ADD COLUMN followers_url text,
       ADD COLUMN featured_url text,
       ADD COLUMN public_key_pem text,
       ADD COLUMN fetched_at timestamptz`,
    `ALTER TABLE users
       ADD COLUMN locale text,
       ADD COLUMN chosen_languages text[],
       ADD COLUMN settings jsonb NOT NULL DEFAULT '{}',
       ADD COLUMN disabled boolean NOT NULL DEFAULT false,
       ADD COLUMN password_changed_at timestamptz,
       ADD COLUMN last_sign_in_at timestamptz,
       ADD COLUMN sign_in_count integer NOT NULL DEFAULT 0`,
    `ALTER TABLE users DROP CONSTRAINT users_role_check`,
    `ALTER TABLE users ADD CONSTRAINT users_role_check
       CHECK (role IN ('owner','admin','moderator','staff','user'))`,

    // --- OAuth ---------------------------------------------------------------------------------------
    `CREATE TABLE oauth_applications (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      name text NOT NULL,
      website text,
      redirect_uris text[] NOT NULL,
      scopes text NOT NULL,
      client_id text NOT NULL UNIQUE,
      client_secret_hash bytea NOT NULL,
      owner_account_id bigint REFERENCES accounts(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE oauth_access_grants (
      code_hash bytea PRIMARY KEY,
      application_id bigint NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
      user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      redirect_uri text NOT NULL,
      scopes text NOT NULL,
      code_challenge text,
      code_challenge_method text,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE oauth_access_tokens (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      token_hash bytea NOT NULL UNIQUE,
      refresh_token_hash bytea UNIQUE,
      application_id bigint REFERENCES oauth_applications(id) ON DELETE CASCADE,
      user_id bigint REFERENCES users(id) ON DELETE CASCADE,
      scopes text NOT NULL,
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX oauth_access_tokens_user ON oauth_access_tokens (user_id) WHERE revoked_at IS NULL`,

    // --- statuses ------------------------------------------------------------------------------------
    `CREATE TABLE conversations (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      uri text UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE statuses (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      uri text,
      url text,
      local boolean NOT NULL DEFAULT true,
      text text NOT NULL DEFAULT '',
      content text NOT NULL DEFAULT '',
      spoiler_text text NOT NULL DEFAULT '',
      visibility smallint NOT NULL DEFAULT 0 CHECK (visibility BETWEEN 0 AND 3),
      sensitive boolean NOT NULL DEFAULT false,
      language text,
      in_reply_to_id bigint REFERENCES statuses(id) ON DELETE SET NULL,
      in_reply_to_account_id bigint REFERENCES accounts(id) ON DELETE SET NULL,
      reblog_of_id bigint REFERENCES statuses(id) ON DELETE CASCADE,
      conversation_id bigint REFERENCES conversations(id) ON DELETE SET NULL,
      application_id bigint REFERENCES oauth_applications(id) ON DELETE SET NULL,
      media_attachment_ids bigint[] NOT NULL DEFAULT '{}',
      poll_id bigint,
      replies_count integer NOT NULL DEFAULT 0,
      reblogs_count integer NOT NULL DEFAULT 0,
      favourites_count integer NOT NULL DEFAULT 0,
      edited_at timestamptz,
      deleted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      search tsvector
    )`,
    // An account's statuses, newest first (profiles, fan-out on read for small follow sets).
    `CREATE INDEX statuses_account ON statuses (account_id, id DESC) WHERE deleted_at IS NULL`,
    // Public timelines: public, not a reply to someone else, not a reblog.
    `CREATE INDEX statuses_public ON statuses (id DESC) INCLUDE (local)
       WHERE deleted_at IS NULL AND visibility = 0 AND reblog_of_id IS NULL`,
    `CREATE INDEX statuses_replies ON statuses (in_reply_to_id, id) WHERE in_reply_to_id IS NOT NULL`,
    `CREATE UNIQUE INDEX statuses_reblog ON statuses (account_id, reblog_of_id)
       WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL`,
    `CREATE UNIQUE INDEX statuses_uri ON statuses (uri) WHERE uri IS NOT NULL`,
    `CREATE INDEX statuses_search ON statuses USING gin (search) WHERE search IS NOT NULL`,
    `CREATE TABLE status_edits (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      status_id bigint NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      text text NOT NULL,
      content text NOT NULL,
      spoiler_text text NOT NULL,
      sensitive boolean NOT NULL,
      media jsonb NOT NULL DEFAULT '[]',
      poll jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX status_edits_status ON status_edits (status_id, id)`,
    `CREATE TABLE mentions (
      status_id bigint NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      silent boolean NOT NULL DEFAULT false,
      PRIMARY KEY (status_id, account_id)
    )`,
    `CREATE INDEX mentions_account ON mentions (account_id, status_id DESC)`,
    `CREATE TABLE tags (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      name text NOT NULL,
      display_name text NOT NULL,
      usable boolean NOT NULL DEFAULT true,
      last_status_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE UNIQUE INDEX tags_name ON tags (lower(name))`,
    `CREATE TABLE status_tags (
      tag_id bigint NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
      status_id bigint NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
      PRIMARY KEY (tag_id, status_id)
    )`,
    `CREATE INDEX status_tags_status ON status_tags (status_id)`,
    `CREATE TABLE media_attachments (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      status_id bigint REFERENCES statuses(id) ON DELETE SET NULL,
      scheduled_status_id bigint,
      type text NOT NULL CHECK (type IN ('image','gifv','video','audio','unknown')),
      content_type text NOT NULL,
      file_key text,
      file_size bigint NOT NULL DEFAULT 0,
      remote_url text,
      description text,
      focus_x real,
      focus_y real,
      meta jsonb NOT NULL DEFAULT '{}',
      blurhash text,
      processing smallint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX media_attachments_status ON media_attachments (status_id) WHERE status_id IS NOT NULL`,
    `CREATE INDEX media_attachments_unattached ON media_attachments (created_at)
       WHERE status_id IS NULL AND scheduled_status_id IS NULL`,
    `CREATE TABLE polls (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      status_id bigint REFERENCES statuses(id) ON DELETE CASCADE,
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      options text[] NOT NULL,
      tallies integer[] NOT NULL,
      multiple boolean NOT NULL DEFAULT false,
      hide_totals boolean NOT NULL DEFAULT false,
      votes_count integer NOT NULL DEFAULT 0,
      voters_count integer NOT NULL DEFAULT 0,
      expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE poll_votes (
      poll_id bigint NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      choice smallint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (poll_id, account_id, choice)
    )`,
    `CREATE TABLE scheduled_statuses (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      application_id bigint REFERENCES oauth_applications(id) ON DELETE SET NULL,
      scheduled_at timestamptz NOT NULL,
      params jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX scheduled_statuses_due ON scheduled_statuses (scheduled_at)`,
    `CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id)`,

    // --- who relates to whom, and to what --------------------------------------------------------------
    // kind: 0 follow, 1 follow request, 2 block, 3 mute, 4 endorsement.
    `CREATE TABLE account_relations (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      kind smallint NOT NULL CHECK (kind BETWEEN 0 AND 4),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      target_account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      show_reblogs boolean NOT NULL DEFAULT true,
      notify boolean NOT NULL DEFAULT false,
      languages text[],
      hide_notifications boolean NOT NULL DEFAULT true,
      expires_at timestamptz,
      uri text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (kind, account_id, target_account_id)
    )`,
    `CREATE INDEX account_relations_target ON account_relations (kind, target_account_id, id)`,
    // kind: 0 favourite, 1 bookmark, 2 pin.
    `CREATE TABLE status_reactions (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      kind smallint NOT NULL CHECK (kind BETWEEN 0 AND 2),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      status_id bigint NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
      uri text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (kind, account_id, status_id)
    )`,
    `CREATE INDEX status_reactions_status ON status_reactions (kind, status_id, id)`,
    `CREATE INDEX status_reactions_account ON status_reactions (kind, account_id, id)`,
    // kind: 0 followed, 1 featured.
    `CREATE TABLE tag_relations (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      kind smallint NOT NULL CHECK (kind BETWEEN 0 AND 1),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      tag_id bigint NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (kind, account_id, tag_id)
    )`,
    `CREATE TABLE conversation_mutes (
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      PRIMARY KEY (account_id, conversation_id)
    )`,

    // --- feeds and what a user reads ----------------------------------------------------------------
    `CREATE TABLE home_feed (
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      status_id bigint NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
      PRIMARY KEY (account_id, status_id)
    )`,
    `CREATE TABLE account_conversations (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      participant_account_ids bigint[] NOT NULL,
      last_status_id bigint REFERENCES statuses(id) ON DELETE SET NULL,
      unread boolean NOT NULL DEFAULT false,
      UNIQUE (account_id, conversation_id, participant_account_ids)
    )`,
    `CREATE INDEX account_conversations_recent ON account_conversations (account_id, last_status_id DESC)`,
    `CREATE TABLE notifications (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      from_account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      type text NOT NULL,
      status_id bigint REFERENCES statuses(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX notifications_account ON notifications (account_id, id DESC)`,
    `CREATE TABLE lists (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      title text NOT NULL,
      replies_policy text NOT NULL DEFAULT 'list' CHECK (replies_policy IN ('followed','list','none')),
      exclusive boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX lists_account ON lists (account_id)`,
    `CREATE TABLE list_accounts (
      list_id bigint NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      PRIMARY KEY (list_id, account_id)
    )`,
    `CREATE TABLE filters (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      title text NOT NULL,
      context text[] NOT NULL,
      action text NOT NULL DEFAULT 'warn' CHECK (action IN ('warn','hide','blur')),
      expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX filters_account ON filters (account_id)`,
    // A keyword (status_id NULL) or a filtered status (keyword NULL).
    `CREATE TABLE filter_rules (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      filter_id bigint NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
      keyword text,
      whole_word boolean NOT NULL DEFAULT true,
      status_id bigint REFERENCES statuses(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((keyword IS NULL) <> (status_id IS NULL))
    )`,
    `CREATE INDEX filter_rules_filter ON filter_rules (filter_id)`,
    `CREATE TABLE markers (
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      timeline text NOT NULL CHECK (timeline IN ('home','notifications')),
      last_read_id bigint NOT NULL,
      version integer NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, timeline)
    )`,
    `CREATE TABLE idempotency_keys (
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      key text NOT NULL,
      request_hash bytea NOT NULL,
      response jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, key)
    )`,
  ],
};
