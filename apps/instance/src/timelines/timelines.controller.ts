import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  Authenticated,
  type ClientAccess,
  CurrentAccess,
  OptionallyAuthenticated,
  type UserAccess,
} from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { type FilterContext, type StatusPage, StatusQueries } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { RailsBoolean } from '../params';
import { type MastodonStatus, StatusPresenter } from '../presenters/status.presenter';
import { CurrentTenant } from '../tenant-site';

@MastodonParams()
export class PublicTimelineParams extends PageParams {
  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  local?: boolean;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  remote?: boolean;

  @IsOptional()
  @RailsBoolean()
  @IsBoolean()
  only_media?: boolean;
}

@ApiTags('timelines')
@Controller('api/v1/timelines')
export class TimelinesController {
  constructor(
    private readonly statuses: StatusQueries,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('home')
  @Authenticated('read:statuses')
  @ApiOperation({
    summary: 'View home timeline',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/timelines/#home' },
  })
  @ApiOkResponse({ description: 'Array of Status; Link header for the next and previous pages' })
  async home(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonStatus[]> {
    return this.answer(await this.statuses.home(access.accountId, pageOf(params)), 'home', tenant, req, res);
  }

  @Get('public')
  @OptionallyAuthenticated('read:statuses')
  @ApiOperation({
    summary: 'View public timeline',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/timelines/#public' },
  })
  @ApiOkResponse({ description: 'Array of Status; Link header for the next and previous pages' })
  async public(
    @Query() params: PublicTimelineParams,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonStatus[]> {
    const page = await this.statuses.public(access?.accountId ?? null, pageOf(params), {
      local: params.local === true,
      remote: params.remote === true,
    });
    return this.answer(page, 'public', tenant, req, res);
  }

  @Get('list/:id')
  @Authenticated('read:lists')
  @ApiOperation({
    summary: 'View a list timeline',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/timelines/#list' },
  })
  @ApiOkResponse({ description: 'Array of Status; Link header for the next and previous pages' })
  async list(
    @Param('id') id: string,
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonStatus[]> {
    return this.answer(
      await this.statuses.list(access.accountId, id, pageOf(params)),
      'home',
      tenant,
      req,
      res,
    );
  }

  /** The page as shown in its filter context (Mastodon's: `home` for home and lists, `public` for the rest). */
  private answer(
    page: StatusPage,
    context: FilterContext,
    tenant: TenantAtHost,
    req: FastifyRequest,
    res: FastifyReply,
  ): MastodonStatus[] {
    const shown = new StatusPresenter(this.config, tenant.primaryDomain).page(page, context);
    linkPages(
      res,
      req,
      this.config,
      tenant.primaryDomain,
      page.statuses.map((s) => s.id),
    );
    return shown;
  }
}
