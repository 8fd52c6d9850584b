import type { Type } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

/** Announces the next page of a keyset-paginated list in an RFC 8288 `Link` header. */
export function linkNextPage(res: FastifyReply, path: string, query: Record<string, string>): void {
  res.header('Link', `<${path}?${new URLSearchParams(query).toString()}>; rel="next"`);
}

/** Documents a 200 page of a keyset-paginated list, with the `Link` header `linkNextPage` sets. */
export function ApiPageResponse(type: Type<unknown>): MethodDecorator & ClassDecorator {
  return ApiOkResponse({
    type,
    headers: {
      Link: { description: 'RFC 8288 link to the next page, when there is one', schema: { type: 'string' } },
    },
  });
}
