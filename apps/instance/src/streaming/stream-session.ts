import { createHash } from 'node:crypto';
import type { ActiveFilter, FilterContext } from '@townhall/social';
import { streamChannel, streamTagName } from '@townhall/social';
import type { TenantAtHost } from '@townhall/tenancy';

/** A refusal as Mastodon's streaming server words it: an HTTP status and a message. */
export class StreamError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Who a connection streams for: the token's user on the tenant of the Host. */
export interface StreamViewer {
  tenant: TenantAtHost;
  accountId: string;
  scopes: string[];
  /** `tenantId:sha256(token)`, as token revocations are announced. */
  tokenKey: string;
  token: string;
}

export function tokenKeyOf(tenantId: string, token: string): string {
  return `${tenantId}:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** Mastodon's public streams: no scope needed. */
const PUBLIC_STREAMS = new Set([
  'public',
  'public:media',
  'public:local',
  'public:local:media',
  'public:remote',
  'public:remote:media',
  'hashtag',
  'hashtag:local',
]);

/** One stream a connection asked for, as channels of its tenant. */
export interface StreamTarget {
  /** Identifies the subscription within a connection (Mastodon: the channel ids joined by `;`). */
  key: string;
  /** Redis channels (before the key prefix). */
  channels: string[];
  /** The `stream` array of each message: the name, with the tag or list. */
  stream: string[];
  /** Whether each status is checked against the viewer's blocks, mutes and languages (public streams). */
  filtering: boolean;
  /** Where a `hide` filter applies. */
  context: FilterContext;
}

export interface StreamParams {
  tag?: unknown;
  list?: unknown;
  only_media?: unknown;
}

/**
 * A stream name and its parameters → the tenant's channels, after Mastodon's checks (scopes first, then
 * the parameters): the same for a WebSocket `subscribe` and a server-sent-event path.
 */
export async function resolveStream(
  viewer: StreamViewer,
  name: unknown,
  params: StreamParams,
  ownsList: (listId: string) => Promise<boolean>,
): Promise<StreamTarget> {
  const stream = typeof name === 'string' ? name : Array.isArray(name) ? name[0] : undefined;
  if (typeof stream !== 'string') throw new StreamError(400, 'Unknown stream type');
  if (!PUBLIC_STREAMS.has(stream)) {
    const needed = stream === 'user:notification' ? 'read:notifications' : 'read:statuses';
    if (!viewer.scopes.includes('read') && !viewer.scopes.includes(needed))
      throw new StreamError(401, 'Access token does not have the required scopes');
  }
  const t = viewer.tenant.ref.id;
  const me = viewer.accountId;
  const target = (names: string[], filtering: boolean, context: FilterContext, shown = [stream]) => ({
    key: names.join(';'),
    channels: names.map((n) => streamChannel(t, n)),
    stream: shown,
    filtering,
    context,
  });
  switch (stream) {
    case 'user': {
      const names = [me];
      if (viewer.scopes.includes('read') || viewer.scopes.includes('read:notifications'))
        names.push(`${me}:notifications`);
      return target(names, false, 'home');
    }
    case 'user:notification':
      return target([`${me}:notifications`], false, 'notifications');
    case 'public':
    case 'public:local':
    case 'public:remote':
    case 'public:media':
    case 'public:local:media':
    case 'public:remote:media':
      return target([stream], true, 'public');
    case 'direct':
      return target([`direct:${me}`], false, 'home');
    case 'hashtag':
    case 'hashtag:local': {
      const tag = typeof params.tag === 'string' ? streamTagName(params.tag) : '';
      if (tag === '') throw new StreamError(400, 'Missing tag name parameter');
      const name = stream === 'hashtag' ? `hashtag:${tag}` : `hashtag:${tag}:local`;
      return target([name], true, 'public', [stream, String(params.tag)]);
    }
    case 'list': {
      const list =
        typeof params.list === 'string' || typeof params.list === 'number' ? String(params.list) : '';
      if (list === '') throw new StreamError(400, 'Missing list name parameter');
      if (!/^\d{1,19}$/.test(list) || !(await ownsList(list)))
        throw new StreamError(401, 'Not authorized to stream this list');
      return target([`list:${list}`], false, 'home', [stream, list]);
    }
    default:
      throw new StreamError(400, 'Unknown stream type');
  }
}

/** What a connection's transport does: WebSocket or server-sent events. */
export interface StreamOutput {
  send(stream: string[], event: string, payload: string | undefined): void;
  /** Ends the connection (a revoked token, a suspended tenant, the process shutting down). */
  close(reason: 'revoked' | 'suspended' | 'shutdown'): void;
}

/** One client connection: its viewer, its subscriptions, and the viewer's filters as last loaded. */
export class StreamSession {
  readonly subscriptions = new Map<string, StreamTarget>();
  filters: ActiveFilter[] = [];
  /** A reload of `filters` under way after `filters_changed`. */
  filtersLoading: Promise<void> | undefined;
  closed = false;

  constructor(
    readonly viewer: StreamViewer,
    readonly output: StreamOutput,
  ) {}
}
