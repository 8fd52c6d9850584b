import { Injectable } from '@nestjs/common';
import { AuditedTransactions } from '@townhall/compliance';
import { enterTenantSchema, type TenantRef } from '@townhall/tenancy';
import { ClientAuthError } from './oauth.errors';
import { insertApplication, insertToken, newSecret } from './oauth-records';
import { OOB_REDIRECT_URI } from './oauth.service';
import { parseScopes } from './scopes';

export interface IssuedPersonalToken {
  accessToken: string;
  scopes: string[];
  applicationId: string;
  tokenId: string;
}

/**
 * Tokens for automation (an agency's press-release robot), as Mastodon's "development applications":
 * an application owned by the account, with one access token of the scopes asked for. Issued by an
 * operator through the CLI, and audited (`token.create`: the account, the scopes, the token's id —
 * never the token). Revoked like any other token.
 */
@Injectable()
export class PersonalTokens {
  constructor(private readonly audited: AuditedTransactions) {}

  async issue(
    tenant: TenantRef,
    input: { username: string; scopes: string; applicationName?: string },
  ): Promise<IssuedPersonalToken> {
    const scopes = parseScopes(input.scopes);
    if (scopes === null)
      throw new ClientAuthError('validation_failed', `Validation failed: unknown scope in "${input.scopes}"`);
    const accessToken = newSecret();
    const issued = await this.audited.run({
      apply: async (m) => {
        await enterTenantSchema(m, tenant);
        const rows = (await m.query(
          `SELECT u.id::text AS user_id, a.id::text AS account_id
             FROM users u JOIN accounts a ON a.id = u.account_id
            WHERE a.domain IS NULL AND lower(a.username) = lower($1)`,
          [input.username],
        )) as { user_id: string; account_id: string }[];
        if (rows.length === 0) {
          throw new ClientAuthError(
            'validation_failed',
            `No local account "${input.username}" on this instance.`,
          );
        }
        const { application } = await insertApplication(m, {
          name: input.applicationName ?? 'Personal access token',
          website: null,
          redirectUris: [OOB_REDIRECT_URI],
          scopes,
          ownerAccountId: rows[0].account_id,
        });
        const token = await insertToken(m, {
          accessToken,
          refreshToken: null,
          applicationId: application.id,
          userId: rows[0].user_id,
          scopes,
        });
        return { applicationId: application.id, tokenId: token.id, accountId: rows[0].account_id };
      },
      recorded: ({ tokenId, accountId, applicationId }) => ({
        action: 'token.create',
        target: { type: 'account', id: accountId },
        tenant: tenant.id,
        details: { tokenId, applicationId, scopes: scopes.join(' ') },
      }),
      refused: () => ({
        action: 'token.create',
        target: { type: 'account', id: 'unknown' },
        tenant: tenant.id,
        details: { username: input.username },
      }),
    });
    return { accessToken, scopes, applicationId: issued.applicationId, tokenId: issued.tokenId };
  }
}
