import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsIn, IsOptional } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, OptionallyAuthenticated, type UserAccess } from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import {
  type ActivityWeek,
  InstanceActivity,
  type Marker,
  MARKER_TIMELINES,
  type MarkerTimeline,
  Markers,
  Relationships,
  StatusQueries,
} from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { AccountPresenter, type MastodonAccount } from '../presenters/account.presenter';
import { type MastodonStatus, StatusPresenter } from '../presenters/status.presenter';
import { CurrentTenant } from '../tenant-site';

@MastodonParams()
export class MarkersQuery {
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value))
  @IsArray()
  @IsIn(MARKER_TIMELINES, { each: true })
  timeline?: MarkerTimeline[];
}

function markerEntities(markers: Partial<Record<MarkerTimeline, Marker>>) {
  return Object.fromEntries(
    Object.entries(markers).map(([timeline, m]) => [
      timeline,
      { last_read_id: m.lastReadId, version: m.version, updated_at: m.updatedAt.toISOString() },
    ]),
  );
}

/**
 * What Mastodon apps call when they start and as they go, beyond statuses and accounts: answered with the
 * user's real data where Townhall keeps it (markers, blocks, mutes, favourites, bookmarks, follow
 * requests) and with Mastodon's correct empty answer for what no tenant has yet (custom emojis,
 * announcements, trends, lists, …) — never a 404 that Mastodon would not give.
 */
@ApiTags('start-up')
@Controller('api')
export class StartupController {
  constructor(
    private readonly markers: Markers,
    private readonly relationships: Relationships,
    private readonly statuses: StatusQueries,
    private readonly activity: InstanceActivity,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('v1/markers')
  @Authenticated('read:statuses')
  @ApiOperation({
    summary: 'Get saved timeline positions',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/markers/#get' },
  })
  async getMarkers(@Query() query: MarkersQuery, @CurrentAccess() access: UserAccess) {
    return markerEntities(await this.markers.get(access.accountId, query.timeline ?? []));
  }

  @Post('v1/markers')
  @HttpCode(200)
  @Authenticated('write:statuses')
  @ApiOperation({
    summary: 'Save your position in a timeline',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/markers/#create' },
  })
  async saveMarkers(@Body() body: Record<string, unknown> | undefined, @CurrentAccess() access: UserAccess) {
    const positions: Partial<Record<MarkerTimeline, string>> = {};
    for (const timeline of MARKER_TIMELINES) {
      const id = (body?.[timeline] as { last_read_id?: unknown } | undefined)?.last_read_id;
      if (typeof id === 'string' && /^\d{1,19}$/.test(id)) positions[timeline] = id;
    }
    return markerEntities(await this.markers.save(access.accountId, positions));
  }

  @Get('v1/preferences')
  @Authenticated('read:accounts')
  @ApiOperation({
    summary: 'View user preferences',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/preferences/' },
  })
  preferences() {
    return {
      'posting:default:visibility': 'public',
      'posting:default:sensitive': false,
      'posting:default:language': null,
      'reading:expand:media': 'default',
      'reading:expand:spoilers': false,
    };
  }

  @Get('v1/blocks')
  @Authenticated('read:blocks')
  @ApiOperation({
    summary: 'View blocked users',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/blocks/' },
  })
  blocks(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.people(2, access, params, tenant, req, res);
  }

  @Get('v1/mutes')
  @Authenticated('read:mutes')
  @ApiOperation({
    summary: 'View muted accounts',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/mutes/' },
  })
  mutes(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.people(3, access, params, tenant, req, res);
  }

  @Get('v1/endorsements')
  @Authenticated('read:accounts')
  @ApiOperation({
    summary: 'View currently featured profiles',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/endorsements/' },
  })
  endorsements(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.people(4, access, params, tenant, req, res);
  }

  @Get('v1/follow_requests')
  @Authenticated('read:follows')
  @ApiOperation({
    summary: 'View pending follow requests',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/follow_requests/' },
  })
  followRequests(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.people(1, access, params, tenant, req, res);
  }

  @Get('v1/favourites')
  @Authenticated('read:favourites')
  @ApiOperation({
    summary: 'View favourited statuses',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/favourites/' },
  })
  favourites(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.reacted(0, access, params, tenant, req, res);
  }

  @Get('v1/bookmarks')
  @Authenticated('read:bookmarks')
  @ApiOperation({
    summary: 'View bookmarked statuses',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/bookmarks/' },
  })
  bookmarks(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.reacted(1, access, params, tenant, req, res);
  }

  // --- what no tenant has yet: Mastodon's empty answers -----------------------------------------------

  @Get('v1/custom_emojis')
  @ApiOperation({ summary: 'View all custom emoji (none yet)' })
  @ApiOkResponse({ description: 'Array of CustomEmoji' })
  customEmojis(): unknown[] {
    return [];
  }

  @Get([
    'v1/announcements',
    'v1/trends',
    'v1/trends/tags',
    'v1/trends/statuses',
    'v1/trends/links',
    'v1/instance/peers',
    'v1/instance/rules',
    'v1/instance/domain_blocks',
  ])
  @OptionallyAuthenticated('read')
  @ApiOperation({
    summary: 'Announcements, trends, peers, rules and domain blocks of the instance (none yet)',
  })
  nothingYetPublic(): unknown[] {
    return [];
  }

  @Get(['v1/suggestions', 'v2/suggestions'])
  @Authenticated('read')
  @ApiOperation({
    summary: 'Suggestions of accounts to follow (none yet)',
  })
  nothingYetPrivate(): unknown[] {
    return [];
  }

  @Get('v1/instance/activity')
  @ApiOperation({
    summary: 'Statuses, sign-ins and registrations of the last 12 weeks, this week first',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/instance/#activity' },
  })
  @ApiOkResponse({ description: 'Array of weeks' })
  weeklyActivity(): Promise<ActivityWeek[]> {
    return this.activity.current();
  }

  private async people(
    kind: 1 | 2 | 3 | 4,
    access: UserAccess,
    params: PageParams,
    tenant: TenantAtHost,
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<MastodonAccount[]> {
    const page = pageOf(params, 40, 80);
    const found = await this.relationships.listed(kind, access.accountId, page.limit, page.maxId);
    linkPages(res, req, this.config, tenant.primaryDomain, found.relationIds);
    const presenter = new AccountPresenter(this.config, tenant.primaryDomain);
    return found.accounts.map((a) => presenter.account(a));
  }

  private async reacted(
    kind: 0 | 1,
    access: UserAccess,
    params: PageParams,
    tenant: TenantAtHost,
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<MastodonStatus[]> {
    const { page, cursorIds } = await this.statuses.reacted(kind, access.accountId, pageOf(params));
    linkPages(res, req, this.config, tenant.primaryDomain, cursorIds);
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page);
  }
}
