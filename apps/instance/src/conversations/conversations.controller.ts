import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { Conversations } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { linkPages, PageParams, pageOf } from '../pagination';
import { conversationEntities, type MastodonConversation } from '../presenters/conversation.presenter';
import { CurrentTenant } from '../tenant-site';

/** Direct conversations of the signed-in user (Mastodon's /api/v1/conversations). */
@ApiTags('conversations')
@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: Conversations,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get()
  @Authenticated('read:statuses')
  @ApiOperation({
    summary: 'View direct conversations, newest first (Link header for more)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/conversations/#get' },
  })
  @ApiOkResponse({ description: 'Conversation[]' })
  async list(
    @Query() params: PageParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MastodonConversation[]> {
    const found = await this.conversations.list(access.accountId, pageOf(params));
    linkPages(
      res,
      req,
      this.config,
      tenant.primaryDomain,
      found.conversations.map((c) => c.lastStatusId),
    );
    return conversationEntities(found, this.config, tenant.primaryDomain);
  }

  @Post(':id/read')
  @HttpCode(200)
  @Authenticated('write:conversations')
  @ApiOperation({
    summary: 'Mark a conversation as read',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/conversations/#read' },
  })
  async read(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonConversation> {
    return conversationEntities(
      await this.conversations.read(access.accountId, id),
      this.config,
      tenant.primaryDomain,
    )[0];
  }

  @Delete(':id')
  @Authenticated('write:conversations')
  @ApiOperation({
    summary: 'Remove a conversation from the list (its statuses stay)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/conversations/#delete' },
  })
  async remove(@Param('id') id: string, @CurrentAccess() access: UserAccess): Promise<Record<string, never>> {
    await this.conversations.remove(access.accountId, id);
    return {};
  }
}
