import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Transform, Type } from 'class-transformer';
import { ApiOkResponse, ApiOperation, ApiTags, PickType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
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
  MAX_MEDIA_ATTACHMENTS,
  type PollInput,
  ScheduledStatuses,
  VISIBILITIES,
} from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { RailsBoolean } from '../params';
import { AccountPresenter, type MastodonAccount } from '../presenters/account.presenter';
import { UpdateMediaParams } from '../media/media.controller';
import { linkPages, PageParams, pageOf } from '../pagination';
import { type MastodonMediaAttachment, presentMedia } from '../presenters/media.presenter';
import {
  type MastodonScheduledStatus,
  presentScheduledStatus,
} from '../presenters/scheduled-status.presenter';
import { type MastodonStatus, StatusPresenter } from '../presenters/status.presenter';
import { CurrentTenant } from '../tenant-site';

/** `poll[options][]=…&poll[expires_in]=…`, as Mastodon apps send a poll; its rules are checked when posting. */
@MastodonParams()
export class PollParams {
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(1000, { each: true })
  options: string[];

  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  expires_in: number;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  multiple?: boolean;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  hide_totals?: boolean;
}

function pollInput(poll: PollParams): PollInput {
  return {
    options: poll.options,
    expiresIn: poll.expires_in,
    multiple: poll.multiple,
    hideTotals: poll.hide_totals,
  };
}

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

  @IsOptional()
  @ValidateNested()
  @Type(() => PollParams)
  poll?: PollParams;

  /** ISO 8601; at least five minutes ahead makes a scheduled status instead. */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'scheduled_at must be an ISO 8601 date and time' })
  scheduled_at?: string;
}

@MastodonParams()
export class MediaAttributeParams extends UpdateMediaParams {
  @Matches(/^\d{1,19}$/, { message: 'media_attributes id must be an id' })
  id: string;
}

/** What an edit may change: a new status's fields but visibility and the reply, plus media descriptions. */
@MastodonParams()
export class EditStatusParams extends PickType(PostStatusParams, [
  'status',
  'media_ids',
  'sensitive',
  'spoiler_text',
  'language',
  'poll',
] as const) {
  /** As Rails reads `media_attributes[0][id]=…` too: an object with index keys is a list. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.values(value) : value,
  )
  @IsArray()
  @ArrayMaxSize(MAX_MEDIA_ATTACHMENTS)
  @ValidateNested({ each: true })
  @Type(() => MediaAttributeParams)
  media_attributes?: MediaAttributeParams[];
}

/** Mastodon's StatusEdit entity (docs.joinmastodon.org/entities/StatusEdit). */
interface MastodonStatusEdit {
  content: string;
  spoiler_text: string;
  sensitive: boolean;
  created_at: string;
  account: MastodonAccount;
  poll: { options: { title: string }[] } | null;
  media_attachments: MastodonMediaAttachment[];
  emojis: unknown[];
}

@ApiTags('statuses')
@Controller('api/v1/statuses')
export class StatusesController {
  constructor(
    private readonly commands: StatusCommands,
    private readonly queries: StatusQueries,
    private readonly interactions: StatusInteractions,
    private readonly scheduled: ScheduledStatuses,
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
  ): Promise<MastodonStatus | MastodonScheduledStatus> {
    const poster = {
      accountId: access.accountId,
      applicationId: access.applicationId,
      domain: tenant.primaryDomain,
    };
    const input = {
      status: params.status,
      spoilerText: params.spoiler_text,
      visibility: params.visibility,
      sensitive: params.sensitive,
      language: params.language,
      inReplyToId: params.in_reply_to_id,
      mediaIds: params.media_ids,
      // `"poll": null`, as some apps send it with every post, is no poll.
      poll: params.poll ? pollInput(params.poll) : undefined,
    };
    if (params.scheduled_at !== undefined) {
      const scheduled = await this.scheduled.schedule(poster, input, new Date(params.scheduled_at));
      return presentScheduledStatus(this.config, tenant.primaryDomain, scheduled);
    }
    const page = await this.commands.post(
      poster,
      input,
      idempotencyKey === undefined || idempotencyKey === '' ? undefined : idempotencyKey.slice(0, 200),
    );
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page)[0];
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

  @Put(':id')
  @Authenticated('write:statuses')
  @ApiOperation({
    summary:
      'Edit a status: text, content warning, sensitivity, language and media (with their descriptions)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#edit' },
  })
  @ApiOkResponse({ description: 'Status' })
  async edit(
    @Param('id') id: string,
    @Body() params: EditStatusParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonStatus> {
    const edited = await this.commands.edit(
      { accountId: access.accountId, applicationId: access.applicationId, domain: tenant.primaryDomain },
      id,
      {
        status: params.status,
        spoilerText: params.spoiler_text,
        sensitive: params.sensitive,
        language: params.language,
        mediaIds: params.media_ids,
        mediaAttributes: params.media_attributes,
        // Left out, the poll stays; `null` removes it.
        poll: params.poll === undefined || params.poll === null ? params.poll : pollInput(params.poll),
      },
    );
    return this.render(edited.id, access.accountId, tenant);
  }

  @Get(':id/history')
  @OptionallyAuthenticated('read:statuses')
  @ApiOperation({
    summary: 'The versions of a status, oldest first',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#history' },
  })
  @ApiOkResponse({ description: 'StatusEdit[]' })
  async history(
    @Param('id') id: string,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonStatusEdit[]> {
    const { page, versions } = await this.queries.history(id, access?.accountId ?? null);
    const accounts = new AccountPresenter(this.config, tenant.primaryDomain);
    return versions.flatMap((v) => {
      const author = page.accounts.get(v.accountId);
      if (!author) return [];
      return [
        {
          content: v.content,
          spoiler_text: v.spoilerText,
          sensitive: v.sensitive,
          created_at: v.createdAt.toISOString(),
          account: accounts.account(author),
          poll: v.poll && { options: v.poll.options.map((title) => ({ title })) },
          media_attachments: v.media.map((a) => presentMedia(this.config, tenant.primaryDomain, a)),
          emojis: [],
        },
      ];
    });
  }

  @Get(':id/source')
  @Authenticated('read:statuses')
  @ApiOperation({
    summary: 'The plain text of a status and its content warning, for editing',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#source' },
  })
  @ApiOkResponse({ description: 'StatusSource' })
  async source(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
  ): Promise<{ id: string; text: string; spoiler_text: string }> {
    const { statuses } = await this.queries.one(id, access.accountId);
    return { id: statuses[0].id, text: statuses[0].text, spoiler_text: statuses[0].spoilerText };
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
    return {
      ancestors: presenter.page(ancestors, 'thread'),
      descendants: presenter.page(descendants, 'thread'),
    };
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

  @Post(':id/pin')
  @HttpCode(200)
  @Authenticated('write:accounts')
  @ApiOperation({
    summary: 'Feature one of your own public statuses at the top of your profile (at most five)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#pin' },
  })
  async pin(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.pin(access.accountId, id), tenant);
  }

  @Post(':id/unpin')
  @HttpCode(200)
  @Authenticated('write:accounts')
  @ApiOperation({
    summary: 'Unfeature a status from the top of your profile',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#unpin' },
  })
  async unpin(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.unpin(access.accountId, id), tenant);
  }

  @Post(':id/mute')
  @HttpCode(200)
  @Authenticated('write:mutes')
  @ApiOperation({
    summary: 'Mute notifications from the conversation of a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#mute' },
  })
  async mute(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.muteConversation(access.accountId, id, true), tenant);
  }

  @Post(':id/unmute')
  @HttpCode(200)
  @Authenticated('write:mutes')
  @ApiOperation({
    summary: 'Unmute the conversation of a status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#unmute' },
  })
  async unmute(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ) {
    return this.first(await this.interactions.muteConversation(access.accountId, id, false), tenant);
  }

  @Get(':id/reblogged_by')
  @OptionallyAuthenticated('read:accounts')
  @ApiOperation({
    summary: 'Who boosted a status (paged with the Link header)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#reblogged_by' },
  })
  @ApiOkResponse({ description: 'Account[]' })
  rebloggedBy(
    @Param('id') id: string,
    @Query() params: PageParams,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    return this.reactedBy('reblogged', id, params, access, tenant, req, res);
  }

  @Get(':id/favourited_by')
  @OptionallyAuthenticated('read:accounts')
  @ApiOperation({
    summary: 'Who favourited a status (paged with the Link header)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/statuses/#favourited_by' },
  })
  @ApiOkResponse({ description: 'Account[]' })
  favouritedBy(
    @Param('id') id: string,
    @Query() params: PageParams,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    return this.reactedBy('favourited', id, params, access, tenant, req, res);
  }

  private async reactedBy(
    how: 'reblogged' | 'favourited',
    id: string,
    params: PageParams,
    access: ClientAccess | undefined,
    tenant: TenantAtHost,
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    const found = await this.interactions.reactedBy(
      access?.accountId ?? null,
      id,
      how,
      pageOf(params, 40, 80),
    );
    linkPages(res, req, this.config, tenant.primaryDomain, found.cursorIds);
    const presenter = new AccountPresenter(this.config, tenant.primaryDomain);
    return found.accounts.map((a) => presenter.account(a));
  }

  private first(page: StatusPage, tenant: TenantAtHost): MastodonStatus {
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page)[0];
  }

  private async render(id: string, viewer: string | null, tenant: TenantAtHost): Promise<MastodonStatus> {
    const page = await this.queries.one(id, viewer);
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page)[0];
  }
}
