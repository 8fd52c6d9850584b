/**
 * Mastodon's OAuth scopes (docs.joinmastodon.org/api/oauth-scopes). A token carries top-level scopes
 * (`read`, `write`, `follow`, `push`, `profile`, the admin ones) and granular ones (`read:statuses`); an
 * endpoint requires one granular scope, which a top-level scope covers (`read` covers every `read:*`).
 * `follow` is Mastodon's legacy scope for relationships: it covers reading and writing blocks, follows
 * and mutes.
 */
const GRANULAR = {
  read: [
    'accounts',
    'blocks',
    'bookmarks',
    'favourites',
    'filters',
    'follows',
    'lists',
    'mutes',
    'notifications',
    'search',
    'statuses',
  ],
  write: [
    'accounts',
    'blocks',
    'bookmarks',
    'conversations',
    'favourites',
    'filters',
    'follows',
    'lists',
    'media',
    'mutes',
    'notifications',
    'reports',
    'statuses',
  ],
  'admin:read': [
    'accounts',
    'reports',
    'domain_allows',
    'domain_blocks',
    'ip_blocks',
    'email_domain_blocks',
    'canonical_email_blocks',
  ],
  'admin:write': [
    'accounts',
    'reports',
    'domain_allows',
    'domain_blocks',
    'ip_blocks',
    'email_domain_blocks',
    'canonical_email_blocks',
  ],
} as const;

const FOLLOW_COVERS = new Set([
  'read:blocks',
  'write:blocks',
  'read:follows',
  'write:follows',
  'read:mutes',
  'write:mutes',
]);

/** Every scope name Mastodon knows. */
export const KNOWN_SCOPES: ReadonlySet<string> = new Set([
  'read',
  'write',
  'follow',
  'push',
  'profile',
  'admin:read',
  'admin:write',
  ...Object.entries(GRANULAR).flatMap(([top, subs]) => subs.map((s) => `${top}:${s}`)),
]);

/** What an app or token gets when it asks for nothing, as Mastodon defaults. */
export const DEFAULT_SCOPES = ['read'];

/**
 * The scopes of a space-separated list (Mastodon also accepts `+` between them, as some clients send
 * the form-encoded value twice encoded), or null when one is unknown.
 */
export function parseScopes(raw: string | undefined | null): string[] | null {
  const given = (raw ?? '').split(/[\s+]+/).filter(Boolean);
  if (given.length === 0) return [...DEFAULT_SCOPES];
  if (given.some((s) => !KNOWN_SCOPES.has(s))) return null;
  return [...new Set(given)];
}

/** Whether scopes granted together cover `required` (a granular scope such as `read:statuses`). */
export function scopesAllow(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  const colon = required.lastIndexOf(':');
  const top = colon === -1 ? required : required.slice(0, colon);
  if (granted.includes(top)) return true;
  return granted.includes('follow') && FOLLOW_COVERS.has(required);
}

/** Whether every scope asked for is within what an application may ask for. */
export function scopesWithin(asked: readonly string[], allowed: readonly string[]): boolean {
  return asked.every((scope) => scopesAllow(allowed, scope));
}
