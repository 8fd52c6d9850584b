import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { DomainBlocks } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { CurrentTenant } from '../tenant-site';

/** `domain`, from the body or (as Rails merges them) the query string. */
@MastodonParams()
export class DomainParams {
  @IsOptional()
  @IsString()
  @MaxLength(300)
  domain?: string;
}

/** The domains a user blocks (Mastodon's /api/v1/domain_blocks). */
@ApiTags('accounts')
@Controller('api/v1/domain_blocks')
export class DomainBlocksController {
  constructor(
    private readonly blocks: DomainBlocks,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get()
  @Authenticated('read:blocks')
  @ApiOperation({
    summary: 'The domains you block, newest first',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/domain_blocks/#get' },
  })
  @ApiOkResponse({ description: 'Array of domain names; Link header for the next and previous pages' })
  async list(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<string[]> {
    const { domains, cursorIds } = await this.blocks.list(access.accountId, pageOf(params, 100, 200));
    linkPages(res, req, this.config, tenant.primaryDomain, cursorIds);
    return domains;
  }

  @Post()
  @HttpCode(200)
  @Authenticated('write:blocks')
  @ApiOperation({
    summary: 'Block a domain: hide its accounts, end follows with them',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/domain_blocks/#block' },
  })
  @ApiOkResponse({ description: 'An empty object' })
  async block(
    @Body() body: DomainParams,
    @Query() query: DomainParams,
    @CurrentAccess() access: UserAccess,
  ): Promise<Record<string, never>> {
    await this.blocks.block(access.accountId, body.domain ?? query.domain);
    return {};
  }

  @Delete()
  @Authenticated('write:blocks')
  @ApiOperation({
    summary: 'Unblock a domain',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/domain_blocks/#unblock' },
  })
  @ApiOkResponse({ description: 'An empty object' })
  async unblock(
    @Body() body: DomainParams,
    @Query() query: DomainParams,
    @CurrentAccess() access: UserAccess,
  ): Promise<Record<string, never>> {
    await this.blocks.unblock(access.accountId, body.domain ?? query.domain);
    return {};
  }
}
