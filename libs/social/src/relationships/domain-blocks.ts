import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { canonicalHost } from '@townhall/core';
import { TenantTransactions } from '@townhall/tenancy';
import { StatusError } from '../statuses/status-errors';
import { pageBounds, type PageRequest } from '../statuses/status-records';
import { RELATION, stopFollowing } from './relationships';

/**
 * The domains a user blocks (Mastodon's AccountDomainBlock and AfterBlockDomainFromAccountService): their
 * accounts' statuses leave the user's timelines, threads and search, and their notifications stop —
 * unless the user follows the account (notHiddenFrom, wantsNotification) —, and blocking ends every
 * follow and follow request between the user and accounts of the domain, and removes the notifications
 * they raised. Domains are stored in their canonical form (lower case, punycode, no trailing dot).
 */
@Injectable()
export class DomainBlocks {
  constructor(private readonly transactions: TenantTransactions) {}

  /** The user's blocked domains, newest block first, paged by block id. */
  list(accountId: string, page: PageRequest): Promise<{ domains: string[]; cursorIds: string[] }> {
    return this.transactions.run(async (m) => {
      const bounds = pageBounds('id', page, 3);
      const rows = (await m.query(
        `SELECT id::text, domain FROM account_domain_blocks WHERE account_id = $1 AND ${bounds.where}
          ORDER BY ${bounds.order} LIMIT $2`,
        [accountId, page.limit, ...bounds.params],
      )) as { id: string; domain: string }[];
      if (page.minId) rows.reverse();
      return { domains: rows.map((r) => r.domain), cursorIds: rows.map((r) => r.id) };
    });
  }

  async block(accountId: string, rawDomain: unknown): Promise<void> {
    const domain = checkedDomain(rawDomain);
    await this.transactions.run(async (m) => {
      const added = (await m.query(
        `INSERT INTO account_domain_blocks (account_id, domain) VALUES ($1, $2)
         ON CONFLICT (account_id, domain) DO NOTHING RETURNING 1`,
        [accountId, domain],
      )) as unknown[];
      if (added.length > 0) await severDomain(m, accountId, domain);
    });
  }

  async unblock(accountId: string, rawDomain: unknown): Promise<void> {
    const domain = checkedDomain(rawDomain);
    await this.transactions.run((m) =>
      m.query(`DELETE FROM account_domain_blocks WHERE account_id = $1 AND domain = $2`, [accountId, domain]),
    );
  }
}

function checkedDomain(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new StatusError('validation_failed', "Validation failed: Domain can't be blank");
  }
  const domain = canonicalHost(raw.trim());
  if (domain === undefined || domain.includes(':')) {
    throw new StatusError('validation_failed', 'Validation failed: Domain is invalid');
  }
  return domain;
}

/** What blocking a domain ends between the user and the domain's accounts, in the blocking transaction. */
async function severDomain(m: EntityManager, accountId: string, domain: string): Promise<void> {
  const follows = (await m.query(
    `SELECT r.account_id::text AS follower, r.target_account_id::text AS followed
       FROM account_relations r JOIN accounts a ON a.domain = $2
        AND a.id = CASE WHEN r.account_id = $1 THEN r.target_account_id ELSE r.account_id END
      WHERE r.kind = $3 AND (r.account_id = $1 OR r.target_account_id = $1)`,
    [accountId, domain, RELATION.follow],
  )) as { follower: string; followed: string }[];
  for (const f of follows) await stopFollowing(m, f.follower, f.followed);
  await m.query(
    `DELETE FROM account_relations r USING accounts a
      WHERE r.kind = $3 AND a.domain = $2
        AND ((r.account_id = $1 AND r.target_account_id = a.id) OR (r.target_account_id = $1 AND r.account_id = a.id))`,
    [accountId, domain, RELATION.request],
  );
  await m.query(
    `DELETE FROM notifications n USING accounts a
      WHERE n.account_id = $1 AND n.from_account_id = a.id AND a.domain = $2`,
    [accountId, domain],
  );
}
