import dns from 'node:dns';
import http, { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkFetchUrl, checkResolvedAddresses, UrlPolicy } from './address-policy';
import { FetchError } from './fetch-errors';

/**
 * The only way the platform fetches anything remote (architecture: "the federation gateway is the only
 * door to the network"). Each hop of a fetch:
 *  1. checks the URL (`checkFetchUrl`: scheme, credentials, canonical host forms, literal addresses);
 *  2. resolves the name once and checks every address it resolves to;
 *  3. connects to the address it checked — the request's `lookup` answers with it, so nothing resolves
 *     the name again between the check and the connection (DNS rebinding);
 *  4. on a redirect, starts again at 1 with the new URL, up to `maxRedirects` times.
 * One deadline covers the whole fetch, hops and body included, and the body is read up to `maxBytes`.
 * Nothing here follows links inside documents: JSON-LD `@context`s are never fetched.
 */
export interface SafeFetcherOptions extends UrlPolicy {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** Resolves a host name to all its addresses; `dns.lookup` unless a test gives its own. */
  resolve?: (host: string) => Promise<Array<{ address: string; family: number }>>;
  userAgent?: string;
}

/** Adds signature headers to a request about to be sent (one call per hop: each hop is signed anew). */
export type RequestSigner = (request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
}) => Promise<Record<string, string>> | Record<string, string>;

export interface FetchRequest {
  accept: string;
  /** Sign each hop's GET (authorized fetch). */
  sign?: RequestSigner;
  /** Refuse the response unless its media type passes (checked before the body is read). */
  acceptContentType?: (contentType: string) => boolean;
  /** Stricter than the fetcher's own limits for this request. */
  maxBytes?: number;
  timeoutMs?: number;
}

export interface FetchResponse {
  status: number;
  /** The URL that answered, after redirects. */
  url: string;
  contentType: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export const ACTIVITY_JSON = 'application/activity+json';
export const LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"';
export const ACTIVITYPUB_ACCEPT = `${ACTIVITY_JSON}, ${LD_JSON_AS}`;

/**
 * `application/activity+json`, or `application/ld+json` with the ActivityStreams profile — the two
 * types ActivityPub names. Anything else (text/html, application/json, an upload served from the same
 * origin) is not an ActivityPub document, whatever its body says (Mastodon CVE-2024-25623).
 */
export function isActivityPubContentType(contentType: string): boolean {
  const [type, ...params] = contentType.split(';').map((p) => p.trim());
  const media = type.toLowerCase();
  if (media === ACTIVITY_JSON) return true;
  if (media !== 'application/ld+json') return false;
  return params.some((p) => {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'profile') return false;
    const value = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    return value.split(/\s+/).includes('https://www.w3.org/ns/activitystreams');
  });
}

export class SafeFetcher {
  private readonly resolve: NonNullable<SafeFetcherOptions['resolve']>;
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 16 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 16 }),
  };

  constructor(private readonly options: SafeFetcherOptions) {
    this.resolve = options.resolve ?? systemResolve;
  }

  async get(url: string, request: FetchRequest): Promise<FetchResponse> {
    const timeoutMs = Math.min(request.timeoutMs ?? this.options.timeoutMs, this.options.timeoutMs);
    const maxBytes = Math.min(request.maxBytes ?? this.options.maxBytes, this.options.maxBytes);
    const deadline = AbortSignal.timeout(timeoutMs);
    let current = url;
    for (let hop = 0; ; hop++) {
      const response = await this.hop(current, request, maxBytes, deadline, timeoutMs);
      if (!('location' in response)) return response;
      if (hop >= this.options.maxRedirects) {
        throw new FetchError('too_many_redirects', `More than ${this.options.maxRedirects} redirects.`);
      }
      current = redirectTarget(response.location, current);
    }
  }

  /** One request; a redirect answers with where it points, anything else with the read response. */
  private async hop(
    raw: string,
    request: FetchRequest,
    maxBytes: number,
    deadline: AbortSignal,
    timeoutMs: number,
  ): Promise<FetchResponse | { location: string }> {
    const url = checkFetchUrl(raw, this.options);
    const host = url.hostname;
    const target = host.startsWith('[')
      ? { address: host.slice(1, -1), family: 6 }
      : /^[0-9.]+$/.test(host)
        ? { address: host, family: 4 }
        : checkResolvedAddresses(host, await this.resolveWithin(host, deadline, timeoutMs), this.options);
    // Connect to the checked address and nothing else, whatever the name resolves to by now.
    const lookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all) {
        (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, [target]);
      } else callback(null, target.address, target.family);
    };
    const headers: Record<string, string> = {
      accept: request.accept,
      'user-agent': this.options.userAgent ?? 'Townhall',
      host: url.host,
    };
    if (request.sign)
      Object.assign(headers, await request.sign({ method: 'GET', url, headers: { ...headers } }));
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolvePromise, reject) => {
      let settled = false;
      // Settles once; whatever the connection does afterwards (errors of a destroyed socket) is moot.
      const settle = (outcome: FetchResponse | { location: string } | FetchError) => {
        if (settled) return;
        settled = true;
        deadline.removeEventListener('abort', onAbort);
        if (outcome instanceof FetchError) {
          req.destroy();
          reject(outcome);
        } else resolvePromise(outcome);
      };
      const onAbort = () => settle(new FetchError('timed_out', `No complete answer within ${timeoutMs} ms.`));
      const req = lib.request(
        url,
        {
          method: 'GET',
          headers,
          lookup,
          agent: this.agents[url.protocol as 'http:' | 'https:'],
          servername: url.protocol === 'https:' && !/^[0-9.[]/.test(host) ? host : undefined,
        },
        (res) => {
          res.on('error', (err) => settle(asFetchError(err)));
          const status = res.statusCode ?? 0;
          if (REDIRECTS.has(status)) {
            res.resume();
            const location = res.headers.location;
            return settle(
              location
                ? { location }
                : new FetchError('http_status', `A ${status} redirect without a Location.`),
            );
          }
          const contentType = String(res.headers['content-type'] ?? '');
          const ok = status >= 200 && status < 300;
          if (ok && request.acceptContentType && !request.acceptContentType(contentType)) {
            return settle(
              new FetchError('wrong_content_type', `The document came as "${contentType || 'no type'}".`),
            );
          }
          const tooLarge = () =>
            new FetchError('too_large', `The document is larger than ${maxBytes} bytes.`);
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxBytes) return settle(tooLarge());
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) settle(tooLarge());
            else chunks.push(chunk);
          });
          res.on('end', () =>
            settle({ status, url: url.href, contentType, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', (err) => settle(asFetchError(err)));
      if (deadline.aborted) return onAbort();
      deadline.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }

  private async resolveWithin(host: string, deadline: AbortSignal, timeoutMs: number) {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new FetchError('timed_out', `No complete answer within ${timeoutMs} ms.`));
      if (deadline.aborted) onAbort();
      else deadline.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([this.resolve(host), aborted]);
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new FetchError('dns_failed', `${host} could not be resolved.`);
    } finally {
      deadline.removeEventListener('abort', onAbort!);
    }
  }

  /** Closes idle keep-alive connections (at shutdown). */
  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

/**
 * Where a redirect points, as written: an absolute Location is checked as the server wrote it (the URL
 * parser would turn `http://2130706433/` into `http://127.0.0.1/` and hide the odd form); a relative one
 * keeps the host that was already checked.
 */
function redirectTarget(location: string, base: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(location)) return location;
  if (location.startsWith('//') || location.startsWith('\\\\')) return `${new URL(base).protocol}${location}`;
  return new URL(location, base).href;
}

function asFetchError(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  return new FetchError(
    'network',
    `The remote server could not be reached (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
  );
}

function systemResolve(host: string): Promise<Array<{ address: string; family: number }>> {
  return new Promise((resolvePromise, reject) =>
    dns.lookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolvePromise(addresses),
    ),
  );
}
