/**
 * WebFinger (RFC 7033) for local accounts: `acct:user@domain` and the actor's own URLs resolve to the
 * same JRD, with the actor document's link (`self`), the profile page and the follow template, as
 * Mastodon answers it.
 */
export const JRD_JSON = 'application/jrd+json; charset=utf-8';

export type WebfingerQuery = { kind: 'acct'; username: string; domain: string } | { kind: 'url'; url: URL };

/** Reads `resource`: `acct:user@domain` (or `user@domain`, as some clients send it) or an https/http URL. */
export function parseWebfingerResource(resource: string | undefined): WebfingerQuery | null {
  if (!resource || resource.length > 512) return null;
  const value = resource.trim();
  if (/^https?:\/\//i.test(value)) {
    return URL.canParse(value) ? { kind: 'url', url: new URL(value) } : null;
  }
  const acct = value.toLowerCase().startsWith('acct:') ? value.slice(5) : value;
  const at = acct.lastIndexOf('@');
  if (at <= 0 || at === acct.length - 1) return null;
  const username = acct.slice(0, at).replace(/^@/, '');
  const domain = acct
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '');
  if (!/^[A-Za-z0-9_.-]+$/.test(username)) return null;
  return { kind: 'acct', username, domain };
}

export function webfingerJrd(input: {
  username: string;
  domain: string;
  actorUri: string;
  profileUrl: string | null;
  origin: string;
}): Record<string, unknown> {
  return {
    subject: `acct:${input.username}@${input.domain}`,
    aliases: [...(input.profileUrl ? [input.profileUrl] : []), input.actorUri],
    links: [
      ...(input.profileUrl
        ? [{ rel: 'http://webfinger.net/rel/profile-page', type: 'text/html', href: input.profileUrl }]
        : []),
      { rel: 'self', type: 'application/activity+json', href: input.actorUri },
      {
        rel: 'http://ostatus.org/schema/1.0/subscribe',
        template: `${input.origin}/authorize_interaction?uri={uri}`,
      },
    ],
  };
}
