import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import { decodeDict, InnerList, Item, serializeInnerList } from 'structured-field-values';
import { contentDigestHeader, digestHeader, verifyContentDigestHeader, verifyDigestHeader } from './digest';
import { SignatureError } from './signature-errors';

/**
 * HTTP Signatures both ways, in the two forms the fediverse speaks:
 *  - draft-cavage-http-signatures-12 (`Signature: keyId=…,algorithm=…,headers=…,signature=…`), as Mastodon
 *    signs and verifies it (`rsa-sha256`, and `hs2019` with the algorithm taken from the key);
 *  - RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`), bodies with RFC 9530
 *    `Content-Digest`.
 * A thin layer over node:crypto; RFC 8941 structured fields are read and written by
 * `structured-field-values`. Why not Fedify's signature module: see docs/architecture.md, "Federation".
 *
 * Verification is strict about what a signature must cover, whatever the format: the request target
 * (method and path), the host, the time (Date, or RFC 9421's `created`) and, for a request with a body,
 * its digest, which is recomputed over the body as received. A signature that leaves any of them out
 * would let its request be replayed elsewhere or with another body (Misskey CVE-2023-49079).
 */

export type SignatureFormat = 'draft-cavage-12' | 'rfc9421';

export interface SignableRequest {
  method: string;
  /** The full URL as the recipient sees it (scheme, host and port, path and query). */
  url: string;
  /** Header names lower case; what the request already carries. */
  headers: Record<string, string>;
  body?: Buffer;
}

export interface SigningKey {
  keyId: string;
  privateKeyPem: string | KeyObject;
}

/**
 * The headers to add to a request so that it is signed: `host`, `date`, the body's digest, and the
 * signature. Every hop of a fetch and every delivery attempt is signed anew.
 */
export function signRequest(
  request: SignableRequest,
  key: SigningKey,
  options: { format?: SignatureFormat; now?: Date } = {},
): Record<string, string> {
  const format = options.format ?? 'draft-cavage-12';
  const now = options.now ?? new Date();
  const url = new URL(request.url);
  const privateKey =
    typeof key.privateKeyPem === 'string' ? createPrivateKey(key.privateKeyPem) : key.privateKeyPem;
  const added: Record<string, string> = { host: url.host, date: now.toUTCString() };
  const hasBody = request.body !== undefined && bodyMethod(request.method);
  const headers = { ...lowerCased(request.headers), ...added };
  if (format === 'draft-cavage-12') {
    if (hasBody) headers.digest = added.digest = digestHeader(request.body!);
    const covered = ['(request-target)', 'host', 'date', ...(hasBody ? ['digest'] : [])];
    if (hasBody && headers['content-type']) covered.push('content-type');
    const base = cavageSigningString(covered, request.method, url, headers, {});
    const signature = cryptoSign('sha256', Buffer.from(base), privateKey).toString('base64');
    added.signature = `keyId="${key.keyId}",algorithm="rsa-sha256",headers="${covered.join(' ')}",signature="${signature}"`;
    return added;
  }
  if (hasBody) headers['content-digest'] = added['content-digest'] = contentDigestHeader(request.body!);
  const components = ['@method', '@target-uri', '@authority', 'date', ...(hasBody ? ['content-digest'] : [])];
  const params = {
    created: Math.floor(now.getTime() / 1000),
    keyid: key.keyId,
    alg: rfc9421Algorithm(privateKey),
  };
  const signatureParams = serializeInnerList({ value: components.map((c) => new Item(c)), params });
  const base = rfc9421SignatureBase(components, request.method, url, headers, signatureParams);
  const signature = rfc9421Sign(params.alg, base, privateKey);
  added['signature-input'] = `sig1=${signatureParams}`;
  added.signature = `sig1=:${signature.toString('base64')}:`;
  return added;
}

/** A key as verification needs it; `owner` is the actor the key belongs to (checked by the caller). */
export interface PublicKeyRecord {
  keyId: string;
  owner: string;
  publicKeyPem: string;
  /** Served from a cache rather than fetched for this request (only such a key is fetched again). */
  cached?: boolean;
}

/**
 * Finds the public key a signature names. `fresh: true` asks for it to be fetched again (a key the
 * cache held did not verify: the actor may have rotated it); at most one such retry per request.
 */
export type PublicKeyLookup = (keyId: string, options: { fresh: boolean }) => Promise<PublicKeyRecord | null>;

export interface VerifyOptions {
  keys: PublicKeyLookup;
  now?: Date;
  /** How far the signature's time may be from ours, either way (default one hour). */
  maxSkewSeconds?: number;
}

export interface VerifiedSignature {
  format: SignatureFormat;
  keyId: string;
  /** The key's owner as its document and the actor's agree (see `RemoteKeys`). */
  owner: string;
}

export interface ReceivedRequest {
  method: string;
  /** The URL the request was addressed to, as the sender saw it (public scheme, Host, path, query). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: Buffer;
}

/** Verifies a received request's signature, in whichever format it came; throws `SignatureError`. */
export async function verifyRequest(
  request: ReceivedRequest,
  options: VerifyOptions,
): Promise<VerifiedSignature> {
  const headers = flattenHeaders(request.headers);
  const url = new URL(request.url);
  const now = options.now ?? new Date();
  const maxSkew = options.maxSkewSeconds ?? 3600;
  const body = request.body ?? Buffer.alloc(0);
  const needsDigest = bodyMethod(request.method);
  if (headers['signature-input'] !== undefined) {
    if (headers.signature === undefined)
      throw new SignatureError('missing_signature', 'Signature-Input without Signature.');
    return verifyRfc9421(request.method, url, headers, body, needsDigest, now, maxSkew, options.keys);
  }
  if (headers.signature === undefined) {
    throw new SignatureError('missing_signature', 'The request is not signed.');
  }
  return verifyCavage(request.method, url, headers, body, needsDigest, now, maxSkew, options.keys);
}

async function verifyCavage(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  needsDigest: boolean,
  now: Date,
  maxSkew: number,
  keys: PublicKeyLookup,
): Promise<VerifiedSignature> {
  const params = parseCavageSignature(headers.signature);
  const algorithm = (params.algorithm ?? 'hs2019').toLowerCase();
  if (algorithm !== 'rsa-sha256' && algorithm !== 'hs2019') {
    throw new SignatureError('unsupported_algorithm', `Algorithm ${algorithm} is not accepted.`);
  }
  if (!params.keyId || !params.signature) {
    throw new SignatureError('malformed_signature', 'The signature lacks keyId or signature.');
  }
  // The draft's default when `headers` is absent is `(created)` alone, which covers nothing we need.
  const covered = (params.headers ?? '(created)').toLowerCase().split(/\s+/).filter(Boolean);
  for (const required of ['(request-target)', 'host', 'date', ...(needsDigest ? ['digest'] : [])]) {
    if (!covered.includes(required)) {
      throw new SignatureError('missing_component', `The signature must cover ${required}.`);
    }
  }
  for (const name of covered) {
    if (!name.startsWith('(') && headers[name] === undefined) {
      throw new SignatureError(
        'malformed_signature',
        `The signature covers ${name}, which the request lacks.`,
      );
    }
  }
  checkDate(headers.date, now, maxSkew);
  if (params.created !== undefined) checkSeconds(params.created, now, maxSkew);
  if (params.expires !== undefined && Number(params.expires) * 1000 < now.getTime()) {
    throw new SignatureError('stale', 'The signature has expired.');
  }
  if (needsDigest) verifyDigestHeader(headers.digest, body);
  // Mastodon signs and reads `(request-target)` with the query and, failing that, without it (as
  // Fedify signs it); both are accepted, the query being the only part that may be left out.
  const bases = [cavageSigningString(covered, method, url, headers, params)];
  if (url.search) bases.push(cavageSigningString(covered, method, withoutQuery(url), headers, params));
  const signature = Buffer.from(params.signature, 'base64');
  const verifyWith = (key: PublicKeyRecord) => {
    const publicKey = publicKeyOf(key);
    return bases.some((base) => cryptoVerify('sha256', Buffer.from(base), publicKey, signature));
  };
  const key = await withKeyRetry(params.keyId, keys, verifyWith);
  return { format: 'draft-cavage-12', keyId: key.keyId, owner: key.owner };
}

async function verifyRfc9421(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  needsDigest: boolean,
  now: Date,
  maxSkew: number,
  keys: PublicKeyLookup,
): Promise<VerifiedSignature> {
  let inputs: Record<string, Item | InnerList>;
  let signatures: Record<string, Item | InnerList>;
  try {
    inputs = decodeDict(headers['signature-input']) as Record<string, Item | InnerList>;
    signatures = decodeDict(headers.signature) as Record<string, Item | InnerList>;
  } catch {
    throw new SignatureError(
      'malformed_signature',
      'Signature-Input or Signature is not a structured field.',
    );
  }
  const labels = Object.keys(inputs);
  if (labels.length === 0) throw new SignatureError('malformed_signature', 'Signature-Input is empty.');
  // Of several signatures, the first one that meets the rules and verifies is the request's.
  let failure: SignatureError | undefined;
  for (const label of labels) {
    try {
      return await verifyRfc9421Label(
        label,
        inputs[label],
        signatures[label],
        method,
        url,
        headers,
        body,
        needsDigest,
        now,
        maxSkew,
        keys,
      );
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      failure ??= err;
    }
  }
  throw failure!;
}

async function verifyRfc9421Label(
  label: string,
  input: Item | InnerList,
  signatureItem: Item | InnerList | undefined,
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  needsDigest: boolean,
  now: Date,
  maxSkew: number,
  keys: PublicKeyLookup,
): Promise<VerifiedSignature> {
  if (!Array.isArray(input.value))
    throw new SignatureError('malformed_signature', `${label} is not an inner list.`);
  if (!signatureItem || !(signatureItem.value instanceof Uint8Array)) {
    throw new SignatureError('malformed_signature', `No signature for ${label}.`);
  }
  const params = (input.params ?? {}) as Record<string, unknown>;
  const components: string[] = [];
  for (const item of input.value as Item[]) {
    if (typeof item.value !== 'string' || (item.params && Object.keys(item.params).length > 0)) {
      throw new SignatureError(
        'malformed_signature',
        'Component identifiers with parameters are not supported.',
      );
    }
    components.push(item.value);
  }
  const has = (c: string) => components.includes(c);
  if (!has('@method')) throw new SignatureError('missing_component', 'The signature must cover @method.');
  if (!has('@target-uri') && !has('@request-target') && !has('@path')) {
    throw new SignatureError(
      'missing_component',
      'The signature must cover the target (@target-uri or @path).',
    );
  }
  if (!has('@target-uri') && !has('@authority') && !has('host')) {
    throw new SignatureError('missing_component', 'The signature must cover the host (@authority).');
  }
  if (needsDigest && !has('content-digest')) {
    throw new SignatureError('missing_component', 'The signature must cover content-digest.');
  }
  if (typeof params.keyid !== 'string')
    throw new SignatureError('malformed_signature', 'The signature has no keyid.');
  if (typeof params.created !== 'number') {
    throw new SignatureError('missing_component', 'The signature must carry its creation time.');
  }
  checkSeconds(String(params.created), now, maxSkew);
  if (typeof params.expires === 'number' && params.expires * 1000 < now.getTime()) {
    throw new SignatureError('stale', 'The signature has expired.');
  }
  if (has('date')) checkDate(headers.date, now, maxSkew);
  for (const c of components) {
    if (!c.startsWith('@') && headers[c] === undefined) {
      throw new SignatureError('malformed_signature', `The signature covers ${c}, which the request lacks.`);
    }
  }
  if (needsDigest) verifyContentDigestHeader(headers['content-digest'], body);
  const signatureParams = serializeInnerList(input);
  const base = Buffer.from(rfc9421SignatureBase(components, method, url, headers, signatureParams));
  const signature = Buffer.from(signatureItem.value);
  const alg = typeof params.alg === 'string' ? params.alg : undefined;
  const key = await withKeyRetry(params.keyid, keys, (k) =>
    rfc9421Verify(alg, base, publicKeyOf(k), signature),
  );
  return { format: 'rfc9421', keyId: key.keyId, owner: key.owner };
}

/**
 * Verifies with the key as known; if that fails and the key came from a cache, fetches it once more
 * (the actor may have rotated it) and tries again. A key that cannot be found is `unknown_key`.
 */
async function withKeyRetry(
  keyId: string,
  keys: PublicKeyLookup,
  verifyWith: (key: PublicKeyRecord) => boolean,
): Promise<PublicKeyRecord> {
  const tryKey = (key: PublicKeyRecord | null) => {
    if (!key) return undefined;
    try {
      return verifyWith(key) ? key : undefined;
    } catch (err) {
      if (err instanceof SignatureError) throw err;
      return undefined;
    }
  };
  const known = await keys(keyId, { fresh: false });
  const verified = tryKey(known);
  if (verified) return verified;
  if (known && !known.cached) throw new SignatureError('bad_signature', 'The signature does not verify.');
  const fresh = await keys(keyId, { fresh: true });
  if (!known && !fresh) throw new SignatureError('unknown_key', 'The signing key could not be found.');
  const retried = tryKey(fresh);
  if (retried) return retried;
  throw new SignatureError('bad_signature', 'The signature does not verify.');
}

function cavageSigningString(
  covered: string[],
  method: string,
  url: URL,
  headers: Record<string, string>,
  params: Record<string, string | undefined>,
): string {
  return covered
    .map((name) => {
      if (name === '(request-target)') return `${name}: ${method.toLowerCase()} ${url.pathname}${url.search}`;
      if (name === '(created)') return `${name}: ${params.created ?? ''}`;
      if (name === '(expires)') return `${name}: ${params.expires ?? ''}`;
      return `${name}: ${headers[name]}`;
    })
    .join('\n');
}

function rfc9421SignatureBase(
  components: string[],
  method: string,
  url: URL,
  headers: Record<string, string>,
  signatureParams: string,
): string {
  const value = (c: string): string => {
    switch (c) {
      case '@method':
        return method.toUpperCase();
      case '@target-uri':
        return url.href;
      case '@authority':
        return url.host.toLowerCase();
      case '@scheme':
        return url.protocol.slice(0, -1);
      case '@path':
        return url.pathname;
      case '@query':
        return url.search || '?';
      case '@request-target':
        return `${url.pathname}${url.search}`;
      default:
        if (c.startsWith('@'))
          throw new SignatureError('malformed_signature', `Component ${c} is not supported.`);
        return headers[c];
    }
  };
  return [...components.map((c) => `"${c}": ${value(c)}`), `"@signature-params": ${signatureParams}`].join(
    '\n',
  );
}

function withoutQuery(url: URL): URL {
  const copy = new URL(url.href);
  copy.search = '';
  return copy;
}

function rfc9421Algorithm(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'rsa-v1_5-sha256';
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  throw new SignatureError(
    'unsupported_algorithm',
    `Keys of type ${key.asymmetricKeyType} are not used for signing.`,
  );
}

function rfc9421Sign(alg: string, base: string, key: KeyObject): Buffer {
  return alg === 'ed25519'
    ? cryptoSign(null, Buffer.from(base), key)
    : cryptoSign('sha256', Buffer.from(base), key);
}

/** The algorithm is the key's (RFC 9421 §3.2: `alg`, when given, must agree with it). */
function rfc9421Verify(alg: string | undefined, base: Buffer, key: KeyObject, signature: Buffer): boolean {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' && (alg === undefined || alg === 'rsa-v1_5-sha256')) {
    return cryptoVerify('sha256', base, key, signature);
  }
  if (type === 'ed25519' && (alg === undefined || alg === 'ed25519'))
    return cryptoVerify(null, base, key, signature);
  throw new SignatureError(
    'unsupported_algorithm',
    `Algorithm ${alg ?? '(none)'} with a ${type} key is not accepted.`,
  );
}

function publicKeyOf(key: PublicKeyRecord): KeyObject {
  try {
    return createPublicKey(key.publicKeyPem);
  } catch {
    throw new SignatureError('unknown_key', 'The signing key is not a readable public key.');
  }
}

/** `keyId="…",algorithm="…",headers="…",signature="…"`; created/expires may be bare integers. */
function parseCavageSignature(header: string): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = {};
  const pattern = /\s*([a-zA-Z]+)\s*=\s*(?:"([^"]*)"|(\d+))\s*(?:,|$)/y;
  let index = 0;
  while (index < header.length) {
    pattern.lastIndex = index;
    const m = pattern.exec(header);
    if (!m) throw new SignatureError('malformed_signature', 'The Signature header is malformed.');
    const name = m[1];
    if (name in params)
      throw new SignatureError('malformed_signature', `The Signature header repeats ${name}.`);
    params[name] = m[2] ?? m[3];
    index = pattern.lastIndex;
  }
  return params;
}

function checkDate(date: string | undefined, now: Date, maxSkew: number): void {
  if (date === undefined) throw new SignatureError('missing_component', 'The request has no Date.');
  const time = Date.parse(date);
  if (Number.isNaN(time)) throw new SignatureError('malformed_signature', 'The Date header is not a date.');
  if (Math.abs(time - now.getTime()) > maxSkew * 1000) {
    throw new SignatureError('stale', 'The request’s Date is too far from now.');
  }
}

function checkSeconds(seconds: string, now: Date, maxSkew: number): void {
  const time = Number(seconds) * 1000;
  if (!Number.isSafeInteger(Number(seconds)) || Math.abs(time - now.getTime()) > maxSkew * 1000) {
    throw new SignatureError('stale', 'The signature’s creation time is too far from now.');
  }
}

function bodyMethod(method: string): boolean {
  const m = method.toUpperCase();
  return m !== 'GET' && m !== 'HEAD';
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Repeated headers are combined with ", " as both specifications say; names lower case. */
function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map((v) => v.trim()).join(', ') : value.trim();
  }
  return out;
}
