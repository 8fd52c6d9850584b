import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { Allow, ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  Authenticated,
  type ClientAccess,
  CurrentAccess,
  OptionallyAuthenticated,
  type UserAccess,
} from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { TagError, Tags, TagTimeline } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { type MastodonStatus, StatusPresenter } from '../presenters/status.presenter';
import { type MastodonFeaturedTag, type MastodonTag, TagPresenter } from '../presenters/tag.presenter';
import { CurrentTenant } from '../tenant-site';
import { PublicTimelineParams } from '../timelines/timelines.controller';

/** A list of names from `any[]=a&any[]=b` or a single `any=a`. */
function NameList(): PropertyDecorator {
  const transform = Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? [value] : value,
  );
  const decorators = [
    IsOptional(),
    IsArray(),
    ArrayMaxSize(100),
    IsString({ each: true }),
    MaxLength(200, { each: true }),
  ];
  return (target, key) => {
    transform(target, key);
    for (const d of decorators) d(target, key);
  };
}

/** The public timeline's parameters (local, remote, only_media, paging) and the tag lists. */
@MastodonParams()
export class TagTimelineParams extends PublicTimelineParams {
  @ApiPropertyOptional({
    type: [String],
    description: 'Also statuses with any of these tags (up to 4 count)',
  })
  @NameList()
  any?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Only statuses with all of these tags too' })
  @NameList()
  all?: string[];

  @ApiPropertyOptional({ type: [String], description: 'No statuses with any of these tags' })
  @NameList()
  none?: string[];
}

@MastodonParams()
export class FeatureTagBody {
  @ApiPropertyOptional({ description: 'The hashtag to feature, without # (required)' })
  @Allow()
  name?: unknown;
}

/**
 * Hashtags (Mastodon's tags, followed_tags, featured_tags and tag timeline endpoints): a tag with its
 * week of use, following and unfollowing it (its public statuses then reach the home timeline), the tags
 * an account features on its profile, and the timeline of a tag.
 */
@ApiTags('tags')
@Controller('api/v1')
export class TagsController {
  constructor(
    private readonly tags: Tags,
    private readonly timeline: TagTimeline,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('tags/:name')
  @OptionallyAuthenticated('')
  @ApiOperation({
    summary: 'View information about a single tag',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/tags/#get' },
  })
  @ApiOkResponse({ description: 'Tag' })
  async show(
    @Param('name') name: string,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonTag> {
    return this.presenter(tenant).tag(await this.tags.show(name, access?.accountId ?? null));
  }

  @Post('tags/:name/follow')
  @HttpCode(200)
  @Authenticated('write:follows')
  @ApiOperation({
    summary: 'Follow a hashtag',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/tags/#follow' },
  })
  @ApiOkResponse({ description: 'Tag' })
  async follow(
    @Param('name') name: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonTag> {
    return this.presenter(tenant).tag(await this.tags.follow(access.accountId, name));
  }

  @Post('tags/:name/unfollow')
  @HttpCode(200)
  @Authenticated('write:follows')
  @ApiOperation({
    summary: 'Unfollow a hashtag',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/tags/#unfollow' },
  })
  @ApiOkResponse({ description: 'Tag' })
  async unfollow(
    @Param('name') name: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonTag> {
    return this.presenter(tenant).tag(await this.tags.unfollow(access.accountId, name));
  }

  @Get('followed_tags')
  @Authenticated('read:follows')
  @ApiOperation({
    summary: 'View all followed tags',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/followed_tags/#get' },
  })
  @ApiOkResponse({ description: 'Array of Tag; Link header for the next and previous pages' })
  async followed(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonTag[]> {
    const page = pageOf(params, 100, 200);
    const found = await this.tags.followed(access.accountId, page);
    // As Mastodon's FollowedTagsController: `prev` by since_id, `next` only after a full page.
    linkPages(res, req, this.config, tenant.primaryDomain, found.cursorIds, {
      prev: 'since_id',
      more: found.cursorIds.length === page.limit,
    });
    const presenter = this.presenter(tenant);
    return found.tags.map((t) => presenter.tag(t));
  }

  @Get('featured_tags')
  @Authenticated('read:accounts')
  @ApiOperation({
    summary: 'View your featured tags',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/featured_tags/#get' },
  })
  @ApiOkResponse({ description: 'Array of FeaturedTag' })
  async featured(
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonFeaturedTag[]> {
    return this.featuredOf(access.accountId, tenant);
  }

  @Post('featured_tags')
  @HttpCode(200)
  @Authenticated('write:accounts')
  @ApiOperation({
    summary: 'Feature a tag on your profile',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/featured_tags/#feature' },
  })
  @ApiOkResponse({ description: 'FeaturedTag' })
  async feature(
    @Body() body: FeatureTagBody,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonFeaturedTag> {
    if (typeof body?.name !== 'string' || body.name === '') {
      throw new TagError('missing_param', 'param is missing or the value is empty: name');
    }
    const { account, featured } = await this.tags.feature(access.accountId, body.name);
    return this.presenter(tenant).featured(account, featured);
  }

  @Delete('featured_tags/:id')
  @Authenticated('write:accounts')
  @ApiOperation({
    summary: 'Stop featuring a tag on your profile',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/featured_tags/#unfeature' },
  })
  @ApiOkResponse({ description: 'An empty object' })
  async unfeature(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
  ): Promise<Record<string, never>> {
    await this.tags.unfeature(access.accountId, id);
    return {};
  }

  @Get('featured_tags/suggestions')
  @Authenticated('read:accounts')
  @ApiOperation({
    summary: 'View tags you used most recently and do not feature yet',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/featured_tags/#suggestions' },
  })
  @ApiOkResponse({ description: 'Array of Tag' })
  async suggestions(
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonTag[]> {
    const presenter = this.presenter(tenant);
    return (await this.tags.suggestions(access.accountId)).map((t) => presenter.tag(t));
  }

  @Get('accounts/:id/featured_tags')
  @OptionallyAuthenticated('read:accounts')
  @ApiOperation({
    summary: 'Get the tags an account features on its profile',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/accounts/#featured_tags' },
  })
  @ApiOkResponse({ description: 'Array of FeaturedTag' })
  async accountFeatured(
    @Param('id') id: string,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonFeaturedTag[]> {
    return this.featuredOf(id, tenant);
  }

  @Get('timelines/tag/:hashtag')
  @OptionallyAuthenticated('read:statuses')
  @ApiOperation({
    summary: 'View public statuses containing the given hashtag',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/timelines/#tag' },
  })
  @ApiOkResponse({ description: 'Array of Status; Link header for the next and previous pages' })
  async tagTimeline(
    @Param('hashtag') hashtag: string,
    @Query() params: TagTimelineParams,
    @CurrentAccess() access: ClientAccess | undefined,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonStatus[]> {
    const page = await this.timeline.statuses(hashtag, access?.accountId ?? null, pageOf(params), {
      any: params.any,
      all: params.all,
      none: params.none,
      local: params.local,
      remote: params.remote,
      onlyMedia: params.only_media,
    });
    linkPages(
      res,
      req,
      this.config,
      tenant.primaryDomain,
      page.statuses.map((s) => s.id),
    );
    // Mastodon shows hashtag timelines in the `public` filter context.
    return new StatusPresenter(this.config, tenant.primaryDomain).page(page, 'public');
  }

  private async featuredOf(accountId: string, tenant: TenantAtHost): Promise<MastodonFeaturedTag[]> {
    const { account, featured } = await this.tags.featuredBy(accountId);
    const presenter = this.presenter(tenant);
    return featured.map((f) => presenter.featured(account, f));
  }

  private presenter(tenant: TenantAtHost): TagPresenter {
    return new TagPresenter(this.config, tenant.primaryDomain);
  }
}
