import { TOWNHALL_SOFTWARE } from '@townhall/activitypub';
import { publicOrigin, publicUrl, TownhallConfig } from '@townhall/core';
import {
  ANNOUNCED_AV_TYPES,
  AV_LIMITS,
  IMAGE_LIMITS,
  IMAGE_TYPES,
  type LocalUsage,
  MAX_MEDIA_ATTACHMENTS,
  MAX_MEDIA_DESCRIPTION,
  POLL_LIMITS as SOCIAL_POLL_LIMITS,
} from '@townhall/social';

/**
 * Mastodon's Instance entities (docs.joinmastodon.org/entities/Instance and V1_Instance) for one
 * tenant. Pure: built from the tenant's facts and the public-URL settings, so every link agrees with
 * the links the rest of the platform emits.
 */
export interface InstanceFacts {
  /** The tenant's primary domain: the instance's identity, whatever alias the client used. */
  domain: string;
  title: string;
  description: string;
  contactEmail: string;
  usage: LocalUsage;
  /** Whether ffmpeg is there to take video and audio (otherwise only images are announced). */
  videoAndAudio: boolean;
}

/** Clients read the Mastodon version to decide which features to use; ours says what it is compatible with. */
export const MASTODON_COMPATIBLE_VERSION = `4.3.0 (compatible; Townhall ${TOWNHALL_SOFTWARE.version})`;

/**
 * Until tenants choose their languages, instances announce the platform default; the first is the
 * tenant's default language (its public pages fall back to it).
 */
export const LANGUAGES: readonly string[] = ['en'];

export const THUMBNAIL_PATH = '/instance/thumbnail.png';

const REGISTRATIONS_CLOSED_MESSAGE =
  '<p>Accounts on this instance are set up by the organisation that runs it. It does not take sign-ups.</p>';

/** Mastodon's default limits, which clients use to size their composers. */
const STATUS_LIMITS = {
  max_characters: 500,
  max_media_attachments: MAX_MEDIA_ATTACHMENTS,
  characters_reserved_per_url: 23,
};
const POLL_LIMITS = {
  max_options: SOCIAL_POLL_LIMITS.maxOptions,
  max_characters_per_option: SOCIAL_POLL_LIMITS.maxCharactersPerOption,
  min_expiration: SOCIAL_POLL_LIMITS.minExpiration,
  max_expiration: SOCIAL_POLL_LIMITS.maxExpiration,
};
/**
 * What this instance accepts, announced as Mastodon announces its own: the image types it decodes, and
 * video and audio only where ffmpeg is there to process them (announcing them otherwise would invite
 * uploads that fail).
 */
const MEDIA_LIMITS = {
  supported_mime_types: [...IMAGE_TYPES] as string[],
  image_size_limit: IMAGE_LIMITS.maxBytes,
  image_matrix_limit: IMAGE_LIMITS.maxPixels,
  video_size_limit: AV_LIMITS.maxBytes,
  video_frame_rate_limit: AV_LIMITS.maxFrameRate,
  video_matrix_limit: AV_LIMITS.maxPixels,
};

function mediaLimits(facts: InstanceFacts): typeof MEDIA_LIMITS {
  return {
    ...MEDIA_LIMITS,
    supported_mime_types: [...IMAGE_TYPES, ...(facts.videoAndAudio ? ANNOUNCED_AV_TYPES : [])],
  };
}

type Links = Pick<TownhallConfig, 'publicUrl'>;

export interface InstanceV2 {
  domain: string;
  title: string;
  version: string;
  source_url: string;
  description: string;
  usage: { users: { active_month: number } };
  thumbnail: { url: string; blurhash?: string; versions?: Record<string, string> };
  icon: { src: string; size: string }[];
  languages: string[];
  configuration: {
    urls: {
      streaming: string;
      status: string | null;
      about: string;
      privacy_policy: string;
      terms_of_service: string | null;
    };
    accounts: { max_featured_tags: number; max_pinned_statuses: number };
    statuses: typeof STATUS_LIMITS;
    media_attachments: typeof MEDIA_LIMITS & { description_limit: number };
    polls: typeof POLL_LIMITS;
    translation: { enabled: boolean };
  };
  registrations: {
    enabled: boolean;
    approval_required: boolean;
    reason_required: boolean;
    message: string | null;
    min_age: number | null;
    url: string | null;
  };
  api_versions: { mastodon: number };
  contact: { email: string; account: null };
  rules: { id: string; text: string; hint: string }[];
}

export interface InstanceV1 {
  uri: string;
  title: string;
  short_description: string;
  description: string;
  email: string;
  version: string;
  urls: { streaming_api: string };
  stats: { user_count: number; status_count: number; domain_count: number };
  thumbnail: string | null;
  languages: string[];
  registrations: boolean;
  approval_required: boolean;
  invites_enabled: boolean;
  configuration: {
    accounts: { max_featured_tags: number };
    statuses: typeof STATUS_LIMITS;
    media_attachments: typeof MEDIA_LIMITS;
    polls: typeof POLL_LIMITS;
  };
  contact_account: null;
  rules: { id: string; text: string }[];
}

export function instanceV2(facts: InstanceFacts, links: Links): InstanceV2 {
  return {
    domain: facts.domain,
    title: facts.title,
    version: MASTODON_COMPATIBLE_VERSION,
    source_url: TOWNHALL_SOFTWARE.repository,
    description: facts.description,
    usage: { users: { active_month: facts.usage.activeMonth } },
    thumbnail: { url: publicUrl(links, facts.domain, THUMBNAIL_PATH) },
    icon: [],
    languages: [...LANGUAGES],
    configuration: {
      urls: {
        streaming: streamingOrigin(links, facts.domain),
        status: null,
        about: publicUrl(links, facts.domain, '/about'),
        privacy_policy: publicUrl(links, facts.domain, '/privacy-policy'),
        terms_of_service: null,
      },
      accounts: { max_featured_tags: 10, max_pinned_statuses: 5 },
      statuses: { ...STATUS_LIMITS },
      media_attachments: { ...mediaLimits(facts), description_limit: MAX_MEDIA_DESCRIPTION },
      polls: { ...POLL_LIMITS },
      translation: { enabled: false },
    },
    // Official accounts are onboarded by their organisation, never self-registered.
    registrations: {
      enabled: false,
      approval_required: false,
      reason_required: false,
      message: REGISTRATIONS_CLOSED_MESSAGE,
      min_age: null,
      url: null,
    },
    api_versions: { mastodon: 2 },
    contact: { email: facts.contactEmail, account: null },
    rules: [],
  };
}

export function instanceV1(facts: InstanceFacts, links: Links): InstanceV1 {
  return {
    uri: facts.domain,
    title: facts.title,
    short_description: facts.description,
    description: facts.description,
    email: facts.contactEmail,
    version: MASTODON_COMPATIBLE_VERSION,
    urls: { streaming_api: streamingOrigin(links, facts.domain) },
    stats: { user_count: facts.usage.users, status_count: facts.usage.localPosts, domain_count: 0 },
    thumbnail: publicUrl(links, facts.domain, THUMBNAIL_PATH),
    languages: [...LANGUAGES],
    registrations: false,
    approval_required: false,
    invites_enabled: false,
    configuration: {
      accounts: { max_featured_tags: 10 },
      statuses: { ...STATUS_LIMITS },
      media_attachments: mediaLimits(facts),
      polls: { ...POLL_LIMITS },
    },
    contact_account: null,
    rules: [],
  };
}

/** The WebSocket origin of the streaming API: the public origin with ws(s) for http(s). */
export function streamingOrigin(links: Links, domain: string): string {
  return publicOrigin(links, domain).replace(/^http/, 'ws');
}
