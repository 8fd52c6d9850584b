import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { MediaStorage, StatusError } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';
import { CurrentTenant } from '../tenant-site';

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  mp4: 'video/mp4',
  mp3: 'audio/mpeg',
};

/**
 * The stored media files of the tenant at this Host: `/system/media/<media id>/<token>/<variant>.<ext>`,
 * the token being random per attachment so that addresses cannot be guessed from ids. A file is only
 * ever looked for below this tenant's own folder. Files never change, so caches may keep them for a year;
 * they are meant to be embedded by web clients on other origins (Cross-Origin-Resource-Policy).
 */
@ApiExcludeController()
@Controller('system/media')
export class MediaFilesController {
  constructor(private readonly storage: MediaStorage) {}

  @Get(':id/:token/:file')
  async file(
    @Param('id') id: string,
    @Param('token') token: string,
    @Param('file') file: string,
    @CurrentTenant() tenant: TenantAtHost,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const name = /^(original|small)\.([a-z0-9]{3,4})$/.exec(file);
    const type = name ? CONTENT_TYPES[name[2]] : undefined;
    if (!name || !type || !/^\d{1,19}$/.test(id) || !/^[0-9a-f]{32}$/.test(token)) {
      throw new StatusError('not_found', 'Record not found');
    }
    const found = await this.storage.read(`${tenant.ref.id}/${id}/${token}/${file}`);
    if (!found) throw new StatusError('not_found', 'Record not found');
    await reply
      .header('content-type', type)
      .header('content-length', String(found.size))
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(found.stream);
  }
}
