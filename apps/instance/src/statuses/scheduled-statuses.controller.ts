import { Body, Controller, Delete, Get, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsISO8601 } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { ScheduledStatuses } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import {
  type MastodonScheduledStatus,
  presentScheduledStatus,
} from '../presenters/scheduled-status.presenter';
import { CurrentTenant } from '../tenant-site';

@MastodonParams()
export class RescheduleParams {
  @IsISO8601({ strict: true }, { message: 'scheduled_at must be an ISO 8601 date and time' })
  scheduled_at: string;
}

/** The signed-in user's scheduled statuses (Mastodon's /api/v1/scheduled_statuses). */
@ApiTags('statuses')
@Controller('api/v1/scheduled_statuses')
export class ScheduledStatusesController {
  constructor(
    private readonly scheduled: ScheduledStatuses,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get()
  @Authenticated('read:statuses')
  @ApiOperation({
    summary: 'View scheduled statuses (Link header for more)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/scheduled_statuses/#get' },
  })
  @ApiOkResponse({ description: 'ScheduledStatus[]' })
  async list(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonScheduledStatus[]> {
    const found = await this.scheduled.list(access.accountId, pageOf(params));
    linkPages(
      res,
      req,
      this.config,
      tenant.primaryDomain,
      found.map((s) => s.id),
    );
    return found.map((s) => presentScheduledStatus(this.config, tenant.primaryDomain, s));
  }

  @Get(':id')
  @Authenticated('read:statuses')
  @ApiOperation({
    summary: 'View a single scheduled status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/scheduled_statuses/#get-one' },
  })
  async get(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonScheduledStatus> {
    return presentScheduledStatus(
      this.config,
      tenant.primaryDomain,
      await this.scheduled.get(access.accountId, id),
    );
  }

  @Put(':id')
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Move a scheduled status to another time',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/scheduled_statuses/#update' },
  })
  async update(
    @Param('id') id: string,
    @Body() params: RescheduleParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonScheduledStatus> {
    const moved = await this.scheduled.reschedule(access.accountId, id, new Date(params.scheduled_at));
    return presentScheduledStatus(this.config, tenant.primaryDomain, moved);
  }

  @Delete(':id')
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Cancel a scheduled status',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/scheduled_statuses/#cancel' },
  })
  async cancel(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<Record<string, never>> {
    await this.scheduled.cancel(access.accountId, id);
    return {};
  }
}
