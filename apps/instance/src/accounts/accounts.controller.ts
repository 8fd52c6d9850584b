import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  Authenticated,
  type ClientAccess,
  CurrentAccess,
  OptionallyAuthenticated,
  type UserAccess,
} from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { AccountQueries, StatusQueries } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { RailsBoolean } from '../params';
import {
  AccountPresenter,
  type MastodonAccount,
  type MastodonCredentialAccount,
} from '../presenters/account.presenter';
import { type MastodonStatus, StatusPresenter } from '../presenters/status.presenter';
import { CurrentTenant } from '../tenant-site';

@MastodonParams()
export class AccountStatusesParams extends PageParams {
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  exclude_replies?: boolean;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  exclude_reblogs?: boolean;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  only_media?: boolean;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  pinned?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  tagged?: string;
}

@MastodonParams()
export class LookupParams {
  @IsString()
  @MaxLength(300)
  acct: string;
}

@ApiTags('accounts')
@Controller('api/v1/accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountQueries,
    private readonly statuses: StatusQueries,
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

  @Get('lookup')
  @OptionallyAuthenticated('read:accounts')
  @ApiOperation({
    summary: 'Look up an account by acct',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#lookup' },
  })
  @ApiOkResponse({ description: 'Account' })
  async lookup(
    @Query() params: LookupParams,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonAccount> {
    const acct = params.acct.replace(/^@/, '');
    const [username, domain] = acct.split('@');
    const local =
      domain === undefined ||
      domain.toLowerCase() === tenant.primaryDomain ||
      domain.toLowerCase() === tenant.ref.domain;
    const account = await this.accounts.byAcct(username, local ? null : domain.toLowerCase());
    return new AccountPresenter(this.config, tenant.primaryDomain).account(account);
  }

  @Get(':id')
  @OptionallyAuthenticated('read:accounts')
  @ApiOperation({
    summary: 'Get an account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#get' },
  })
  @ApiOkResponse({ description: 'Account' })
  async get(@Param('id') id: string, @CurrentTenant() tenant: TenantAtHost): Promise<MastodonAccount> {
    return new AccountPresenter(this.config, tenant.primaryDomain).account(await this.accounts.byId(id));
  }

  @Get(':id/statuses')
  @OptionallyAuthenticated('read:statuses')
  @ApiOperation({
    summary: 'Get an account’s statuses',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#statuses' },
  })
  @ApiOkResponse({ description: 'Array of Status; Link header for the next and previous pages' })
  async accountStatuses(
    @Param('id') id: string,
    @Query() params: AccountStatusesParams,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonStatus[]> {
    const account = await this.accounts.byId(id);
    const page = await this.statuses.ofAccount(account.id, access?.accountId ?? null, pageOf(params), {
      excludeReplies: params.exclude_replies,
      excludeReblogs: params.exclude_reblogs,
      onlyMedia: params.only_media,
      pinned: params.pinned,
      tagged: params.tagged,
    });
    linkPages(
      res,
      req,
      this.config,
      tenant.primaryDomain,
      page.statuses.map((s) => s.id),
    );
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page);
  }
}
