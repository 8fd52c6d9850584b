import type { EntityManager } from 'typeorm';

/**
 * Mastodon usernames: letters, digits and underscores, at most 30 characters. A username derived from
 * an email address keeps what fits and falls back to a neutral name.
 */
export function usernameFromEmail(email: string, fallback = 'admin'): string {
  const local = email
    .split('@')[0]
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 30);
  return local.length > 0 ? local : fallback;
}

export interface NewLocalAccount {
  username: string;
  displayName: string;
  actorType: 'Person' | 'Service' | 'Application' | 'Organization';
  uri: string;
  url: string | null;
}

/** Inserts a local account in the current tenant schema (the caller's transaction) and returns its id. */
export async function insertLocalAccount(manager: EntityManager, account: NewLocalAccount): Promise<string> {
  const rows = (await manager.query(
    `INSERT INTO accounts (username, domain, display_name, actor_type, uri, url)
     VALUES ($1, NULL, $2, $3, $4, $5) RETURNING id::text AS id`,
    [account.username, account.displayName, account.actorType, account.uri, account.url],
  )) as { id: string }[];
  return rows[0].id;
}

export async function findLocalAccountId(manager: EntityManager, username: string): Promise<string | null> {
  const rows = (await manager.query(
    `SELECT id::text AS id FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL`,
    [username],
  )) as { id: string }[];
  return rows[0]?.id ?? null;
}

export async function insertUser(
  manager: EntityManager,
  user: {
    accountId: string;
    email: string;
    role: 'owner' | 'admin' | 'moderator' | 'staff' | 'user';
    confirmed: boolean;
  },
): Promise<string> {
  const rows = (await manager.query(
    `INSERT INTO users (account_id, email, role, confirmed_at) VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END)
     RETURNING id::text AS id`,
    [user.accountId, user.email, user.role, user.confirmed],
  )) as { id: string }[];
  return rows[0].id;
}
