import http from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import {
  fetchActivityPubObject,
  RemoteKeys,
  SafeFetcher,
  signRequest,
  verifyRequest,
} from '@townhall/activitypub';
import { LocalActorKeys } from '../../apps/federation-gateway/src/actors/local-actor-keys';
import {
  InstanceActorSigner,
  RemoteFetching,
} from '../../apps/federation-gateway/src/fetching/remote-fetching';
import { callApi, ClientTestbed, InstanceWithGateway, startClientTestbed } from './client-support';
import { TenantContext, tenantRef } from '@townhall/tenancy';

// Fedify 2 reads `navigator.userAgent` when it loads; Node 20 has no navigator.
(globalThis as { navigator?: unknown }).navigator ??= { userAgent: `Node.js/${process.version}` };
/* eslint-disable @typescript-eslint/no-require-imports */
const vocab = require('@fedify/vocab') as {
  lookupObject(id: string, options: unknown): Promise<FedifyActor | null>;
};
const { lookupWebFinger } = require('@fedify/webfinger') as {
  lookupWebFinger(
    resource: URL | string,
    options: unknown,
  ): Promise<{ subject: string; links?: Array<Record<string, string>> } | null>;
};
const { getDocumentLoader } = require('@fedify/vocab-runtime') as {
  getDocumentLoader(options: { allowPrivateAddress: boolean }): unknown;
};
const { verifyRequest: fedifyVerify } = require('@fedify/fedify/sig') as {
  verifyRequest(request: Request, options: unknown): Promise<{ ownerId: URL | null } | null>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

interface FedifyActor {
  id: URL | null;
  preferredUsername: string | null;
  inboxId: URL | null;
  outboxId: URL | null;
  followersId: URL | null;
  followingId: URL | null;
  featuredId: URL | null;
  endpoints: { sharedInbox: URL | null } | null;
  constructor: { name: string };
  getPublicKey(
    options: unknown,
  ): Promise<{ id: URL | null; ownerId: URL | null; publicKey: { algorithm: unknown } | null } | null>;
}

const AS2 = 'application/activity+json';

/** The parts of the documents these tests read. */
interface ActorDocument {
  id: string;
  type: string;
  publicKey: { id: string; owner: string; publicKeyPem: string };
}
interface CreateActivity {
  type: string;
  to: string[];
  object: { id: string; tag: unknown[] };
}
interface CollectionDocument<Item = string> {
  type: string;
  totalItems: number;
  orderedItems: Item[];
}
const read = async <T>(res: Response): Promise<T> => (await res.json()) as T;

describe('federation gateway: actors and discovery, read by Fedify and by our own fetcher (over loopback)', () => {
  let bed: ClientTestbed;
  let alpha: string;
  let token: string;
  const documentLoader = getDocumentLoader({ allowPrivateAddress: true });

  const get = (path: string, accept = AS2, base = alpha) =>
    fetch(`${base}${path}`, { headers: { accept }, redirect: 'manual' });

  beforeAll(async () => {
    bed = await startClientTestbed(
      [
        {
          slug: 'alpha',
          domain: 'social.alpha.test',
          displayName: 'Alpha Ministry',
          adminEmail: 'press@alpha.test',
        },
        {
          slug: 'beta',
          domain: 'social.beta.test',
          displayName: 'Beta Agency',
          adminEmail: 'press@beta.test',
        },
      ],
      { TOWNHALL_INSECURE_FEDERATION: 'true' },
      (config) => InstanceWithGateway.forRoot(config),
    );
    alpha = bed.base.alpha;
    await bed.account('alpha', 'alice');
    await bed.account('alpha', 'bob');
    token = await bed.token('alpha', 'alice');
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('Fedify resolves an account by its actor URL, with its RSA key, inbox and collections', async () => {
    const actor = await vocab.lookupObject(`${alpha}/users/alice`, {
      documentLoader,
      contextLoader: documentLoader,
    });
    expect(actor).not.toBeNull();
    expect(actor!.constructor.name).toBe('Person');
    expect(actor!.id?.href).toBe(`${alpha}/users/alice`);
    expect(actor!.preferredUsername).toBe('alice');
    expect(actor!.inboxId?.href).toBe(`${alpha}/users/alice/inbox`);
    expect(actor!.outboxId?.href).toBe(`${alpha}/users/alice/outbox`);
    expect(actor!.followersId?.href).toBe(`${alpha}/users/alice/followers`);
    expect(actor!.followingId?.href).toBe(`${alpha}/users/alice/following`);
    expect(actor!.featuredId?.href).toBe(`${alpha}/users/alice/collections/featured`);
    expect(actor!.endpoints?.sharedInbox?.href).toBe(`${alpha}/inbox`);
    const key = await actor!.getPublicKey({ documentLoader, contextLoader: documentLoader });
    expect(key?.id?.href).toBe(`${alpha}/users/alice#main-key`);
    expect(key?.ownerId?.href).toBe(`${alpha}/users/alice`);
    expect(key?.publicKey?.algorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048 });
  });

  it('Fedify finds the account through WebFinger, by actor URL; acct: answers the same', async () => {
    const jrd = await lookupWebFinger(new URL(`${alpha}/users/alice`), { allowPrivateAddress: true });
    expect(jrd?.subject).toBe('acct:alice@social.alpha.test');
    const self = jrd?.links?.find((l) => l.rel === 'self');
    expect(self).toEqual({ rel: 'self', type: AS2, href: `${alpha}/users/alice` });
    const actor = await vocab.lookupObject(self!.href, { documentLoader, contextLoader: documentLoader });
    expect(actor?.preferredUsername).toBe('alice');

    const res = await get(
      '/.well-known/webfinger?resource=acct:alice@social.alpha.test',
      'application/jrd+json',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jrd+json; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      subject: 'acct:alice@social.alpha.test',
      aliases: [`${alpha}/@alice`, `${alpha}/users/alice`],
      links: [
        { rel: 'http://webfinger.net/rel/profile-page', type: 'text/html', href: `${alpha}/@alice` },
        { rel: 'self', type: AS2, href: `${alpha}/users/alice` },
        {
          rel: 'http://ostatus.org/schema/1.0/subscribe',
          template: `${alpha}/authorize_interaction?uri={uri}`,
        },
      ],
    });
  });

  it('answers WebFinger only for its own accounts and domains', async () => {
    const status = async (resource: string, base = alpha) =>
      (
        await get(
          `/.well-known/webfinger?resource=${encodeURIComponent(resource)}`,
          'application/jrd+json',
          base,
        )
      ).status;
    expect(await status('acct:nobody@social.alpha.test')).toBe(404);
    expect(await status('acct:alice@social.beta.test')).toBe(404);
    // The same name on the other tenant's domain is the other tenant's question.
    expect(await status('acct:alice@social.alpha.test', bed.base.beta)).toBe(404);
    expect(await status('https://elsewhere.example/users/alice')).toBe(404);
    expect(await status('not a resource')).toBe(400);
    expect((await get('/.well-known/webfinger', 'application/jrd+json')).status).toBe(400);
  });

  it('negotiates: AS2 for activity+json and ld+json, a redirect to the public page for HTML', async () => {
    for (const accept of [
      AS2,
      'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
      'application/ld+json',
    ]) {
      const res = await get('/users/alice', accept);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/activity+json; charset=utf-8');
      expect(res.headers.get('vary')).toMatch(/Accept/);
    }
    const html = await get('/users/alice', 'text/html,application/xhtml+xml');
    expect(html.status).toBe(302);
    expect(html.headers.get('location')).toBe('/@alice');
    expect((await get('/users/nobody', 'text/html')).status).toBe(404);
    expect((await get('/users/nobody')).status).toBe(404);
  });

  it('serves one instance actor per tenant, each with its own key', async () => {
    const a = await read<ActorDocument>(await get('/actor'));
    const b = await read<ActorDocument>(await get('/actor', AS2, bed.base.beta));
    expect(a).toMatchObject({
      id: `${alpha}/actor`,
      type: 'Application',
      preferredUsername: 'social.alpha.test',
    });
    expect(b).toMatchObject({ id: `${bed.base.beta}/actor`, type: 'Application' });
    expect(a.publicKey.id).toBe(`${alpha}/actor#main-key`);
    expect(a.publicKey.publicKeyPem).not.toBe(b.publicKey.publicKeyPem);
    const jrd = (await (
      await get(
        '/.well-known/webfinger?resource=acct:social.alpha.test@social.alpha.test',
        'application/jrd+json',
      )
    ).json()) as { links: Array<{ rel: string; href: string }> };
    expect(jrd.links.find((l) => l.rel === 'self')!.href).toBe(`${alpha}/actor`);
  });

  it('keeps each account’s key: the same public key on every read, its private half sealed at rest', async () => {
    const first = (await read<ActorDocument>(await get('/users/bob'))).publicKey.publicKeyPem;
    const again = (await read<ActorDocument>(await get('/users/bob'))).publicKey.publicKeyPem;
    expect(again).toBe(first);
    const [row] = (await bed.app.get(DataSource).query(
      `SELECT key_id, private_key_sealed FROM ${bed.tenants.alpha.schemaName}.actor_keys k
         JOIN ${bed.tenants.alpha.schemaName}.accounts a ON a.id = k.account_id WHERE a.username = 'bob'`,
    )) as Array<{ key_id: string; private_key_sealed: string }>;
    expect(row.key_id).toBe(`${alpha}/users/bob#main-key`);
    expect(row.private_key_sealed).not.toMatch(/PRIVATE KEY/);
  });

  it('signs as an account with the key its actor document publishes, which our verifier resolves over HTTP', async () => {
    const actor = await read<ActorDocument>(await get('/users/alice'));
    const keys = bed.app.get(LocalActorKeys);
    const tenant = tenantRef(bed.tenants.alpha, 'social.alpha.test');
    const signing = await TenantContext.run(tenant, async () => {
      const [{ id }] = (await bed.app
        .get(DataSource)
        .query(
          `SELECT id::text FROM ${bed.tenants.alpha.schemaName}.accounts WHERE username = 'alice'`,
        )) as Array<{ id: string }>;
      return keys.signingKey(id);
    });
    expect(signing?.keyId).toBe(actor.publicKey.id);
    const fetcher = new SafeFetcher({ insecure: true, timeoutMs: 5000, maxBytes: 1 << 20, maxRedirects: 2 });
    try {
      const url = 'https://remote.example/inbox';
      const body = Buffer.from('{"type":"Follow"}');
      const headers = signRequest({ method: 'POST', url, headers: {}, body }, signing!);
      await expect(
        verifyRequest({ method: 'POST', url, headers, body }, { keys: new RemoteKeys({ fetcher }).lookup }),
      ).resolves.toMatchObject({ owner: `${alpha}/users/alice` });
    } finally {
      fetcher.close();
    }
  });

  it('pages the outbox as Create activities of public and unlisted statuses, newest first', async () => {
    const post = async (status: string, visibility: string) => {
      const res = await callApi<{ id: string }>(alpha, 'POST', '/api/v1/statuses', token, {
        status,
        visibility,
      });
      expect(res.status).toBe(200);
      return res.body.id;
    };
    const first = await post('Hello #fediverse', 'public');
    const second = await post('Unlisted hello', 'unlisted');
    await post('For followers only', 'private');
    await post('@bob secret', 'direct');

    const outbox = await read<CollectionDocument>(await get('/users/alice/outbox'));
    expect(outbox).toEqual({
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${alpha}/users/alice/outbox`,
      type: 'OrderedCollection',
      totalItems: 2,
      first: `${alpha}/users/alice/outbox?page=true`,
      last: `${alpha}/users/alice/outbox?min_id=0&page=true`,
    });
    const page = await read<CollectionDocument<CreateActivity>>(await get('/users/alice/outbox?page=true'));
    expect(page.type).toBe('OrderedCollectionPage');
    expect(page.orderedItems.map((a) => [a.type, a.object.id])).toEqual([
      ['Create', `${alpha}/users/alice/statuses/${second}`],
      ['Create', `${alpha}/users/alice/statuses/${first}`],
    ]);
    expect(page.orderedItems[0].to).toEqual([`${alpha}/users/alice/followers`]);
    expect(page.orderedItems[1].to).toEqual(['https://www.w3.org/ns/activitystreams#Public']);
    expect(page.orderedItems[1].object.tag).toEqual([
      { type: 'Hashtag', href: `${alpha}/tags/fediverse`, name: '#fediverse' },
    ]);

    // Fedify reads the status as a Note.
    const note = (await vocab.lookupObject(`${alpha}/users/alice/statuses/${first}`, {
      documentLoader,
      contextLoader: documentLoader,
    })) as unknown as { constructor: { name: string }; attributionId: URL | null; content: unknown };
    expect(note.constructor.name).toBe('Note');
    expect(note.attributionId?.href).toBe(`${alpha}/users/alice`);
    expect(String(note.content)).toContain('Hello');
    const html = await get(`/users/alice/statuses/${first}`, 'text/html');
    expect(html.status).toBe(302);
    expect(html.headers.get('location')).toBe(`/@alice/${first}`);
  });

  it('pages a long outbox back with max_id and forward from its oldest end with min_id', async () => {
    await bed.account('alpha', 'carol');
    const carol = await bed.token('alpha', 'carol');
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await callApi<{ id: string }>(alpha, 'POST', '/api/v1/statuses', carol, {
        status: `note ${i}`,
      });
      ids.push(res.body.id);
    }
    const idsOf = (page: CollectionDocument<CreateActivity>) =>
      page.orderedItems.map((a) => a.object.id.split('/').pop());
    const newestFirst = [...ids].reverse();
    const first = await read<CollectionDocument<CreateActivity> & { next: string }>(
      await get('/users/carol/outbox?page=true'),
    );
    expect(idsOf(first)).toEqual(newestFirst.slice(0, 20));
    expect(first.next).toBe(`${alpha}/users/carol/outbox?max_id=${newestFirst[19]}&page=true`);
    const second = await read<CollectionDocument<CreateActivity> & { next?: string; prev: string }>(
      await fetch(first.next, { headers: { accept: AS2 } }),
    );
    expect(idsOf(second)).toEqual(newestFirst.slice(20));
    expect(second.next).toBeUndefined();
    expect(second.prev).toBe(`${alpha}/users/carol/outbox?min_id=${newestFirst[20]}&page=true`);
    const last = await read<CollectionDocument<CreateActivity> & { prev: string }>(
      await get('/users/carol/outbox?min_id=0&page=true'),
    );
    expect(idsOf(last)).toEqual(newestFirst.slice(2));
    const back = await read<CollectionDocument<CreateActivity>>(
      await fetch(last.prev, { headers: { accept: AS2 } }),
    );
    expect(idsOf(back)).toEqual(newestFirst.slice(0, 2));
  });

  it('does not serve private or direct statuses, nor another account’s status under this name', async () => {
    const priv = await callApi<{ id: string }>(alpha, 'POST', '/api/v1/statuses', token, {
      status: 'followers only',
      visibility: 'private',
    });
    expect((await get(`/users/alice/statuses/${priv.body.id}`)).status).toBe(404);
    const pub = await callApi<{ id: string }>(alpha, 'POST', '/api/v1/statuses', token, { status: 'public' });
    expect((await get(`/users/alice/statuses/${pub.body.id}`)).status).toBe(200);
    expect((await get(`/users/bob/statuses/${pub.body.id}`)).status).toBe(404);
  });

  it('counts followers and following and pages their actor ids', async () => {
    const bobToken = await bed.token('alpha', 'bob');
    const aliceAccount = await callApi<{ id: string }>(
      alpha,
      'GET',
      '/api/v1/accounts/lookup?acct=alice',
      bobToken,
    );
    const follow = await callApi(alpha, 'POST', `/api/v1/accounts/${aliceAccount.body.id}/follow`, bobToken);
    expect(follow.status).toBe(200);
    const followers = await read<CollectionDocument>(await get('/users/alice/followers'));
    expect(followers).toMatchObject({
      type: 'OrderedCollection',
      totalItems: 1,
      first: `${alpha}/users/alice/followers?page=1`,
    });
    const page = await read<CollectionDocument>(await get('/users/alice/followers?page=1'));
    expect(page).toMatchObject({ type: 'OrderedCollectionPage', partOf: `${alpha}/users/alice/followers` });
    expect(page.orderedItems).toEqual([`${alpha}/users/bob`]);
    const following = await read<CollectionDocument>(await get('/users/bob/following?page=1'));
    expect(following.orderedItems).toEqual([`${alpha}/users/alice`]);
  });

  it('signs the tenant’s fetches as its instance actor, which a Fedify server in authorized-fetch mode accepts', async () => {
    // A remote server that answers only signed GETs, verifying them with Fedify (which fetches the key
    // from the tenant's /actor over loopback).
    const owners: Array<string | null> = [];
    const server = http.createServer((req, res) => {
      const request = new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
      });
      fedifyVerify(request, { documentLoader, contextLoader: documentLoader })
        .then((key) => {
          owners.push(key?.ownerId?.href ?? null);
          if (!key) return res.writeHead(401).end();
          res.writeHead(200, { 'content-type': AS2 }).end(
            JSON.stringify({
              id: `http://${req.headers.host}${req.url}`,
              type: 'Note',
              content: 'members only',
            }),
          );
        })
        .catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const remote = `http://remote.test:${(server.address() as AddressInfo).port}`;
    try {
      const signer = bed.app.get(InstanceActorSigner);
      const tenant = tenantRef(bed.tenants.alpha, 'social.alpha.test');
      const note = await TenantContext.run(tenant, () => signer.fetchObject(`${remote}/notes/1`));
      expect(note).toMatchObject({ id: `${remote}/notes/1`, content: 'members only' });
      expect(owners).toEqual([`${alpha}/actor`]);
      // Unsigned, the same server refuses.
      const fetching = bed.app.get(RemoteFetching);
      await expect(fetchActivityPubObject(fetching.fetcher, `${remote}/notes/1`)).rejects.toMatchObject({
        code: 'http_status',
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('is fetched by our own safe fetcher as a remote server would, with the ActivityPub type and id checks', async () => {
    const fetcher = new SafeFetcher({ insecure: true, timeoutMs: 5000, maxBytes: 1 << 20, maxRedirects: 2 });
    try {
      const actor = await fetchActivityPubObject(fetcher, `${alpha}/users/alice`);
      expect(actor).toMatchObject({ id: `${alpha}/users/alice`, type: 'Person' });
    } finally {
      fetcher.close();
    }
  });
});
