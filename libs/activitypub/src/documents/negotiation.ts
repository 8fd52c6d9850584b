/**
 * Content negotiation on actor and object URLs, as Mastodon does it: a request that accepts
 * `application/activity+json` or `application/ld+json` (with or without the ActivityStreams profile)
 * gets the ActivityStreams document; anything else — a browser — is sent to the HTML page.
 */
export function wantsActivityStreams(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .map((part) => part.split(';'))
    .some(([type, ...params]) => {
      const media = type.trim().toLowerCase();
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      if (q && Number(q.slice(2)) === 0) return false;
      return media === 'application/activity+json' || media === 'application/ld+json';
    });
}

/** The media type of ActivityStreams answers. */
export const ACTIVITY_JSON_UTF8 = 'application/activity+json; charset=utf-8';
