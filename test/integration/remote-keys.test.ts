import { generateKeyPairSync } from 'node:crypto';
import http, { ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { RemoteKeys, SafeFetcher, signRequest, verifyRequest } from '@townhall/activitypub';

/**
 * Remote keys fetched over HTTP through the safe fetcher (insecure mode: http on loopback), as
 * signature verification uses them: who owns a key is decided by the actor's document, never by the
 * key's own claim, and a key that stopped verifying is fetched again once.
 */
describe('RemoteKeys (loopback actor server)', () => {
  let server: http.Server;
  let origin: string;
  let fetcher: SafeFetcher;
  const documents = new Map<string, unknown>();
  const requests: string[] = [];

  const rsa = () => {
    const k = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      privateKeyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
  };
  const alice = rsa();
  const eve = rsa();

  const actor = (path: string, keys: Array<{ id: string; publicKeyPem: string }>) => ({
    '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
    id: `${origin}${path}`,
    type: 'Person',
    inbox: `${origin}${path}/inbox`,
    publicKey: keys.map((k) => ({ ...k, owner: `${origin}${path}` })),
  });

  beforeAll(async () => {
    server = http.createServer((req, res: ServerResponse) => {
      requests.push(req.url!);
      const doc = documents.get(req.url!);
      if (doc === undefined) return res.writeHead(404).end();
      if (typeof doc === 'string') return res.writeHead(302, { location: doc }).end();
      res.writeHead(200, { 'content-type': 'application/activity+json' }).end(JSON.stringify(doc));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fetcher = new SafeFetcher({ insecure: true, timeoutMs: 2000, maxBytes: 65536, maxRedirects: 2 });
  });

  beforeEach(() => {
    documents.clear();
    requests.length = 0;
  });

  afterAll(async () => {
    fetcher?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('finds a key in its actor’s document and names the actor its owner', async () => {
    documents.set(
      '/users/alice',
      actor('/users/alice', [{ id: `${origin}/users/alice#main-key`, ...alice }]),
    );
    const keys = new RemoteKeys({ fetcher });
    await expect(keys.lookup(`${origin}/users/alice#main-key`, { fresh: false })).resolves.toEqual({
      keyId: `${origin}/users/alice#main-key`,
      owner: `${origin}/users/alice`,
      publicKeyPem: alice.publicKeyPem,
    });
    // Cached: no second request, and marked so a failure may fetch it again.
    await expect(keys.lookup(`${origin}/users/alice#main-key`, { fresh: false })).resolves.toMatchObject({
      cached: true,
    });
    expect(requests).toEqual(['/users/alice']);
  });

  it('believes a key document’s owner only when the owner lists the key', async () => {
    const keyId = `${origin}/keys/eve`;
    // Eve's key document claims Alice; Alice's actor does not list it.
    documents.set('/keys/eve', {
      id: keyId,
      type: 'CryptographicKey',
      owner: `${origin}/users/alice`,
      ...eve,
    });
    documents.set(
      '/users/alice',
      actor('/users/alice', [{ id: `${origin}/users/alice#main-key`, ...alice }]),
    );
    const keys = new RemoteKeys({ fetcher });
    await expect(keys.lookup(keyId, { fresh: false })).resolves.toBeNull();
    expect(requests).toEqual(['/keys/eve', '/users/alice']);

    // A key document whose owner does list it is the owner's.
    documents.set('/users/alice', actor('/users/alice', [{ id: keyId, ...eve }]));
    await expect(keys.lookup(keyId, { fresh: true })).resolves.toMatchObject({
      owner: `${origin}/users/alice`,
      publicKeyPem: eve.publicKeyPem,
    });
  });

  it('does not lend an actor’s keys to a URL that redirects to it', async () => {
    documents.set(
      '/users/alice',
      actor('/users/alice', [{ id: `${origin}/users/alice#main-key`, ...alice }]),
    );
    documents.set('/users/mallory', `${origin}/users/alice`);
    const keys = new RemoteKeys({ fetcher });
    // The key id names Mallory's URL; the document that answers is Alice's and does not list that id.
    await expect(keys.lookup(`${origin}/users/mallory#main-key`, { fresh: false })).resolves.toBeNull();
  });

  it('verifies a signature after the actor rotated its key, fetching the key once more', async () => {
    const keyId = `${origin}/users/alice#main-key`;
    documents.set('/users/alice', actor('/users/alice', [{ id: keyId, ...alice }]));
    const keys = new RemoteKeys({ fetcher });
    await keys.lookup(keyId, { fresh: false });
    const rotated = rsa();
    documents.set('/users/alice', actor('/users/alice', [{ id: keyId, ...rotated }]));
    requests.length = 0;
    const url = 'https://social.alpha.example/inbox';
    const body = Buffer.from('{"type":"Like"}');
    const headers = signRequest(
      { method: 'POST', url, headers: {}, body },
      { keyId, privateKeyPem: rotated.privateKeyPem },
    );
    await expect(
      verifyRequest({ method: 'POST', url, headers, body }, { keys: keys.lookup }),
    ).resolves.toMatchObject({
      owner: `${origin}/users/alice`,
    });
    expect(requests).toEqual(['/users/alice']);
  });
});
