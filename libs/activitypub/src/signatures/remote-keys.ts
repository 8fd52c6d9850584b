import { FetchError } from '../fetch/fetch-errors';
import { fetchActivityPubObject, RemoteObject } from '../fetch/remote-object';
import type { RequestSigner, SafeFetcher } from '../fetch/safe-fetcher';
import type { PublicKeyRecord } from './http-signatures';
import { SignatureError } from './signature-errors';

/**
 * Remote actors' public keys, by key id, for signature verification. Keys are public facts, so one
 * cache serves every tenant of the process. A key id is fetched through the safe fetcher (it is fetched
 * before any signature is verified, so it is the first thing an attacker controls).
 *
 * Ownership is established from the actor's side, never from the key's: the key id's document is
 * either the actor itself (`actor#main-key` → the actor document, whose `publicKey` lists the key), or
 * a key document whose `owner` is then fetched and must list the key in turn. A key document's own claim
 * of an owner proves nothing (Fedify CVE-2025-54888), and an actor served from another URL than its id
 * is refetched from its id by `fetchActivityPubObject`, so a redirect does not lend it another's keys.
 */
export interface RemoteKeysOptions {
  fetcher: SafeFetcher;
  /** Signs key fetches (servers in authorized-fetch mode ask for it). */
  sign?: RequestSigner;
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export class RemoteKeys {
  private readonly cache = new Map<string, { key: PublicKeyRecord | null; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: RemoteKeysOptions) {
    this.ttlMs = options.ttlMs ?? 24 * 3600_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** A `PublicKeyLookup` for `verifyRequest`. */
  readonly lookup = async (keyId: string, { fresh }: { fresh: boolean }): Promise<PublicKeyRecord | null> => {
    const cached = this.cache.get(keyId);
    if (!fresh && cached && cached.until > this.now()) return cached.key && { ...cached.key, cached: true };
    const key = await this.fetchKey(keyId);
    this.remember(keyId, key);
    return key;
  };

  /** Forgets a key (an actor's Update or Delete arrived). */
  forget(keyId: string): void {
    this.cache.delete(keyId);
  }

  private remember(keyId: string, key: PublicKeyRecord | null): void {
    // A key that could not be found is remembered briefly, so a flood of signatures naming it does
    // not turn into a flood of fetches.
    const until = this.now() + (key ? this.ttlMs : Math.min(this.ttlMs, 60_000));
    this.cache.delete(keyId);
    this.cache.set(keyId, { key, until });
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }

  private async fetchKey(keyId: string): Promise<PublicKeyRecord | null> {
    if (!URL.canParse(keyId)) throw new SignatureError('malformed_signature', 'The keyId is not a URL.');
    const documentUrl = new URL(keyId);
    documentUrl.hash = '';
    let document: RemoteObject;
    try {
      document = await fetchActivityPubObject(this.options.fetcher, documentUrl.href, {
        sign: this.options.sign,
      });
    } catch (err) {
      if (err instanceof FetchError) return null;
      throw err;
    }
    const listed = keysListedBy(document).find((k) => k.id === keyId);
    if (listed) return { keyId, owner: document.id, publicKeyPem: listed.publicKeyPem };
    // A key document: believe its owner only if the owner's own document lists the key.
    if (
      document.id !== keyId ||
      typeof document.owner !== 'string' ||
      typeof document.publicKeyPem !== 'string'
    ) {
      return null;
    }
    let owner: RemoteObject;
    try {
      owner = await fetchActivityPubObject(this.options.fetcher, document.owner, { sign: this.options.sign });
    } catch (err) {
      if (err instanceof FetchError) return null;
      throw err;
    }
    const confirmed = keysListedBy(owner).some((k) => k.id === keyId);
    if (!confirmed) return null;
    return { keyId, owner: owner.id, publicKeyPem: document.publicKeyPem };
  }
}

/** The keys an actor document lists (`publicKey`, one or an array), with their PEM where embedded. */
export function keysListedBy(actor: Record<string, unknown>): Array<{ id: string; publicKeyPem: string }> {
  const raw = actor.publicKey;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.slice(0, 20).flatMap((k) => {
    if (typeof k !== 'object' || k === null) return [];
    const { id, publicKeyPem, owner } = k as Record<string, unknown>;
    if (typeof id !== 'string' || typeof publicKeyPem !== 'string') return [];
    // A key the actor lists under another owner is not the actor's.
    if (owner !== undefined && owner !== actor.id) return [];
    return [{ id, publicKeyPem }];
  });
}

/**
 * The verified key must belong to the activity's actor: a valid signature by someone else's key is
 * not the actor speaking. Compared as exact ids (both come from documents fetched from their own ids).
 */
export function assertKeyOwnedBy(verified: { owner: string }, actorId: string): void {
  if (verified.owner !== actorId) {
    throw new SignatureError('key_not_actor', 'The request is signed by a key that is not the actor’s.');
  }
}

/** Same scheme, host and port: embedded objects must share their activity's actor's origin. */
export function sameOrigin(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  return new URL(a).origin === new URL(b).origin;
}
