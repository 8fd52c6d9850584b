import type { TenantMigration } from './tenant-migration';

/** Accounts (local and, later, remote), the local users behind them, and actor key pairs. */
export const accounts: TenantMigration = {
  version: 1,
  name: 'accounts',
  statements: [
    `CREATE TABLE accounts (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      username text NOT NULL,
      domain text,
      display_name text NOT NULL DEFAULT '',
      note text NOT NULL DEFAULT '',
      actor_type text NOT NULL DEFAULT 'Person' CHECK (actor_type IN ('Person','Service','Application','Group','Organization')),
      uri text NOT NULL,
      url text,
      locked boolean NOT NULL DEFAULT false,
      discoverable boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE UNIQUE INDEX accounts_username_domain ON accounts (lower(username), coalesce(lower(domain), ''))`,
    `CREATE UNIQUE INDEX accounts_uri ON accounts (uri)`,
    `CREATE TABLE users (
      id bigint PRIMARY KEY DEFAULT platform.next_id(),
      account_id bigint NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
      email text NOT NULL,
      role text NOT NULL DEFAULT 'user' CHECK (role IN ('owner','admin','moderator','user')),
      encrypted_password text,
      confirmed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE UNIQUE INDEX users_email ON users (lower(email))`,
    `CREATE TABLE actor_keys (
      account_id bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
      key_id text NOT NULL UNIQUE,
      public_key_pem text NOT NULL,
      private_key_sealed text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  ],
};
