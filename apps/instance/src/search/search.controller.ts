import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  Allow,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
} from 'class-validator';
import {
  Authenticated,
  type ClientAccess,
  CurrentAccess,
  OptionallyAuthenticated,
  type UserAccess,
} from '@townhall/auth';
import { MastodonParams, parseStrictInteger, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { Search, SEARCH_TYPES, SearchError, type SearchType } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { RailsBoolean } from '../params';
import { AccountPresenter, type MastodonAccount } from '../presenters/account.presenter';
import { type MastodonStatus, StatusPresenter } from '../presenters/status.presenter';
import { type MastodonTag, TagPresenter } from '../presenters/tag.presenter';
import { CurrentTenant } from '../tenant-site';

const ID = /^\d{1,19}$/;
const NOT_POSITIVE = 'Pagination values for `offset` and `limit` must be positive';

/**
 * `limit` and `offset` as Mastodon reads them for search: a negative one is refused with Mastodon's
 * message; anything but decimal digits is refused too (Mastodon would read it as 0).
 */
function PaginationNumber(): PropertyDecorator {
  const transform = Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? (parseStrictInteger(value) ?? value) : value,
  );
  const check = ValidateBy({
    name: 'paginationNumber',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0,
      defaultMessage: (args) =>
        typeof args?.value === 'string' && /^-\d+$/.test(args.value)
          ? NOT_POSITIVE
          : `${args?.property} must be a whole number in decimal digits`,
    },
  });
  return (target, key) => {
    transform(target, key);
    check(target, key);
  };
}

/** `q` as Mastodon requires it (`params.require(:q)`): present and not empty, a single value. */
function requiredQuery(q: unknown): string {
  if (typeof q !== 'string' || q === '') {
    throw new SearchError('missing_param', 'param is missing or the value is empty: q');
  }
  return q;
}

@MastodonParams()
export class SearchParams {
  @ApiPropertyOptional({ description: 'What to search for (required)' })
  @Allow()
  q?: unknown;

  @ApiPropertyOptional({ enum: SEARCH_TYPES })
  @IsOptional()
  @IsIn(SEARCH_TYPES, { message: `type must be one of ${SEARCH_TYPES.join(', ')}` })
  type?: SearchType;

  @ApiPropertyOptional({ type: 'integer', default: 20, maximum: 40 })
  @IsOptional()
  @PaginationNumber()
  limit?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Skip this many results (with a type; signed in only)',
  })
  @IsOptional()
  @PaginationNumber()
  offset?: number;

  @ApiPropertyOptional({
    description: 'Look a URL up: local addresses and known ActivityPub ids (signed in only)',
  })
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  resolve?: boolean;

  @ApiPropertyOptional({ description: 'Accounts: only those you follow' })
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  following?: boolean;

  @ApiPropertyOptional({ description: 'Hashtags: only reviewed ones or the exact name' })
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  exclude_unreviewed?: boolean;

  @ApiPropertyOptional({ description: 'Statuses: only this account’s' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  account_id?: string;

  @ApiPropertyOptional({ description: 'Statuses: newer than this id' })
  @IsOptional()
  @Matches(ID, { message: 'min_id must be an id' })
  min_id?: string;

  @ApiPropertyOptional({ description: 'Statuses: older than this id' })
  @IsOptional()
  @Matches(ID, { message: 'max_id must be an id' })
  max_id?: string;
}

@MastodonParams()
export class AccountSearchParams {
  @ApiPropertyOptional({ description: 'Username, display name or user@domain (required)' })
  @Allow()
  q?: unknown;

  @ApiPropertyOptional({ type: 'integer', default: 40, maximum: 80 })
  @IsOptional()
  @PaginationNumber()
  limit?: number;

  @ApiPropertyOptional({ type: 'integer' })
  @IsOptional()
  @PaginationNumber()
  offset?: number;

  @ApiPropertyOptional({
    description: 'Accepted; finding accounts this tenant does not know yet comes with federation',
  })
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  resolve?: boolean;

  @ApiPropertyOptional({ description: 'Only accounts you follow' })
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  following?: boolean;
}

/** Mastodon's limit: the default when absent, at most twice the default (its `limit_param`). */
function limitOf(limit: number | undefined, defaultLimit: number): number {
  return limit === undefined ? defaultLimit : Math.min(limit, defaultLimit * 2);
}

@ApiTags('search')
@Controller('api')
export class SearchController {
  constructor(
    private readonly search: Search,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('v2/search')
  @OptionallyAuthenticated('read:search')
  @ApiOperation({
    summary: 'Search accounts, statuses and hashtags of this instance',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/search/#v2' },
  })
  @ApiOkResponse({ description: 'Search: { accounts, statuses, hashtags }' })
  async searchAll(
    @Query() params: SearchParams,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<{ accounts: MastodonAccount[]; statuses: MastodonStatus[]; hashtags: MastodonTag[] }> {
    const q = requiredQuery(params.q);
    const viewer = access?.accountId ?? null;
    if (viewer === null && params.offset !== undefined) {
      throw new SearchError(
        'unauthenticated',
        'Search queries pagination is not supported without authentication',
      );
    }
    if (viewer === null && params.resolve === true) {
      throw new SearchError(
        'unauthenticated',
        'Search queries that resolve remote resources are not supported without authentication',
      );
    }
    const found = await this.search.search(
      {
        q,
        type: params.type,
        limit: limitOf(params.limit, 20),
        offset: params.offset ?? 0,
        resolve: params.resolve === true,
        following: params.following === true,
        excludeUnreviewed: params.exclude_unreviewed === true,
        accountId: params.account_id,
        minId: params.min_id,
        maxId: params.max_id,
      },
      viewer,
      localDomains(tenant),
    );
    const accounts = new AccountPresenter(this.config, tenant.primaryDomain);
    const tags = new TagPresenter(this.config, tenant.primaryDomain);
    return {
      accounts: found.accounts.map((a) => accounts.account(a)),
      statuses: new StatusPresenter(this.config, tenant.primaryDomain).page(found.statuses),
      hashtags: found.hashtags.map((t) => tags.tag(t)),
    };
  }

  @Get('v1/accounts/search')
  @Authenticated('read:accounts')
  @ApiOperation({
    summary: 'Search for matching accounts by username or display name',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#search' },
  })
  @ApiOkResponse({ description: 'Array of Account' })
  async searchAccounts(
    @Query() params: AccountSearchParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonAccount[]> {
    // Mastodon finds nobody for a missing query here, rather than refusing it.
    if (params.q !== undefined && typeof params.q !== 'string') {
      throw new SearchError('missing_param', 'q must be a string');
    }
    const found = await this.search.accounts(params.q ?? '', access.accountId, {
      limit: limitOf(params.limit, 40),
      offset: params.offset ?? 0,
      following: params.following === true,
      localDomains: localDomains(tenant),
    });
    const presenter = new AccountPresenter(this.config, tenant.primaryDomain);
    return found.map((a) => presenter.account(a));
  }
}

/** The names under which this tenant's accounts are local (`user@<domain>`). */
function localDomains(tenant: TenantAtHost): string[] {
  return [...new Set([tenant.primaryDomain, tenant.ref.domain].map((d) => d.toLowerCase()))];
}
