import type { Response } from 'express';

/** Announces the next page of a keyset-paginated list in an RFC 8288 `Link` header. */
export function linkNextPage(res: Response, path: string, query: Record<string, string>): void {
  res.setHeader('Link', `<${path}?${new URLSearchParams(query).toString()}>; rel="next"`);
}
