import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { PublicKeyRecord, signRequest, verifyRequest, VerifyOptions } from './http-signatures';
import { assertKeyOwnedBy } from './remote-keys';
import { SignatureError } from './signature-errors';

// Fedify 2 reads `navigator.userAgent` when it loads; Node 20 has no navigator.
(globalThis as { navigator?: unknown }).navigator ??= { userAgent: `Node.js/${process.version}` };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fedify = require('@fedify/fedify/sig') as FedifySig;
// The part of Fedify's signature module these tests call (its types need moduleResolution node16).
interface FedifySig {
  verifyRequest(request: Request, options: unknown): Promise<{ id: URL | null } | null>;
  signRequest(request: Request, privateKey: unknown, keyId: URL, options: unknown): Promise<Request>;
}

/**
 * Signatures both ways, both formats, checked against Fedify — an independent implementation — in
 * both directions, with fixed keys and no network: Fedify's key lookups are answered from memory.
 */
const ACTOR = 'https://remote.example/users/alice';
const KEY_ID = `${ACTOR}#main-key`;
const MALLORY = 'https://remote.example/users/mallory';
const MALLORY_KEY = `${MALLORY}#main-key`;

const alice = generateKeyPairSync('rsa', { modulusLength: 2048 });
const mallory = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: typeof alice) => ({
  publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }) as string,
  privateKeyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
});
const ALICE = pem(alice);
const MALLORY_PEM = pem(mallory);

const keyRecords: Record<string, PublicKeyRecord> = {
  [KEY_ID]: { keyId: KEY_ID, owner: ACTOR, publicKeyPem: ALICE.publicKeyPem },
  [MALLORY_KEY]: { keyId: MALLORY_KEY, owner: MALLORY, publicKeyPem: MALLORY_PEM.publicKeyPem },
};
const lookups: Array<{ keyId: string; fresh: boolean }> = [];
const keys: VerifyOptions['keys'] = async (keyId, { fresh }) => {
  lookups.push({ keyId, fresh });
  return keyRecords[keyId] ?? null;
};

const INBOX = 'https://social.alpha.example/users/bob/inbox';
const BODY = Buffer.from(
  JSON.stringify({ type: 'Follow', actor: ACTOR, object: 'https://social.alpha.example/users/bob' }),
);
// Fedify checks signatures against the clock, so ours are made at the time of the run.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);

const signed = (
  format: 'draft-cavage-12' | 'rfc9421',
  over: { body?: Buffer; now?: Date; method?: string } = {},
) => {
  const method = over.method ?? 'POST';
  const body = method === 'GET' ? undefined : (over.body ?? BODY);
  const headers = { 'content-type': 'application/activity+json' };
  const added = signRequest(
    { method, url: INBOX, headers, body },
    { keyId: KEY_ID, privateKeyPem: ALICE.privateKeyPem },
    { format, now: over.now ?? NOW },
  );
  return { method, url: INBOX, headers: { ...headers, ...added } as Record<string, string>, body };
};

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SignatureError) return err.code;
    throw err;
  }
  throw new Error('the signature was accepted');
};

// What Fedify's verifier fetches for a key id: the actor document, from memory.
const actorDocument = (id: string, keyId: string, publicKeyPem: string) => ({
  '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
  id,
  type: 'Person',
  inbox: `${id}/inbox`,
  publicKey: { id: keyId, owner: id, publicKeyPem },
});
const documentLoader = async (url: string) => {
  const documents: Record<string, unknown> = {
    [ACTOR]: actorDocument(ACTOR, KEY_ID, ALICE.publicKeyPem),
    [KEY_ID]: actorDocument(ACTOR, KEY_ID, ALICE.publicKeyPem),
  };
  if (!(url in documents)) throw new Error(`not found: ${url}`);
  return { contextUrl: null, documentUrl: url, document: documents[url] };
};
// Fedify's own copies of the contexts, so that it too fetches nothing.
let contextLoader: (url: string) => Promise<unknown>;

beforeAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtime = require('@fedify/vocab-runtime') as {
    getDocumentLoader: () => (u: string) => Promise<unknown>;
  };
  const preloaded = runtime.getDocumentLoader();
  contextLoader = async (url: string) => {
    if (url === 'https://www.w3.org/ns/activitystreams' || url === 'https://w3id.org/security/v1')
      return preloaded(url);
    throw new Error(`no network in this test: ${url}`);
  };
});

async function fedifyVerifies(request: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}) {
  const key = await fedify.verifyRequest(
    new Request(request.url, { method: request.method, headers: request.headers, body: request.body }),
    {
      documentLoader: documentLoader as never,
      contextLoader: contextLoader as never,
    } as never,
  );
  return key?.id?.href ?? null;
}

async function fedifySigned(spec: 'draft-cavage-http-signatures-12' | 'rfc9421', method = 'POST') {
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    alice.privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    true, // Fedify checks that the key can be exported
    ['sign'],
  );
  const body = method === 'GET' ? undefined : BODY;
  const request = await fedify.signRequest(
    new Request(INBOX, { method, headers: { 'content-type': 'application/activity+json' }, body }),
    privateKey,
    new URL(KEY_ID),
    { spec } as never,
  );
  return { method, url: INBOX, headers: Object.fromEntries(request.headers) as Record<string, string>, body };
}

beforeEach(() => {
  lookups.length = 0;
});

describe.each(['draft-cavage-12', 'rfc9421'] as const)('%s', (format) => {
  const fedifySpec = format === 'rfc9421' ? 'rfc9421' : 'draft-cavage-http-signatures-12';

  it('signs a POST that we and Fedify verify, naming the key and its owner', async () => {
    const request = signed(format);
    if (format === 'rfc9421') {
      expect(request.headers['signature-input']).toMatch(
        /^sig1=\("@method" "@target-uri" "@authority" "date" "content-digest"\)/,
      );
      expect(request.headers['content-digest']).toMatch(/^sha-256=:/);
    } else {
      expect(request.headers.signature).toContain('headers="(request-target) host date digest content-type"');
      expect(request.headers.digest).toMatch(/^SHA-256=/);
    }
    await expect(verifyRequest(request, { keys, now: NOW })).resolves.toEqual({
      format,
      keyId: KEY_ID,
      owner: ACTOR,
    });
    expect(await fedifyVerifies(request)).toBe(KEY_ID);
  });

  it('signs a GET that we and Fedify verify', async () => {
    const request = signed(format, { method: 'GET' });
    await expect(verifyRequest(request, { keys, now: NOW })).resolves.toMatchObject({ owner: ACTOR });
    expect(await fedifyVerifies(request)).toBe(KEY_ID);
  });

  it('verifies what Fedify signs, POST and GET', async () => {
    await expect(verifyRequest(await fedifySigned(fedifySpec), { keys, now: NOW })).resolves.toEqual({
      format,
      keyId: KEY_ID,
      owner: ACTOR,
    });
    await expect(
      verifyRequest(await fedifySigned(fedifySpec, 'GET'), { keys, now: NOW }),
    ).resolves.toMatchObject({
      owner: ACTOR,
    });
  });

  it('refuses a tampered body (digest recomputed over what arrived)', async () => {
    const request = { ...signed(format), body: Buffer.from(BODY.toString().replace('Follow', 'Block')) };
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('digest_mismatch');
  });

  it('refuses a body whose digest header was recomputed to match but not re-signed', async () => {
    const forged = Buffer.from(BODY.toString().replace('Follow', 'Block'));
    const request = signed(format);
    const other = signed(format, { body: forged });
    const digestName = format === 'rfc9421' ? 'content-digest' : 'digest';
    request.headers[digestName] = other.headers[digestName];
    expect(await refusal(verifyRequest({ ...request, body: forged }, { keys, now: NOW }))).toBe(
      'bad_signature',
    );
    expect(await fedifyVerifies({ ...request, body: forged })).toBeNull();
  });

  it('refuses tampered signed headers and another target', async () => {
    const request = signed(format);
    request.headers.date = new Date(NOW.getTime() + 1000).toUTCString();
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('bad_signature');
    const elsewhere = { ...signed(format), url: 'https://social.alpha.example/users/carol/inbox' };
    expect(await refusal(verifyRequest(elsewhere, { keys, now: NOW }))).toBe('bad_signature');
    const otherHost = {
      ...signed(format),
      url: INBOX.replace('social.alpha.example', 'social.beta.example'),
    };
    otherHost.headers.host = 'social.beta.example';
    expect(await refusal(verifyRequest(otherHost, { keys, now: NOW }))).toBe('bad_signature');
  });

  it('refuses a stale or future signature (bounded skew)', async () => {
    const old = signed(format, { now: new Date(NOW.getTime() - 3601_000) });
    expect(await refusal(verifyRequest(old, { keys, now: NOW }))).toBe('stale');
    const future = signed(format, { now: new Date(NOW.getTime() + 3601_000) });
    expect(await refusal(verifyRequest(future, { keys, now: NOW }))).toBe('stale');
    const edge = signed(format, { now: new Date(NOW.getTime() - 3500_000) });
    await expect(verifyRequest(edge, { keys, now: NOW })).resolves.toMatchObject({ owner: ACTOR });
    expect(await refusal(verifyRequest(edge, { keys, now: NOW, maxSkewSeconds: 300 }))).toBe('stale');
  });

  it('refuses a request with no signature', async () => {
    const request = signed(format);
    delete request.headers.signature;
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('missing_signature');
  });

  it('refuses a key it cannot find, and a signature by a key that is not the actor’s', async () => {
    const unknown = signRequest(
      { method: 'POST', url: INBOX, headers: {}, body: BODY },
      { keyId: 'https://remote.example/users/nobody#main-key', privateKeyPem: ALICE.privateKeyPem },
      { format, now: NOW },
    );
    expect(
      await refusal(
        verifyRequest({ method: 'POST', url: INBOX, headers: unknown, body: BODY }, { keys, now: NOW }),
      ),
    ).toBe('unknown_key');
    const byMallory = signRequest(
      { method: 'POST', url: INBOX, headers: {}, body: BODY },
      { keyId: MALLORY_KEY, privateKeyPem: MALLORY_PEM.privateKeyPem },
      { format, now: NOW },
    );
    // The signature is valid — Mallory's — but the activity's actor is Alice.
    const verified = await verifyRequest(
      { method: 'POST', url: INBOX, headers: byMallory, body: BODY },
      { keys, now: NOW },
    );
    expect(verified.owner).toBe(MALLORY);
    expect(() => assertKeyOwnedBy(verified, ACTOR)).toThrow(
      expect.objectContaining({ code: 'key_not_actor' }),
    );
    expect(() => assertKeyOwnedBy(verified, MALLORY)).not.toThrow();
  });

  it('fetches a cached key again once when it fails to verify (key rotation), and no more', async () => {
    const rotated = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cache = new Map<string, PublicKeyRecord>([[KEY_ID, { ...keyRecords[KEY_ID], cached: true }]]);
    const fetched: string[] = [];
    const rotatingKeys: VerifyOptions['keys'] = async (keyId, { fresh }) => {
      if (!fresh && cache.has(keyId)) return cache.get(keyId)!;
      fetched.push(keyId);
      const record = {
        keyId,
        owner: ACTOR,
        publicKeyPem: rotated.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      };
      cache.set(keyId, { ...record, cached: true });
      return record;
    };
    const request = signRequest(
      { method: 'POST', url: INBOX, headers: {}, body: BODY },
      { keyId: KEY_ID, privateKeyPem: rotated.privateKey },
      { format, now: NOW },
    );
    await expect(
      verifyRequest(
        { method: 'POST', url: INBOX, headers: request, body: BODY },
        { keys: rotatingKeys, now: NOW },
      ),
    ).resolves.toMatchObject({
      owner: ACTOR,
    });
    expect(fetched).toEqual([KEY_ID]);
    // A signature that verifies with neither is refused after that one refetch.
    const forged = signed(format);
    forged.headers.signature = forged.headers.signature.replace(
      /[A-Za-z0-9+/]{8}(={0,2}["':]*)$/,
      'AAAAAAAA$1',
    );
    fetched.length = 0;
    expect(await refusal(verifyRequest(forged, { keys: rotatingKeys, now: NOW }))).toBe('bad_signature');
    expect(fetched).toEqual([KEY_ID]);
  });
});

describe('draft-cavage-12 rules', () => {
  const resign = (headersList: string, algorithm = 'rsa-sha256', extra: Record<string, string> = {}) => {
    const request = signed('draft-cavage-12');
    Object.assign(request.headers, extra);
    const url = new URL(request.url);
    const lines = headersList
      .split(' ')
      .map((h) => (h === '(request-target)' ? `${h}: post ${url.pathname}` : `${h}: ${request.headers[h]}`));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { sign } = require('node:crypto') as typeof import('node:crypto');
    const signature = sign('sha256', Buffer.from(lines.join('\n')), alice.privateKey).toString('base64');
    request.headers.signature = `keyId="${KEY_ID}",algorithm="${algorithm}",headers="${headersList}",signature="${signature}"`;
    return request;
  };

  it.each([
    ['host date digest', '(request-target)'],
    ['(request-target) date digest', 'host'],
    ['(request-target) host digest', 'date'],
    ['(request-target) host date', 'digest'],
  ])('refuses a POST signature over "%s" (no %s)', async (covered) => {
    expect(await refusal(verifyRequest(resign(covered), { keys, now: NOW }))).toBe('missing_component');
  });

  it('accepts hs2019 with an RSA key, as Mastodon reads it, and refuses other algorithms', async () => {
    await expect(
      verifyRequest(resign('(request-target) host date digest', 'hs2019'), { keys, now: NOW }),
    ).resolves.toMatchObject({
      owner: ACTOR,
    });
    for (const algorithm of ['rsa-sha1', 'hmac-sha256', 'ecdsa-sha256']) {
      expect(
        await refusal(
          verifyRequest(resign('(request-target) host date digest', algorithm), { keys, now: NOW }),
        ),
      ).toBe('unsupported_algorithm');
    }
  });

  it('refuses a Digest header with an unknown algorithm only, or a wrong second digest', async () => {
    const onlyUnknown = resign('(request-target) host date digest', 'rsa-sha256', { digest: 'MD5=abc' });
    expect(await refusal(verifyRequest(onlyUnknown, { keys, now: NOW }))).toBe('digest_mismatch');
    const request = signed('draft-cavage-12');
    const mixed = resign('(request-target) host date digest', 'rsa-sha256', {
      digest: `${request.headers.digest},SHA-512=${Buffer.alloc(64).toString('base64')}`,
    });
    expect(await refusal(verifyRequest(mixed, { keys, now: NOW }))).toBe('digest_mismatch');
  });

  it('refuses a malformed or repeated parameter', async () => {
    const request = signed('draft-cavage-12');
    request.headers.signature = `${request.headers.signature},keyId="https://evil.example/k"`;
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('malformed_signature');
    request.headers.signature = 'keyId=unquoted';
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('malformed_signature');
  });
});

describe('RFC 9421 rules', () => {
  it.each([
    ['"@target-uri" "@authority" "date" "content-digest"', '@method'],
    ['"@method" "@authority" "date" "content-digest"', 'target'],
    ['"@method" "@path" "date" "content-digest"', 'host'],
    ['"@method" "@target-uri" "@authority" "date"', 'content-digest'],
  ])('refuses a POST signature over %s (no %s)', async (components) => {
    const request = signed('rfc9421');
    // The components are changed after signing; the rule refuses before any key is looked up.
    request.headers['signature-input'] = request.headers['signature-input'].replace(
      /\([^)]*\)/,
      `(${components})`,
    );
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('missing_component');
    expect(lookups).toEqual([]);
  });

  it('refuses a signature without its creation time, or past its expiry', async () => {
    const request = signed('rfc9421');
    request.headers['signature-input'] = request.headers['signature-input'].replace(/;created=\d+/, '');
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('missing_component');
    const expired = signed('rfc9421');
    expired.headers['signature-input'] += `;expires=${Math.floor(NOW.getTime() / 1000) - 1}`;
    expect(await refusal(verifyRequest(expired, { keys, now: NOW }))).toBe('stale');
  });

  it('refuses an alg that disagrees with the key', async () => {
    const request = signed('rfc9421');
    request.headers['signature-input'] = request.headers['signature-input'].replace(
      'rsa-v1_5-sha256',
      'rsa-pss-sha512',
    );
    expect(await refusal(verifyRequest(request, { keys, now: NOW }))).toBe('unsupported_algorithm');
  });
});
