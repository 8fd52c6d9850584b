/**
 * ActivityStreams 2.0 documents of local actors and their objects, as Mastodon 4.3 serves them: the
 * same shapes and the same JSON-LD context terms, so every server that reads Mastodon reads us. Plain
 * functions of plain rows; the gateway reads the rows.
 */
export const AS_PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';

export const ACTOR_CONTEXT = [
  'https://www.w3.org/ns/activitystreams',
  'https://w3id.org/security/v1',
  {
    manuallyApprovesFollowers: 'as:manuallyApprovesFollowers',
    toot: 'http://joinmastodon.org/ns#',
    featured: { '@id': 'toot:featured', '@type': '@id' },
    featuredTags: { '@id': 'toot:featuredTags', '@type': '@id' },
    discoverable: 'toot:discoverable',
    indexable: 'toot:indexable',
    memorial: 'toot:memorial',
    schema: 'http://schema.org#',
    PropertyValue: 'schema:PropertyValue',
    value: 'schema:value',
  },
] as const;

export const NOTE_CONTEXT = [
  'https://www.w3.org/ns/activitystreams',
  {
    ostatus: 'http://ostatus.org#',
    atomUri: 'ostatus:atomUri',
    sensitive: 'as:sensitive',
    toot: 'http://joinmastodon.org/ns#',
  },
] as const;

export interface LocalActor {
  /** The actor's id (`{origin}/users/{username}`, or `{origin}/actor` for the instance actor). */
  uri: string;
  /** The profile page people read (`{origin}/@{username}`). */
  url: string | null;
  username: string;
  displayName: string;
  /** HTML, already rendered and sanitised. */
  note: string;
  actorType: 'Person' | 'Service' | 'Application' | 'Group' | 'Organization';
  locked: boolean;
  discoverable: boolean;
  indexable: boolean;
  memorial: boolean;
  createdAt: Date;
  publicKeyPem: string;
  fields: Array<{ name: string; value: string }>;
  avatar?: { url: string; mediaType: string } | null;
  header?: { url: string; mediaType: string } | null;
  /** The instance actor has no collections of its own to show. */
  instanceActor?: boolean;
}

/** Where an actor's collections and endpoints are, derived from its id as Mastodon lays them out. */
export function actorEndpoints(uri: string) {
  return {
    inbox: `${uri}/inbox`,
    outbox: `${uri}/outbox`,
    followers: `${uri}/followers`,
    following: `${uri}/following`,
    featured: `${uri}/collections/featured`,
    featuredTags: `${uri}/collections/tags`,
    sharedInbox: `${new URL(uri).origin}/inbox`,
    keyId: `${uri}#main-key`,
  };
}

export function renderActor(actor: LocalActor): Record<string, unknown> {
  const at = actorEndpoints(actor.uri);
  const collections = actor.instanceActor
    ? { inbox: at.inbox, outbox: at.outbox }
    : {
        following: at.following,
        followers: at.followers,
        inbox: at.inbox,
        outbox: at.outbox,
        featured: at.featured,
        featuredTags: at.featuredTags,
      };
  return {
    '@context': ACTOR_CONTEXT,
    id: actor.uri,
    type: actor.actorType,
    ...collections,
    preferredUsername: actor.username,
    name: actor.displayName,
    summary: actor.note,
    url: actor.url ?? actor.uri,
    manuallyApprovesFollowers: actor.locked,
    discoverable: actor.discoverable,
    indexable: actor.indexable,
    published: dayOf(actor.createdAt),
    memorial: actor.memorial,
    publicKey: { id: at.keyId, owner: actor.uri, publicKeyPem: actor.publicKeyPem },
    tag: [],
    attachment: actor.fields.map((f) => ({ type: 'PropertyValue', name: f.name, value: f.value })),
    endpoints: { sharedInbox: at.sharedInbox },
    ...(actor.avatar
      ? { icon: { type: 'Image', mediaType: actor.avatar.mediaType, url: actor.avatar.url } }
      : {}),
    ...(actor.header
      ? { image: { type: 'Image', mediaType: actor.header.mediaType, url: actor.header.url } }
      : {}),
  };
}

/** Mastodon publishes the day an account was made, not the moment. */
function dayOf(date: Date): string {
  return `${date.toISOString().slice(0, 10)}T00:00:00Z`;
}

export type Visibility = 'public' | 'unlisted' | 'private' | 'direct';

export interface LocalNote {
  uri: string;
  url: string;
  actorUri: string;
  content: string;
  spoilerText: string;
  sensitive: boolean;
  language: string | null;
  visibility: Visibility;
  published: Date;
  updated: Date | null;
  inReplyTo: string | null;
  /** Actor ids of the accounts mentioned, with their handles (`@name@domain`). */
  mentions: Array<{ uri: string; acct: string }>;
  /** Hashtags, with the URL of their tag page. */
  tags: Array<{ name: string; url: string }>;
}

/** The addressing Mastodon gives each visibility. */
export function addressing(note: Pick<LocalNote, 'visibility' | 'actorUri' | 'mentions'>) {
  const followers = actorEndpoints(note.actorUri).followers;
  const mentioned = note.mentions.map((m) => m.uri);
  switch (note.visibility) {
    case 'public':
      return { to: [AS_PUBLIC], cc: [followers, ...mentioned] };
    case 'unlisted':
      return { to: [followers], cc: [AS_PUBLIC, ...mentioned] };
    case 'private':
      return { to: [followers], cc: mentioned };
    case 'direct':
      return { to: mentioned, cc: [] };
  }
}

export function renderNote(note: LocalNote, options: { context?: boolean } = {}): Record<string, unknown> {
  return {
    ...(options.context === false ? {} : { '@context': NOTE_CONTEXT }),
    id: note.uri,
    type: 'Note',
    summary: note.spoilerText || null,
    inReplyTo: note.inReplyTo,
    published: note.published.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(note.updated ? { updated: note.updated.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
    url: note.url,
    attributedTo: note.actorUri,
    ...addressing(note),
    sensitive: note.sensitive,
    atomUri: note.uri,
    content: note.content,
    ...(note.language ? { contentMap: { [note.language]: note.content } } : {}),
    attachment: [],
    tag: [
      ...note.mentions.map((m) => ({ type: 'Mention', href: m.uri, name: m.acct })),
      ...note.tags.map((t) => ({ type: 'Hashtag', href: t.url, name: `#${t.name}` })),
    ],
  };
}

/** The Create activity of a note, as outboxes list them (`{note}/activity`, as Mastodon names it). */
export function renderCreate(note: LocalNote, options: { context?: boolean } = {}): Record<string, unknown> {
  return {
    ...(options.context === false ? {} : { '@context': NOTE_CONTEXT }),
    id: `${note.uri}/activity`,
    type: 'Create',
    actor: note.actorUri,
    published: note.published.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...addressing(note),
    object: renderNote(note, { context: false }),
  };
}

export function renderOrderedCollection(input: {
  id: string;
  totalItems: number;
  first?: string;
  last?: string;
}): Record<string, unknown> {
  return {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: input.id,
    type: 'OrderedCollection',
    totalItems: input.totalItems,
    ...(input.first ? { first: input.first } : {}),
    ...(input.last ? { last: input.last } : {}),
  };
}

export function renderOrderedCollectionPage(input: {
  id: string;
  partOf: string;
  totalItems: number;
  orderedItems: unknown[];
  next?: string;
  prev?: string;
}): Record<string, unknown> {
  return {
    '@context': NOTE_CONTEXT,
    id: input.id,
    type: 'OrderedCollectionPage',
    totalItems: input.totalItems,
    ...(input.next ? { next: input.next } : {}),
    ...(input.prev ? { prev: input.prev } : {}),
    partOf: input.partOf,
    orderedItems: input.orderedItems,
  };
}
