import { addressing, AS_PUBLIC, renderActor, renderCreate, LocalNote } from './activity-streams';
import { wantsActivityStreams } from './negotiation';
import { parseWebfingerResource } from './webfinger';

describe('wantsActivityStreams', () => {
  it.each([
    ['application/activity+json', true],
    ['application/ld+json; profile="https://www.w3.org/ns/activitystreams"', true],
    ['application/ld+json', true],
    ['text/html, application/activity+json;q=0.9', true],
    ['Application/Activity+JSON', true],
    ['application/activity+json;q=0', false],
    ['text/html,application/xhtml+xml,*/*;q=0.8', false],
    ['application/json', false],
    ['*/*', false],
    [undefined, false],
  ])('%s → %s', (accept, expected) => {
    expect(wantsActivityStreams(accept)).toBe(expected);
  });
});

describe('parseWebfingerResource', () => {
  it.each([
    ['acct:alice@social.alpha.example', { kind: 'acct', username: 'alice', domain: 'social.alpha.example' }],
    ['acct:Alice@Social.Alpha.Example.', { kind: 'acct', username: 'Alice', domain: 'social.alpha.example' }],
    ['alice@social.alpha.example', { kind: 'acct', username: 'alice', domain: 'social.alpha.example' }],
    ['acct:@alice@social.alpha.example', { kind: 'acct', username: 'alice', domain: 'social.alpha.example' }],
  ])('reads %s', (resource, expected) => {
    expect(parseWebfingerResource(resource)).toEqual(expected);
  });

  it('reads actor URLs', () => {
    expect(parseWebfingerResource('https://social.alpha.example/users/alice')).toEqual({
      kind: 'url',
      url: new URL('https://social.alpha.example/users/alice'),
    });
  });

  it.each([undefined, '', 'alice', 'acct:alice@', 'acct:@example', 'acct:a/b@x.example', 'x'.repeat(600)])(
    'refuses %s',
    (resource) => {
      expect(parseWebfingerResource(resource)).toBeNull();
    },
  );
});

describe('addressing and documents', () => {
  const actorUri = 'https://social.alpha.example/users/alice';
  const mention = { uri: 'https://remote.example/users/bob', acct: '@bob@remote.example' };

  it.each([
    ['public', [AS_PUBLIC], [`${actorUri}/followers`, mention.uri]],
    ['unlisted', [`${actorUri}/followers`], [AS_PUBLIC, mention.uri]],
    ['private', [`${actorUri}/followers`], [mention.uri]],
    ['direct', [mention.uri], []],
  ] as const)('addresses a %s note as Mastodon does', (visibility, to, cc) => {
    expect(addressing({ visibility, actorUri, mentions: [mention] })).toEqual({ to, cc });
  });

  it('renders a Create whose object is the note, both addressed alike', () => {
    const note: LocalNote = {
      uri: `${actorUri}/statuses/1`,
      url: 'https://social.alpha.example/@alice/1',
      actorUri,
      content: '<p>Hi</p>',
      spoilerText: '',
      sensitive: false,
      language: 'en',
      visibility: 'public',
      published: new Date('2026-12-08T03:00:00.123Z'),
      updated: null,
      inReplyTo: null,
      mentions: [],
      tags: [],
    };
    const create = renderCreate(note);
    expect(create).toMatchObject({
      id: `${actorUri}/statuses/1/activity`,
      type: 'Create',
      actor: actorUri,
      published: '2026-12-08T03:00:00Z',
      to: [AS_PUBLIC],
      object: {
        id: note.uri,
        type: 'Note',
        attributedTo: actorUri,
        contentMap: { en: '<p>Hi</p>' },
        to: [AS_PUBLIC],
      },
    });
    expect((create.object as Record<string, unknown>)['@context']).toBeUndefined();
  });

  it('gives the instance actor no followers or featured collections', () => {
    const base = {
      uri: 'https://social.alpha.example/actor',
      url: null,
      username: 'social.alpha.example',
      displayName: 'Alpha',
      note: '',
      actorType: 'Application' as const,
      locked: true,
      discoverable: false,
      indexable: false,
      memorial: false,
      createdAt: new Date('2026-01-02T10:00:00Z'),
      publicKeyPem: 'PEM',
      fields: [],
    };
    const doc = renderActor({ ...base, instanceActor: true });
    expect(doc).toMatchObject({
      id: base.uri,
      type: 'Application',
      inbox: `${base.uri}/inbox`,
      published: '2026-01-02T00:00:00Z',
      publicKey: { id: `${base.uri}#main-key`, owner: base.uri, publicKeyPem: 'PEM' },
      endpoints: { sharedInbox: 'https://social.alpha.example/inbox' },
    });
    expect(doc.followers).toBeUndefined();
    expect(doc.featured).toBeUndefined();
  });
});
