import type { EntityManager } from 'typeorm';
import { preparedQuery } from '@townhall/persistence';

/** An account as the client API presents it: one row of `accounts`, with the login's settings if local. */
export interface AccountRecord {
  id: string;
  username: string;
  /** Null for a local account. */
  domain: string | null;
  displayName: string;
  note: string;
  uri: string;
  url: string | null;
  actorType: string;
  locked: boolean;
  bot: boolean;
  discoverable: boolean;
  indexable: boolean;
  hideCollections: boolean;
  fields: { name: string; value: string; verified_at?: string | null }[];
  avatar: { key: string; static?: string } | null;
  header: { key: string; static?: string } | null;
  statusesCount: number;
  followersCount: number;
  followingCount: number;
  lastStatusAt: Date | null;
  suspendedAt: Date | null;
  memorial: boolean;
  createdAt: Date;
}

/** The login behind a local account: what `verify_credentials` adds as `source` and `role`. */
export interface LoginRecord {
  userId: string;
  role: string;
  locale: string | null;
  settings: Record<string, unknown>;
  followRequestsCount: number;
}

const COLUMNS = `a.id::text, a.username, a.domain, a.display_name, a.note, a.uri, a.url, a.actor_type, a.locked, a.bot,
  a.discoverable, a.indexable, a.hide_collections, a.fields, a.avatar, a.header, a.statuses_count,
  a.followers_count, a.following_count, a.last_status_at, a.suspended_at, a.memorial, a.created_at`;

type Row = {
  id: string;
  username: string;
  domain: string | null;
  display_name: string;
  note: string;
  uri: string;
  url: string | null;
  actor_type: string;
  locked: boolean;
  bot: boolean;
  discoverable: boolean;
  indexable: boolean;
  hide_collections: boolean;
  fields: AccountRecord['fields'];
  avatar: { key: string; static?: string } | null;
  header: { key: string; static?: string } | null;
  statuses_count: number;
  followers_count: number;
  following_count: number;
  last_status_at: Date | null;
  suspended_at: Date | null;
  memorial: boolean;
  created_at: Date;
};

function record(r: Row): AccountRecord {
  return {
    id: r.id,
    username: r.username,
    domain: r.domain,
    displayName: r.display_name,
    note: r.note,
    uri: r.uri,
    url: r.url,
    actorType: r.actor_type,
    locked: r.locked,
    bot: r.bot,
    discoverable: r.discoverable,
    indexable: r.indexable,
    hideCollections: r.hide_collections,
    fields: r.fields,
    avatar: r.avatar,
    header: r.header,
    statusesCount: r.statuses_count,
    followersCount: r.followers_count,
    followingCount: r.following_count,
    lastStatusAt: r.last_status_at,
    suspendedAt: r.suspended_at,
    memorial: r.memorial,
    createdAt: r.created_at,
  };
}

/** Accounts by id, in the order asked for; missing ids are left out. */
export async function findAccounts(m: EntityManager, ids: readonly string[]): Promise<AccountRecord[]> {
  if (ids.length === 0) return [];
  const rows = await preparedQuery<Row>(
    m,
    `SELECT ${COLUMNS} FROM accounts a WHERE a.id = ANY($1::bigint[])`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id, record(r)]));
  return ids.map((id) => byId.get(id)).filter((a): a is AccountRecord => a !== undefined);
}

export async function findAccount(m: EntityManager, id: string): Promise<AccountRecord | null> {
  return (await findAccounts(m, [id]))[0] ?? null;
}

/** A local account by username, or a remote one by `username@domain` (case-insensitive). */
export async function findAccountByAcct(
  m: EntityManager,
  username: string,
  domain: string | null,
): Promise<AccountRecord | null> {
  const rows = (await m.query(
    `SELECT ${COLUMNS} FROM accounts a
      WHERE lower(a.username) = lower($1) AND coalesce(lower(a.domain), '') = coalesce(lower($2), '')`,
    [username, domain],
  )) as Row[];
  return rows[0] ? record(rows[0]) : null;
}

export async function findLogin(m: EntityManager, accountId: string): Promise<LoginRecord | null> {
  const rows = (await m.query(
    `SELECT u.id::text AS user_id, u.role, u.locale, u.settings,
            (SELECT count(*)::int FROM account_relations r WHERE r.kind = 1 AND r.target_account_id = u.account_id)
              AS follow_requests_count
       FROM users u WHERE u.account_id = $1`,
    [accountId],
  )) as {
    user_id: string;
    role: string;
    locale: string | null;
    settings: Record<string, unknown>;
    follow_requests_count: number;
  }[];
  const r = rows[0];
  return r
    ? {
        userId: r.user_id,
        role: r.role,
        locale: r.locale,
        settings: r.settings,
        followRequestsCount: r.follow_requests_count,
      }
    : null;
}
