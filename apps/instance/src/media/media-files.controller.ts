import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
 * they are meant to be embedded by web clients on other origins (Cross-Origin-Resource-Policy). Video
 * and audio players ask for byte ranges, which are answered with 206 (a single range).
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
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const name = /^(original|small)\.([a-z0-9]{3,4})$/.exec(file);
    const type = name ? CONTENT_TYPES[name[2]] : undefined;
    if (!name || !type || !/^\d{1,19}$/.test(id) || !/^[0-9a-f]{32}$/.test(token)) {
      throw new StatusError('not_found', 'Record not found');
    }
    const asked = request.headers.range;
    let unsatisfiable = false;
    const found = await this.storage.read(`${tenant.ref.id}/${id}/${token}/${file}`, (size) => {
      const range = asked === undefined ? null : byteRange(asked, size);
      if (range === 'unsatisfiable') unsatisfiable = true;
      return range === 'unsatisfiable' ? null : range;
    });
    if (!found) throw new StatusError('not_found', 'Record not found');
    reply
      .header('content-type', type)
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('content-security-policy', "default-src 'none'; sandbox");
    if (unsatisfiable) {
      found.stream.destroy();
      await reply.status(416).header('content-range', `bytes */${found.size}`).send();
      return;
    }
    if (found.range) {
      const { start, end } = found.range;
      await reply
        .status(206)
        .header('content-range', `bytes ${start}-${end}/${found.size}`)
        .header('content-length', String(end - start + 1))
        .send(found.stream);
      return;
    }
    await reply.header('content-length', String(found.size)).send(found.stream);
  }
}

/**
 * One byte range of a `Range` header (RFC 9110 §14.1.2), as video and audio players ask for them:
 * `bytes=a-b`, `bytes=a-` or `bytes=-n`. Several ranges, or another unit, get the whole file (a server
 * may ignore Range); a range that starts beyond the end is unsatisfiable (416).
 */
export function byteRange(
  header: string,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}
