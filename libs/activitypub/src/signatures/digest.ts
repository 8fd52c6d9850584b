import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeDict, InnerList, Item } from 'structured-field-values';
import { SignatureError } from './signature-errors';

/**
 * Body digests: the `Digest` header of draft-cavage signatures (RFC 3230, `SHA-256=<base64>`) and
 * RFC 9530's `Content-Digest` (`sha-256=:<base64>:`) of RFC 9421 signatures. Verification recomputes
 * the digest over the body as received; the sender's claim is only what it is compared with.
 */
const HASHES: Record<string, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

export function digestHeader(body: Buffer): string {
  return `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
}

export function contentDigestHeader(body: Buffer): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

/**
 * Every algorithm named that we know must match, and at least one must be known: a sender cannot
 * pair a correct digest with a wrong one and have us read only the correct one.
 */
function checkDigests(pairs: Array<[string, Buffer]>, body: Buffer, header: string): void {
  const known = pairs.filter(([algorithm]) => HASHES[algorithm]);
  if (known.length === 0) {
    throw new SignatureError('digest_mismatch', `${header} names no supported algorithm (sha-256, sha-512).`);
  }
  for (const [algorithm, claimed] of known) {
    const actual = createHash(HASHES[algorithm]).update(body).digest();
    if (claimed.length !== actual.length || !timingSafeEqual(claimed, actual)) {
      throw new SignatureError('digest_mismatch', `The body does not match its ${header} (${algorithm}).`);
    }
  }
}

export function verifyDigestHeader(header: string, body: Buffer): void {
  const pairs: Array<[string, Buffer]> = header.split(',').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) throw new SignatureError('digest_mismatch', 'The Digest header is malformed.');
    return [part.slice(0, eq).trim().toLowerCase(), Buffer.from(part.slice(eq + 1).trim(), 'base64')];
  });
  checkDigests(pairs, body, 'Digest');
}

export function verifyContentDigestHeader(header: string, body: Buffer): void {
  let dict: Record<string, Item | InnerList>;
  try {
    dict = decodeDict(header) as Record<string, Item | InnerList>;
  } catch {
    throw new SignatureError('digest_mismatch', 'The Content-Digest header is malformed.');
  }
  const pairs: Array<[string, Buffer]> = Object.entries(dict).map(([algorithm, item]) => {
    if (!(item.value instanceof Uint8Array)) {
      throw new SignatureError('digest_mismatch', 'The Content-Digest header is malformed.');
    }
    return [algorithm.toLowerCase(), Buffer.from(item.value)];
  });
  checkDigests(pairs, body, 'Content-Digest');
}
