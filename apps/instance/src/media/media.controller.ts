import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAccess, type UserAccess } from '@townhall/auth';
import { isUploadedFile, MastodonParams, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { MediaAttachments, type MediaRecord, StatusError } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { type MastodonMediaAttachment, presentMedia } from '../presenters/media.presenter';
import { CurrentTenant } from '../tenant-site';

@MastodonParams()
export class UpdateMediaParams {
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  description?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  focus?: string;
}

const UPLOAD_DOCS = {
  externalDocs: { url: 'https://docs.joinmastodon.org/methods/media/#v2' },
};

/**
 * Media uploads (Mastodon's /api/v1/media and /api/v2/media). The multipart body's `file` is read as
 * bytes and sniffed; `description` and `focus` come from the same form. Images are processed before the
 * answer (200 with the URLs set); video and audio are processed in the media queue on version 2, which
 * answers 202 with `url: null` until GET answers 200, and before the answer on version 1, as Mastodon does.
 */
@ApiTags('media')
@Controller()
export class MediaController {
  constructor(
    private readonly media: MediaAttachments,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Post('api/v2/media')
  @HttpCode(200)
  @Authenticated('write:media')
  @ApiConsumes('multipart/form-data')
  @ApiOperation({ summary: 'Upload a media attachment (file, description, focus)', ...UPLOAD_DOCS })
  @ApiOkResponse({ description: 'MediaAttachment, processed' })
  @ApiResponse({ status: 202, description: 'MediaAttachment with url null: video or audio being processed' })
  @ApiResponse({
    status: 422,
    description: 'Not a supported file, too large, over the quota, or a bad description or focus',
  })
  async uploadV2(
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MastodonMediaAttachment> {
    const media = await this.upload(request, access, true);
    if (media.processing) reply.status(202);
    return this.present(media, tenant);
  }

  @Post('api/v1/media')
  @HttpCode(200)
  @Authenticated('write:media')
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    summary: 'Upload a media attachment (deprecated version 1, same answer)',
    deprecated: true,
  })
  @ApiOkResponse({ description: 'MediaAttachment' })
  async uploadV1(
    @Req() request: FastifyRequest,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonMediaAttachment> {
    return this.present(await this.upload(request, access, false), tenant);
  }

  @Get('api/v1/media/:id')
  @Authenticated('write:media')
  @ApiOperation({
    summary: 'An own media attachment not yet posted (206 while it is processed)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/media/#get' },
  })
  @ApiOkResponse({ description: 'MediaAttachment' })
  @ApiResponse({ status: 206, description: 'MediaAttachment with url null: still being processed' })
  @ApiResponse({ status: 422, description: 'Processing failed' })
  async get(
    @Param('id') id: string,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MastodonMediaAttachment> {
    const media = await this.media.get(access.accountId, id);
    if (media.failed) {
      throw new StatusError('validation_failed', 'Error processing thumbnail for uploaded media');
    }
    if (media.processing) reply.status(206);
    return this.present(media, tenant);
  }

  @Put('api/v1/media/:id')
  @Authenticated('write:media')
  @ApiOperation({
    summary: 'Change the description or focal point of an attachment not yet posted',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/media/#update' },
  })
  @ApiOkResponse({ description: 'MediaAttachment' })
  async update(
    @Param('id') id: string,
    @Body() params: UpdateMediaParams,
    @CurrentAccess() access: UserAccess,
    @CurrentTenant() tenant: TenantAtHost,
  ): Promise<MastodonMediaAttachment> {
    const media = await this.media.update(access.accountId, id, {
      description: params.description,
      focus: params.focus,
    });
    return this.present(media, tenant);
  }

  private async upload(request: FastifyRequest, access: UserAccess, queued: boolean): Promise<MediaRecord> {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const file = body.file;
    if (!isUploadedFile(file)) {
      throw new StatusError('validation_failed', "Validation failed: File can't be blank");
    }
    const text = (name: string): string | undefined => {
      const value = body[name];
      if (value === undefined) return undefined;
      if (typeof value !== 'string')
        throw new StatusError('validation_failed', `Validation failed: ${name} must be text`);
      return value;
    };
    return this.media.upload(
      access.accountId,
      { data: file.data, description: text('description'), focus: text('focus') },
      { queued },
    );
  }

  private present(media: MediaRecord, tenant: TenantAtHost): MastodonMediaAttachment {
    return presentMedia(this.config, tenant.primaryDomain, media);
  }
}
