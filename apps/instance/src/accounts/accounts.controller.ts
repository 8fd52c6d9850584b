import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { AccountQueries } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { AccountPresenter, type MastodonCredentialAccount } from '../presenters/account.presenter';
import { CurrentTenant } from '../tenant-site';

@ApiTags('accounts')
@Controller('api/v1/accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountQueries,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('verify_credentials')
  @Authenticated(['read:accounts', 'profile'])
  @ApiOperation({
    summary: 'Verify account credentials',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#verify_credentials' },
  })
  @ApiOkResponse({ description: 'CredentialAccount' })
  async verifyCredentials(
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonCredentialAccount> {
    const { account, login } = await this.accounts.own(access.accountId);
    return new AccountPresenter(this.config, tenant.primaryDomain).credentialAccount(account, login);
  }
}
