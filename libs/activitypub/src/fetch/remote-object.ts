import { FetchError } from './fetch-errors';
import { ACTIVITYPUB_ACCEPT, isActivityPubContentType, RequestSigner, SafeFetcher } from './safe-fetcher';

export type RemoteObject = Record<string, unknown> & { id: string };

/**
 * Fetches an ActivityPub object and makes sure it is what its URL says: an ActivityPub content type,
 * a JSON object, and an `id` equal to the URL that answered (after redirects). A document whose `id`
 * names another URL is fetched once more from that id, which must then answer for itself — a server
 * cannot vouch for objects of another origin (Mastodon CVE-2024-23832).
 * The document is read as plain JSON: its `@context` is never fetched or expanded.
 */
export async function fetchActivityPubObject(
  fetcher: SafeFetcher,
  url: string,
  options: { sign?: RequestSigner } = {},
): Promise<RemoteObject> {
  const first = await fetchOnce(fetcher, url, options.sign);
  if (first.object.id === first.url) return first.object;
  const second = await fetchOnce(fetcher, first.object.id, options.sign);
  if (second.object.id === second.url) return second.object;
  throw new FetchError('bad_document', 'The document’s id is not the URL it is served from.');
}

async function fetchOnce(fetcher: SafeFetcher, url: string, sign?: RequestSigner) {
  const res = await fetcher.get(url, {
    accept: ACTIVITYPUB_ACCEPT,
    sign,
    acceptContentType: isActivityPubContentType,
  });
  if (res.status < 200 || res.status >= 300) {
    throw new FetchError('http_status', `The remote server answered ${res.status}.`, { status: res.status });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new FetchError('bad_document', 'The document is not JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FetchError('bad_document', 'The document is not a JSON object.');
  }
  const object = parsed as Record<string, unknown>;
  if (typeof object.id !== 'string' || !URL.canParse(object.id)) {
    throw new FetchError('bad_document', 'The document has no id.');
  }
  return { url: res.url, object: object as RemoteObject };
}
