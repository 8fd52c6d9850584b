import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { checkText } from '@townhall/core';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { type AccountRecord, findAccounts } from '../accounts/account-records';
import { StatusError } from '../statuses/status-errors';

export const REPLIES_POLICIES = ['followed', 'list', 'none'] as const;
export type RepliesPolicy = (typeof REPLIES_POLICIES)[number];

/** Mastodon's limits (List::PER_ACCOUNT_LIMIT; a title as long as a display name can be read). */
export const LIST_LIMITS = { perAccount: 50, title: 100 } as const;

/** A list of accounts a user reads apart from home (Mastodon's List entity). */
export interface ListRecord {
  id: string;
  title: string;
  repliesPolicy: RepliesPolicy;
  exclusive: boolean;
}

export interface ListChange {
  title?: string;
  repliesPolicy?: string;
  exclusive?: boolean;
}

type ListRow = { id: string; title: string; replies_policy: RepliesPolicy; exclusive: boolean };
const LIST_COLUMNS = `id::text, title, replies_policy, exclusive`;
const toRecord = (r: ListRow): ListRecord => ({
  id: r.id,
  title: r.title,
  repliesPolicy: r.replies_policy,
  exclusive: r.exclusive,
});

/**
 * Lists (Mastodon's ListsController and ListAccountsController): each belongs to one account, holds
 * accounts that account follows, and is read as its own timeline. An exclusive list's members are
 * left out of home. Another account's list is 404, as if it did not exist.
 */
@Injectable()
export class Lists {
  constructor(private readonly transactions: TenantTransactions) {}

  all(owner: string): Promise<ListRecord[]> {
    return this.transactions.run(async (m) =>
      (
        (await m.query(`SELECT ${LIST_COLUMNS} FROM lists WHERE account_id = $1 ORDER BY id`, [
          owner,
        ])) as ListRow[]
      ).map(toRecord),
    );
  }

  get(owner: string, id: string): Promise<ListRecord> {
    return this.transactions.run((m) => ownList(m, owner, id));
  }

  /** The owner's lists that hold `accountId` (`GET /api/v1/accounts/:id/lists`). */
  holding(owner: string, accountId: string): Promise<ListRecord[]> {
    return this.transactions.run(async (m) =>
      (
        (await m.query(
          `SELECT l.id::text, l.title, l.replies_policy, l.exclusive FROM lists l
             JOIN list_accounts la ON la.list_id = l.id
            WHERE l.account_id = $1 AND la.account_id = $2 ORDER BY l.id`,
          [owner, /^\d{1,19}$/.test(accountId) ? accountId : null],
        )) as ListRow[]
      ).map(toRecord),
    );
  }

  create(owner: string, change: ListChange): Promise<ListRecord> {
    const checked = checkChange(change, true);
    return this.transactions.run(async (m) => {
      // The owner's row is locked so that two creations at once cannot both pass the count.
      await m.query(`SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, [owner]);
      const [{ lists }] = (await m.query(`SELECT count(*)::int AS lists FROM lists WHERE account_id = $1`, [
        owner,
      ])) as { lists: number }[];
      if (lists >= LIST_LIMITS.perAccount) {
        throw invalid(`You have reached the maximum number of lists (${LIST_LIMITS.perAccount})`);
      }
      const [row] = (await m.query(
        `INSERT INTO lists (account_id, title, replies_policy, exclusive) VALUES ($1, $2, coalesce($3, 'list'), coalesce($4, false))
         RETURNING ${LIST_COLUMNS}`,
        [owner, checked.title, checked.repliesPolicy ?? null, checked.exclusive ?? null],
      )) as ListRow[];
      return toRecord(row);
    });
  }

  update(owner: string, id: string, change: ListChange): Promise<ListRecord> {
    const checked = checkChange(change, false);
    return this.transactions.run(async (m) => {
      await ownList(m, owner, id);
      const [row] = changedRows<ListRow>(
        await m.query(
          `UPDATE lists SET title = coalesce($3, title), replies_policy = coalesce($4, replies_policy),
                  exclusive = coalesce($5, exclusive)
            WHERE id = $1 AND account_id = $2 RETURNING ${LIST_COLUMNS}`,
          [id, owner, checked.title ?? null, checked.repliesPolicy ?? null, checked.exclusive ?? null],
        ),
      );
      return toRecord(row);
    });
  }

  async remove(owner: string, id: string): Promise<void> {
    await this.transactions.run(async (m) => {
      await ownList(m, owner, id);
      await m.query(`DELETE FROM lists WHERE id = $1`, [id]);
    });
  }

  /** The list's accounts, paged by account id (Mastodon: limit 0 means all of them). */
  members(
    owner: string,
    id: string,
    page: { limit: number; maxId?: string; sinceId?: string; minId?: string },
  ): Promise<{ accounts: AccountRecord[]; cursorIds: string[] }> {
    return this.transactions.run(async (m) => {
      await ownList(m, owner, id);
      const rows = (await m.query(
        `SELECT account_id::text FROM list_accounts
          WHERE list_id = $1 AND ($2::bigint IS NULL OR account_id < $2) AND ($3::bigint IS NULL OR account_id > $3)
          ORDER BY account_id ${page.minId ? 'ASC' : 'DESC'} ${page.limit > 0 ? 'LIMIT $4' : ''}`,
        [id, page.maxId ?? null, page.minId ?? page.sinceId ?? null, ...(page.limit > 0 ? [page.limit] : [])],
      )) as { account_id: string }[];
      const ids = rows.map((r) => r.account_id);
      if (page.minId) ids.reverse();
      const byId = new Map((await findAccounts(m, ids)).map((a) => [a.id, a]));
      const kept = ids.filter((a) => byId.has(a));
      return { accounts: kept.map((a) => byId.get(a)!), cursorIds: kept };
    });
  }

  /**
   * Adds accounts the owner follows (or asked to follow), as Mastodon 4.3 requires; all or nothing. An
   * account already on the list is refused, as Mastodon does, so a client can tell.
   */
  async add(owner: string, id: string, accountIds: string[]): Promise<void> {
    const ids = checkedIds(accountIds);
    await this.transactions.run(async (m) => {
      await ownList(m, owner, id);
      const followed = (await m.query(
        `SELECT target_account_id::text AS id FROM account_relations
          WHERE kind IN (0, 1) AND account_id = $1 AND target_account_id = ANY($2::bigint[])`,
        [owner, ids],
      )) as { id: string }[];
      const known = new Set(followed.map((r) => r.id));
      if ((await findAccounts(m, ids)).length < ids.length)
        throw new StatusError('not_found', 'Record not found');
      if (ids.some((a) => !known.has(a))) throw invalid('You must follow an account to add it to a list');
      const inserted = (await m.query(
        `INSERT INTO list_accounts (list_id, account_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING RETURNING 1`,
        [id, ids],
      )) as unknown[];
      if (inserted.length < ids.length) throw invalid('Account has already been taken');
    });
  }

  async removeMembers(owner: string, id: string, accountIds: string[]): Promise<void> {
    const ids = checkedIds(accountIds);
    await this.transactions.run(async (m) => {
      await ownList(m, owner, id);
      await m.query(`DELETE FROM list_accounts WHERE list_id = $1 AND account_id = ANY($2::bigint[])`, [
        id,
        ids,
      ]);
    });
  }
}

async function ownList(m: EntityManager, owner: string, id: string): Promise<ListRecord> {
  if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
  const [row] = (await m.query(`SELECT ${LIST_COLUMNS} FROM lists WHERE id = $1 AND account_id = $2`, [
    id,
    owner,
  ])) as ListRow[];
  if (!row) throw new StatusError('not_found', 'Record not found');
  return toRecord(row);
}

function invalid(problem: string): StatusError {
  return new StatusError('validation_failed', `Validation failed: ${problem}`);
}

function checkChange(change: ListChange, creating: boolean): ListChange {
  const problems: string[] = [];
  let title: string | undefined;
  if (change.title !== undefined || creating) {
    const checked = checkText(change.title ?? '', { field: 'Title', maxLength: LIST_LIMITS.title });
    if (checked.problem !== undefined)
      problems.push(checked.problem === 'Title must not be blank' ? "Title can't be blank" : checked.problem);
    title = checked.text;
  }
  if (
    change.repliesPolicy !== undefined &&
    !(REPLIES_POLICIES as readonly string[]).includes(change.repliesPolicy)
  ) {
    problems.push('Replies policy is not included in the list');
  }
  if (problems.length > 0) throw invalid(problems.join(', '));
  return { title, repliesPolicy: change.repliesPolicy, exclusive: change.exclusive };
}

function checkedIds(ids: string[]): string[] {
  if (ids.length === 0 || ids.length > 100 || ids.some((id) => !/^\d{1,19}$/.test(id))) {
    throw new StatusError('not_found', 'Record not found');
  }
  return [...new Set(ids)];
}
