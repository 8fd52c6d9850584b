import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { type ListRecord, Lists, REPLIES_POLICIES } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { RailsBoolean } from '../params';
import { AccountPresenter, type MastodonAccount } from '../presenters/account.presenter';
import { CurrentTenant } from '../tenant-site';

@MastodonParams()
export class ListParams {
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  title?: string;

  @IsOptional()
  @IsIn(REPLIES_POLICIES)
  replies_policy?: string;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  exclusive?: boolean;
}

/** `account_ids[]=1&account_ids[]=2`, or one id as Rails reads `account_ids=1`. */
@MastodonParams()
export class ListAccountsParams {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value))
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  account_ids: string[];
}

/** Mastodon's List entity. */
interface MastodonList {
  id: string;
  title: string;
  replies_policy: string;
  exclusive: boolean;
}

const entity = (l: ListRecord): MastodonList => ({
  id: l.id,
  title: l.title,
  replies_policy: l.repliesPolicy,
  exclusive: l.exclusive,
});

/** The signed-in user's lists and their members (Mastodon's /api/v1/lists). */
@ApiTags('lists')
@Controller('api/v1')
export class ListsController {
  constructor(
    private readonly lists: Lists,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('lists')
  @Authenticated('read:lists')
  @ApiOperation({
    summary: 'View your lists',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#get' },
  })
  @ApiOkResponse({ description: 'List[]' })
  async all(@CurrentAccess() access: UserAccess): Promise<MastodonList[]> {
    return (await this.lists.all(access.accountId)).map(entity);
  }

  @Get('lists/:id')
  @Authenticated('read:lists')
  @ApiOperation({
    summary: 'Show a single list',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#get-one' },
  })
  async one(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<MastodonList> {
    return entity(await this.lists.get(access.accountId, id));
  }

  @Post('lists')
  @HttpCode(200)
  @Authenticated('write:lists')
  @ApiOperation({
    summary: 'Create a list',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#create' },
  })
  async create(@Body() params: ListParams, @CurrentAccess() access: UserAccess): Promise<MastodonList> {
    return entity(await this.lists.create(access.accountId, change(params)));
  }

  @Put('lists/:id')
  @Authenticated('write:lists')
  @ApiOperation({
    summary: 'Update a list',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#update' },
  })
  async update(
    @Param('id') id: string,
    @Body() params: ListParams,
    @CurrentAccess() access: UserAccess,
  ): Promise<MastodonList> {
    return entity(await this.lists.update(access.accountId, id, change(params)));
  }

  @Delete('lists/:id')
  @Authenticated('write:lists')
  @ApiOperation({
    summary: 'Delete a list',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#delete' },
  })
  async remove(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<Record<string, never>> {
    await this.lists.remove(access.accountId, id);
    return {};
  }

  @Get('lists/:id/accounts')
  @Authenticated('read:lists')
  @ApiOperation({
    summary: 'View the accounts in a list (limit 0 for all of them)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#accounts' },
  })
  async members(
    @Param('id') id: string,
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    const page = { ...pageOf(params, 40, 80), ...(params.limit === 0 ? { limit: 0 } : {}) };
    const found = await this.lists.members(access.accountId, id, page);
    if (page.limit > 0) linkPages(res, req, this.config, tenant.primaryDomain, found.cursorIds);
    const presenter = new AccountPresenter(this.config, tenant.primaryDomain);
    return found.accounts.map((a) => presenter.account(a));
  }

  @Post('lists/:id/accounts')
  @HttpCode(200)
  @Authenticated('write:lists')
  @ApiOperation({
    summary: 'Add accounts you follow to a list',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#accounts-add' },
  })
  async add(
    @Param('id') id: string,
    @Body() params: ListAccountsParams,
    @CurrentAccess() access: UserAccess,
  ): Promise<Record<string, never>> {
    await this.lists.add(access.accountId, id, params.account_ids);
    return {};
  }

  @Delete('lists/:id/accounts')
  @Authenticated('write:lists')
  @ApiOperation({
    summary: 'Remove accounts from a list',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/lists/#accounts-remove' },
  })
  async removeMembers(
    @Param('id') id: string,
    @Body() body: ListAccountsParams | undefined,
    @Query() query: Record<string, unknown>,
    @CurrentAccess() access: UserAccess,
  ): Promise<Record<string, never>> {
    // Clients send the ids in the body or, as DELETE bodies are not always possible, in the query.
    const raw = body?.account_ids ?? query.account_ids;
    const ids = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
    await this.lists.removeMembers(access.accountId, id, ids);
    return {};
  }

  @Get('accounts/:id/lists')
  @Authenticated('read:lists')
  @ApiOperation({
    summary: 'Your lists that hold an account',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#lists' },
  })
  async holding(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<MastodonList[]> {
    return (await this.lists.holding(access.accountId, id)).map(entity);
  }
}

function change(params: ListParams) {
  return { title: params.title, repliesPolicy: params.replies_policy, exclusive: params.exclusive };
}
