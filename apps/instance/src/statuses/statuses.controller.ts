import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import {
  Authenticated,
  type ClientAccess,
  CurrentAccess,
  OptionallyAuthenticated,
  type UserAccess,
} from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import {
  type StatusPage,
  StatusCommands,
  StatusInteractions,
  StatusQueries,
  VISIBILITIES,
} from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { RailsBoolean } from '../params';
import { type MastodonStatus, StatusPresenter } from '../presenters/status.presenter';
import { CurrentTenant } from '../tenant-site';

@MastodonParams()
export class PostStatusParams {
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  status?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  media_ids?: string[];

  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'in_reply_to_id must be an id' })
  in_reply_to_id?: string;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  sensitive?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  spoiler_text?: string;

  @IsOptional()
  @IsIn(VISIBILITIES)
  visibility?: string;

  @IsOptional()
  @IsString()
  @MaxLength(35)
  language?: string;
}

@ApiTags('statuses')
@Controller('api/v1/statuses')
export class StatusesController {
  constructor(
    private readonly commands: StatusCommands,
    private readonly queries: StatusQueries,
    private readonly interactions: StatusInteractions,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Post a new status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#create' },
  })
  @ApiOkResponse({ description: 'Status' })
  async create(
    @Body() params: PostStatusParams,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonStatus> {
    const status = await this.commands.post(
      { accountId: access.accountId, applicationId: access.applicationId, domain: tenant.primaryDomain },
      {
        status: params.status,
        spoilerText: params.spoiler_text,
        visibility: params.visibility,
        sensitive: params.sensitive,
        language: params.language,
        inReplyToId: params.in_reply_to_id,
        mediaIds: params.media_ids,
      },
      idempotencyKey === undefined || idempotencyKey === '' ? undefined : idempotencyKey.slice(0, 200),
    );
    return this.render(status.id, access.accountId, tenant);
  }

  @Get(':id')
  @OptionallyAuthenticated('read:statuses')
  @ApiOperation({
    summary: 'View a single status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#get' },
  })
  @ApiOkResponse({ description: 'Status' })
  async get(
    @Param('id') id: string,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonStatus> {
    return this.render(id, access?.accountId ?? null, tenant);
  }

  @Delete(':id')
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Delete a status; answers it with its source text, for redrafting',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#delete' },
  })
  @ApiOkResponse({ description: 'Status, with text' })
  async delete(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonStatus> {
    if (!/^\d{1,19}$/.test(id)) return this.render(id, access.accountId, tenant);
    const deleted = await this.commands.delete(access.accountId, id);
    const page = await this.queries.own(deleted, access.accountId);
    return new StatusPresenter(this.config, tenant.primaryDomain).status(page, deleted, true)!;
  }

  @Get(':id/context')
  @OptionallyAuthenticated('read:statuses')
  @ApiOperation({
    summary: 'Get parent and child statuses in context',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#context' },
  })
  async context(
    @Param('id') id: string,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    const { ancestors, descendants } = await this.interactions.context(access?.accountId ?? null, id);
    const presenter = new StatusPresenter(this.config, tenant.primaryDomain);
    return { ancestors: presenter.page(ancestors), descendants: presenter.page(descendants) };
  }

  @Post(':id/favourite')
  @HttpCode(200)
  @Authenticated('write:favourites')
  @ApiOperation({
    summary: 'Favourite a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#favourite' },
  })
  async favourite(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.favourite(access.accountId, id), tenant);
  }

  @Post(':id/unfavourite')
  @HttpCode(200)
  @Authenticated('write:favourites')
  @ApiOperation({
    summary: 'Undo favourite of a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#unfavourite' },
  })
  async unfavourite(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.unfavourite(access.accountId, id), tenant);
  }

  @Post(':id/reblog')
  @HttpCode(200)
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Boost a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#boost' },
  })
  async reblog(
    @Param('id') id: string,
    @Body() body: Record<string, unknown> | undefined,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    const visibility = typeof body?.visibility === 'string' ? body.visibility : 'public';
    return this.first(await this.interactions.reblog(access.accountId, id, visibility), tenant);
  }

  @Post(':id/unreblog')
  @HttpCode(200)
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Undo boost of a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#unreblog' },
  })
  async unreblog(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.unreblog(access.accountId, id), tenant);
  }

  @Post(':id/bookmark')
  @HttpCode(200)
  @Authenticated('write:bookmarks')
  @ApiOperation({
    summary: 'Bookmark a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#bookmark' },
  })
  async bookmark(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.bookmark(access.accountId, id), tenant);
  }

  @Post(':id/unbookmark')
  @HttpCode(200)
  @Authenticated('write:bookmarks')
  @ApiOperation({
    summary: 'Undo bookmark of a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#unbookmark' },
  })
  async unbookmark(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.unbookmark(access.accountId, id), tenant);
  }

  private first(page: StatusPage, tenant: TenantAtHost): MastodonStatus {
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page)[0];
  }

  private async render(id: string, viewer: string | null, tenant: TenantAtHost): Promise<MastodonStatus> {
    const page = await this.queries.one(id, viewer);
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page)[0];
  }
}
