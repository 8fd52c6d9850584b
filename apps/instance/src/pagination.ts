import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches, Max, Min } from 'class-validator';
import { MastodonParams, publicUrl, StrictInteger, type TownhallConfig } from '@townhall/core';
import type { PageRequest } from '@townhall/social';

const ID = /^\d{1,19}$/;

/** Mastodon's pagination parameters; a malformed one is refused (400), not read as something else. */
@MastodonParams()
export class PageParams {
  @ApiPropertyOptional({ description: 'Results older than this id' })
  @IsOptional()
  @Matches(ID, { message: 'max_id must be an id' })
  max_id?: string;

  @ApiPropertyOptional({ description: 'Results newer than this id' })
  @IsOptional()
  @Matches(ID, { message: 'since_id must be an id' })
  since_id?: string;

  @ApiPropertyOptional({ description: 'Results immediately newer than this id' })
  @IsOptional()
  @Matches(ID, { message: 'min_id must be an id' })
  min_id?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1 })
  @IsOptional()
  @StrictInteger()
  @Min(0)
  @Max(1_000_000)
  limit?: number;
}

/** The page asked for, with the endpoint's default and maximum (Mastodon clamps a larger limit). */
export function pageOf(params: PageParams, defaultLimit = 20, maxLimit = 40): PageRequest {
  const limit =
    params.limit === undefined || params.limit === 0 ? defaultLimit : Math.min(params.limit, maxLimit);
  return { maxId: params.max_id, sinceId: params.since_id, minId: params.min_id, limit };
}

/**
 * Mastodon's `Link` header for a page: `next` to older results (`max_id` = the last id shown), `prev` to
 * newer ones (`min_id` = the first), keeping the request's other parameters; none for an empty page.
 * Some of Mastodon's lists differ: `prev` by `since_id`, and `next` only when the page was full (`more`).
 */
export function linkPages(
  reply: FastifyReply,
  request: FastifyRequest,
  config: Pick<TownhallConfig, 'publicUrl'>,
  domain: string,
  ids: string[],
  options: { prev?: 'min_id' | 'since_id'; more?: boolean } = {},
): void {
  if (ids.length === 0) return;
  const url = new URL(request.url, 'http://x');
  const keep = new URLSearchParams(url.search);
  for (const name of ['max_id', 'since_id', 'min_id']) keep.delete(name);
  const link = (name: string, value: string) => {
    const query = new URLSearchParams(keep);
    query.set(name, value);
    return publicUrl(config, domain, `${url.pathname}?${query.toString()}`);
  };
  const links = [`<${link(options.prev ?? 'min_id', ids[0])}>; rel="prev"`];
  if (options.more !== false) links.unshift(`<${link('max_id', ids[ids.length - 1])}>; rel="next"`);
  reply.header('Link', links.join(', '));
}
