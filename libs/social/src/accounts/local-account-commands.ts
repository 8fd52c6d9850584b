import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AuditedTransactions, type AuditPersonalData } from '@townhall/compliance';
import {
  checkEmailAddress,
  checkText,
  defineErrors,
  type TextCheck,
  publicUrl,
  TOWNHALL_CONFIG,
  type TownhallConfig,
} from '@townhall/core';
import { enterTenantSchema, type TenantRef } from '@townhall/tenancy';
import { insertLocalAccount, insertUser } from './local-accounts';
import { hashPassword } from './passwords';

export class AccountError extends defineErrors({
  invalid_account: { status: 422, title: 'Validation failed' },
  username_taken: { status: 422, title: 'Validation failed' },
  email_taken: { status: 422, title: 'Validation failed' },
  account_not_found: { status: 404, title: 'Record not found' },
}) {}

/** Who may do what on an instance: Mastodon's roles, and `staff` for an organisation's own people. */
export const USER_ROLES = ['owner', 'admin', 'moderator', 'staff', 'user'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Mastodon's rule: letters, digits and underscores, at most 30 characters. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_]{1,30}$/;

export interface CreateLocalAccountInput {
  username: string;
  email: string;
  role?: UserRole;
  displayName?: string;
  /** `Organization` or `Service` for an official body's account; `Person` by default. */
  actorType?: 'Person' | 'Service' | 'Organization';
}

export interface CreatedLocalAccount {
  accountId: string;
  userId: string;
  username: string;
  role: UserRole;
  /** Shown once to whoever created the account; only its Argon2 hash is stored. */
  password: string;
}

/**
 * Creating the accounts an organisation's people sign in with. Audited (`account.create`, the e-mail
 * address in the encrypted side table), refused creations too.
 */
@Injectable()
export class LocalAccountCommands {
  constructor(
    private readonly audited: AuditedTransactions,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** Creates a confirmed local account and its login on `tenant` (at its primary domain). */
  async create(
    tenant: TenantRef,
    primaryDomain: string,
    input: CreateLocalAccountInput,
  ): Promise<CreatedLocalAccount> {
    const role = input.role ?? 'user';
    const email = checkEmailAddress(input.email, 'email');
    const displayName =
      input.displayName === undefined || input.displayName === ''
        ? ({ text: '' } as TextCheck)
        : checkText(input.displayName, { field: 'displayName', maxLength: 30 });
    const problems = [
      USERNAME_PATTERN.test(input.username)
        ? undefined
        : 'username must be 1 to 30 letters, digits or underscores',
      email.problem,
      displayName.problem,
      (USER_ROLES as readonly string[]).includes(role)
        ? undefined
        : `role must be one of ${USER_ROLES.join(', ')}`,
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0)
      throw new AccountError('invalid_account', `Validation failed: ${problems.join('; ')}`);
    const password = randomBytes(18).toString('base64url');
    const passwordHash = await hashPassword(password);
    const person: AuditPersonalData = {
      identifier: `email:${email.address!.toLowerCase()}`,
      data: { email: email.address! },
    };
    const created = await this.audited.run({
      apply: async (m) => {
        await enterTenantSchema(m, tenant);
        try {
          const accountId = await insertLocalAccount(m, {
            username: input.username,
            displayName: displayName.text ?? '',
            actorType: input.actorType ?? 'Person',
            uri: publicUrl(this.config, primaryDomain, `/users/${input.username}`),
            url: publicUrl(this.config, primaryDomain, `/@${input.username}`),
          });
          const userId = await insertUser(m, { accountId, email: email.address!, role, confirmed: true });
          await m.query(
            `UPDATE users SET encrypted_password = $2, password_changed_at = now() WHERE id = $1`,
            [userId, passwordHash],
          );
          return { accountId, userId };
        } catch (err) {
          throw taken(err, input.username);
        }
      },
      recorded: ({ accountId }) => ({
        action: 'account.create',
        target: { type: 'account', id: accountId },
        tenant: tenant.id,
        details: { username: input.username, role },
        personal: [person],
      }),
      refused: () => ({
        action: 'account.create',
        target: { type: 'account', id: 'unknown' },
        tenant: tenant.id,
        details: { username: input.username },
      }),
    });
    return { ...created, username: input.username, role, password };
  }
}

function taken(err: unknown, username: string): unknown {
  if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505') {
    const constraint = (err.driverError as { constraint?: string }).constraint ?? '';
    return constraint.includes('email')
      ? new AccountError('email_taken', 'Validation failed: Email has already been taken')
      : new AccountError(
          'username_taken',
          `Validation failed: Username "${username}" has already been taken`,
        );
  }
  return err;
}
