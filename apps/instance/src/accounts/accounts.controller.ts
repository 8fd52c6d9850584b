import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
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
import { AccountQueries, Relationships, StatusQueries } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { RailsBoolean } from '../params';
import {
  AccountPresenter,
  type MastodonAccount,
  type MastodonCredentialAccount,
} from '../presenters/account.presenter';
import { relationshipEntity } from '../presenters/relationship.presenter';
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
export class FollowParams {
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  reblogs?: boolean;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  notify?: boolean;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  languages?: string[];
}

@MastodonParams()
export class MuteParams {
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  notifications?: boolean;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(0)
  @Max(2_000_000_000)
  duration?: number;
}

@MastodonParams()
export class RelationshipsParams {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value))
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^\d{1,19}$/, { each: true, message: 'id must be a list of ids' })
  id: string[];
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
    private readonly relationships: Relationships,
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

  @Get('relationships')
  @Authenticated('read:follows')
  @ApiOperation({
    summary: 'Check relationships to other accounts',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#relationships' },
  })
  async relationshipsOf(@Query() params: RelationshipsParams, @CurrentAccess() access: UserAccess) {
    return (await this.relationships.of(access.accountId, params.id)).map(relationshipEntity);
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
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page, 'account');
  }

  @Post(':id/follow')
  @HttpCode(200)
  @Authenticated('write:follows')
  @ApiOperation({
    summary: 'Follow account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#follow' },
  })
  async follow(@Param('id') id: string, @Body() params: FollowParams, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(
      await this.relationships.follow(access.accountId, id, {
        reblogs: params.reblogs,
        notify: params.notify,
        languages: params.languages ?? null,
      }),
    );
  }

  @Post(':id/unfollow')
  @HttpCode(200)
  @Authenticated('write:follows')
  @ApiOperation({
    summary: 'Unfollow account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#unfollow' },
  })
  async unfollow(@Param('id') id: string, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(await this.relationships.unfollow(access.accountId, id));
  }

  @Post(':id/remove_from_followers')
  @HttpCode(200)
  @Authenticated('write:follows')
  @ApiOperation({
    summary: 'Make an account stop following you',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#remove_from_followers' },
  })
  async removeFromFollowers(@Param('id') id: string, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(await this.relationships.removeFromFollowers(access.accountId, id));
  }

  @Post(':id/block')
  @HttpCode(200)
  @Authenticated('write:blocks')
  @ApiOperation({
    summary: 'Block account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#block' },
  })
  async block(@Param('id') id: string, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(await this.relationships.block(access.accountId, id));
  }

  @Post(':id/unblock')
  @HttpCode(200)
  @Authenticated('write:blocks')
  @ApiOperation({
    summary: 'Unblock account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#unblock' },
  })
  async unblock(@Param('id') id: string, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(await this.relationships.unblock(access.accountId, id));
  }

  @Post(':id/mute')
  @HttpCode(200)
  @Authenticated('write:mutes')
  @ApiOperation({
    summary: 'Mute account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#mute' },
  })
  async mute(@Param('id') id: string, @Body() params: MuteParams, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(
      await this.relationships.mute(access.accountId, id, {
        notifications: params.notifications,
        durationSeconds: params.duration,
      }),
    );
  }

  @Post(':id/unmute')
  @HttpCode(200)
  @Authenticated('write:mutes')
  @ApiOperation({
    summary: 'Unmute account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#unmute' },
  })
  async unmute(@Param('id') id: string, @CurrentAccess() access: UserAccess) {
    return relationshipEntity(await this.relationships.unmute(access.accountId, id));
  }

  @Get(':id/followers')
  @OptionallyAuthenticated('read:accounts')
  @ApiOperation({
    summary: 'Get account’s followers',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#followers' },
  })
  async followers(
    @Param('id') id: string,
    @Query() params: PageParams,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    return this.people(id, 'followers', params, tenant, req, res);
  }

  @Get(':id/following')
  @OptionallyAuthenticated('read:accounts')
  @ApiOperation({
    summary: 'Get accounts the account follows',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#following' },
  })
  async following(
    @Param('id') id: string,
    @Query() params: PageParams,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    return this.people(id, 'following', params, tenant, req, res);
  }

  private async people(
    id: string,
    direction: 'followers' | 'following',
    params: PageParams,
    tenant: TenantAtHost,
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    const account = await this.accounts.byId(id);
    if (account.hideCollections) return [];
    const page = pageOf(params, 40, 80);
    const found = await this.relationships.list(account.id, direction, page.limit, page.maxId);
    linkPages(res, req, this.config, tenant.primaryDomain, found.relationIds);
    const presenter = new AccountPresenter(this.config, tenant.primaryDomain);
    return found.accounts.map((a) => presenter.account(a));
  }
}
