import { publicUrl, type TownhallConfig } from '@townhall/core';
import { type AccountRecord, type LoginRecord, plainTextToHtml } from '@townhall/social';

/** Mastodon's Account entity (docs.joinmastodon.org/entities/Account). */
export interface MastodonAccount {
  id: string;
  username: string;
  acct: string;
  url: string;
  uri: string;
  display_name: string;
  note: string;
  avatar: string;
  avatar_static: string;
  header: string;
  header_static: string;
  locked: boolean;
  fields: { name: string; value: string; verified_at: string | null }[];
  emojis: unknown[];
  bot: boolean;
  group: boolean;
  discoverable: boolean | null;
  indexable: boolean;
  hide_collections: boolean | null;
  noindex?: boolean;
  memorial?: boolean;
  suspended?: boolean;
  created_at: string;
  last_status_at: string | null;
  statuses_count: number;
  followers_count: number;
  following_count: number;
  roles: unknown[];
}

/** The Account entity of the signed-in user, with `source` and `role` (CredentialAccount). */
export interface MastodonCredentialAccount extends MastodonAccount {
  source: {
    privacy: string;
    sensitive: boolean;
    language: string | null;
    note: string;
    fields: { name: string; value: string; verified_at: string | null }[];
    follow_requests_count: number;
    hide_collections: boolean;
    discoverable: boolean;
    indexable: boolean;
    attribution_domains: string[];
  };
  role: { id: string; name: string; permissions: string; color: string; highlighted: boolean };
}

/** Where an account's pictures are when it has none: Mastodon's placeholder paths, served by the instance. */
export const MISSING_AVATAR_PATH = '/avatars/original/missing.png';
export const MISSING_HEADER_PATH = '/headers/original/missing.png';

type Links = Pick<TownhallConfig, 'publicUrl'>;

/**
 * Renders accounts for one tenant's domain. Local accounts' notes and field values are kept as the text
 * their owner typed and rendered here; remote accounts' come sanitised from the gateway.
 */
export class AccountPresenter {
  constructor(
    private readonly links: Links,
    private readonly domain: string,
  ) {}

  account(a: AccountRecord): MastodonAccount {
    const local = a.domain === null;
    const origin = (path: string) => publicUrl(this.links, this.domain, path);
    // An animated picture has a still beside it (`static`), for clients that do not animate.
    const media = (m: { key: string; static?: string } | null, missing: string, still = false) =>
      m ? origin(`/system/${still && m.static ? m.static : m.key}`) : origin(missing);
    const avatar = media(a.avatar, MISSING_AVATAR_PATH);
    const header = media(a.header, MISSING_HEADER_PATH);
    const suspended = a.suspendedAt !== null;
    // A local account's addresses follow the tenant's primary domain and the public URL settings, so
    // they stay right when either changes; a remote account's are what its server said.
    const uri = local ? origin(`/users/${a.username}`) : a.uri;
    return {
      id: a.id,
      username: a.username,
      acct: local ? a.username : `${a.username}@${a.domain}`,
      url: local ? origin(`/@${a.username}`) : (a.url ?? a.uri),
      uri,
      display_name: suspended ? '' : a.displayName,
      note: suspended ? '' : local ? plainTextToHtml(a.note) : a.note,
      avatar: suspended ? origin(MISSING_AVATAR_PATH) : avatar,
      avatar_static: suspended ? origin(MISSING_AVATAR_PATH) : media(a.avatar, MISSING_AVATAR_PATH, true),
      header: suspended ? origin(MISSING_HEADER_PATH) : header,
      header_static: suspended ? origin(MISSING_HEADER_PATH) : media(a.header, MISSING_HEADER_PATH, true),
      locked: a.locked,
      fields: suspended
        ? []
        : a.fields.map((f) => ({
            name: f.name,
            value: local ? plainTextToHtml(f.value).replace(/^<p>|<\/p>$/g, '') : f.value,
            verified_at: f.verified_at ?? null,
          })),
      emojis: [],
      bot: a.bot || a.actorType === 'Service' || a.actorType === 'Application',
      group: a.actorType === 'Group',
      discoverable: a.discoverable,
      indexable: a.indexable,
      hide_collections: a.hideCollections,
      ...(local ? { noindex: !a.indexable } : {}),
      ...(a.memorial ? { memorial: true } : {}),
      ...(suspended ? { suspended: true } : {}),
      // Mastodon gives the day an account was created, at midnight UTC.
      created_at: `${a.createdAt.toISOString().slice(0, 10)}T00:00:00.000Z`,
      last_status_at: a.lastStatusAt ? a.lastStatusAt.toISOString().slice(0, 10) : null,
      statuses_count: a.statusesCount,
      followers_count: a.followersCount,
      following_count: a.followingCount,
      roles: [],
    };
  }

  credentialAccount(a: AccountRecord, login: LoginRecord): MastodonCredentialAccount {
    const settings = login.settings as {
      default_privacy?: string;
      default_sensitive?: boolean;
      default_language?: string;
    };
    return {
      ...this.account(a),
      source: {
        privacy: settings.default_privacy ?? 'public',
        sensitive: settings.default_sensitive ?? false,
        language: settings.default_language ?? null,
        note: a.note,
        fields: a.fields.map((f) => ({ name: f.name, value: f.value, verified_at: f.verified_at ?? null })),
        follow_requests_count: login.followRequestsCount,
        hide_collections: a.hideCollections,
        discoverable: a.discoverable,
        indexable: a.indexable,
        attribution_domains: [],
      },
      role: ROLES[login.role] ?? ROLES.user,
    };
  }
}

/** Mastodon's role entity for each of Townhall's roles; `permissions` is Mastodon's bit field. */
const ROLES: Record<string, MastodonCredentialAccount['role']> = {
  owner: { id: '3', name: 'Owner', permissions: '1', color: '', highlighted: true },
  admin: { id: '2', name: 'Admin', permissions: '983036', color: '', highlighted: true },
  moderator: { id: '1', name: 'Moderator', permissions: '1308', color: '', highlighted: true },
  staff: { id: '-98', name: 'Staff', permissions: '0', color: '', highlighted: false },
  user: { id: '-99', name: '', permissions: '65536', color: '', highlighted: false },
};
