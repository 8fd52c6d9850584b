import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { Notifications } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { type MastodonNotification, notificationEntities } from '../presenters/notification.presenter';
import { CurrentTenant } from '../tenant-site';

/** `types[]=mention&types[]=favourite` (or a single value). */
const List = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value));

@MastodonParams()
export class NotificationParams extends PageParams {
  @IsOptional()
  @List()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  types?: string[];

  @IsOptional()
  @List()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  exclude_types?: string[];

  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'account_id must be an id' })
  account_id?: string;
}

@ApiTags('notifications')
@Controller('api/v1/notifications')
export class NotificationsController {
  constructor(
    private readonly notifications: Notifications,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get()
  @Authenticated('read:notifications')
  @ApiOperation({
    summary: 'Get all notifications',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/notifications/#get' },
  })
  @ApiOkResponse({ description: 'Array of Notification; Link header for the next and previous pages' })
  async list(
    @Query() params: NotificationParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonNotification[]> {
    const page = await this.notifications.list(access.accountId, pageOf(params, 40, 80), {
      types: params.types,
      excludeTypes: params.exclude_types,
      fromAccountId: params.account_id,
    });
    linkPages(
      res,
      req,
      this.config,
      tenant.primaryDomain,
      page.notifications.map((n) => n.id),
    );
    return notificationEntities(page, this.config, tenant.primaryDomain, true);
  }

  @Post('clear')
  @HttpCode(200)
  @Authenticated('write:notifications')
  @ApiOperation({
    summary: 'Dismiss all notifications',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/notifications/#clear' },
  })
  async clear(@CurrentAccess() access: UserAccess): Promise<Record<string, never>> {
    await this.notifications.clear(access.accountId);
    return {};
  }

  @Get(':id')
  @Authenticated('read:notifications')
  @ApiOperation({
    summary: 'Get a single notification',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/notifications/#get-one' },
  })
  async one(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonNotification> {
    return notificationEntities(
      await this.notifications.one(access.accountId, id),
      this.config,
      tenant.primaryDomain,
    )[0];
  }

  @Post(':id/dismiss')
  @HttpCode(200)
  @Authenticated('write:notifications')
  @ApiOperation({
    summary: 'Dismiss a single notification',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/notifications/#dismiss' },
  })
  async dismiss(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
  ): Promise<Record<string, never>> {
    await this.notifications.dismiss(access.accountId, id);
    return {};
  }
}
