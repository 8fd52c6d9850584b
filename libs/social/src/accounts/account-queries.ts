import { Injectable } from '@nestjs/common';
import { TenantTransactions } from '@townhall/tenancy';
import {
  type AccountRecord,
  findAccount,
  findAccountByAcct,
  findLogin,
  type LoginRecord,
} from './account-records';
import { AccountError } from './local-account-commands';

/** Reading accounts of the current tenant for the client API. */
@Injectable()
export class AccountQueries {
  constructor(private readonly transactions: TenantTransactions) {}

  /** The signed-in user's own account and login (`verify_credentials`). */
  async own(accountId: string): Promise<{ account: AccountRecord; login: LoginRecord }> {
    return this.transactions.run(async (m) => {
      const account = await findAccount(m, accountId);
      const login = account ? await findLogin(m, accountId) : null;
      if (!account || !login) throw new AccountError('account_not_found', 'Record not found');
      return { account, login };
    });
  }

  /** An account by id (404 for an id this tenant does not have). */
  async byId(id: string): Promise<AccountRecord> {
    if (!/^\d{1,19}$/.test(id)) throw new AccountError('account_not_found', 'Record not found');
    const account = await this.transactions.run((m) => findAccount(m, id));
    if (!account) throw new AccountError('account_not_found', 'Record not found');
    return account;
  }

  /** An account by username, and domain for a remote one. */
  async byAcct(username: string, domain: string | null): Promise<AccountRecord> {
    const account = await this.transactions.run((m) => findAccountByAcct(m, username, domain));
    if (!account) throw new AccountError('account_not_found', 'Record not found');
    return account;
  }
}
