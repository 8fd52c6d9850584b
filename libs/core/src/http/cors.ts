import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPlatformPath, pathOf } from './platform-site';

/**
 * Cross-origin access to a tenant's public surfaces, as Mastodon 4.3 grants it (its
 * `config/initializers/cors.rb`, through rack-cors): any origin, never with credentials, on the
 * client API, the OAuth token endpoints, the discovery documents and the profile address. Web clients
 * served from another origin (Elk, Phanpy, a tenant's own site) call the API with a bearer token, so
 * nothing here depends on cookies. The platform's own APIs stay closed.
 */
export interface CorsResource {
  methods: readonly string[];
  /** Response headers a script on another origin may read. */
  expose?: readonly string[];
}

const GET_ONLY: CorsResource = { methods: ['GET'] };
const POST_ONLY: CorsResource = { methods: ['POST'] };
const CLIENT_API: CorsResource = {
  methods: ['POST', 'PUT', 'DELETE', 'GET', 'PATCH', 'OPTIONS'],
  expose: ['Link', 'X-RateLimit-Reset', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-Request-Id'],
};

/** rack-cors's default: browsers may keep a preflight's answer for two hours. */
const MAX_AGE_SECONDS = '7200';

/**
 * Which CORS resource a path is, or undefined: `/api/*`, `/oauth/token`, `/oauth/revoke`,
 * `/.well-known/*`, `/nodeinfo/*` (the documents `/.well-known/nodeinfo` points to), and `/@username`
 * and `/users/username` (profile and actor, GET only). Mastodon's patterns match the whole path.
 */
export function corsResourceOf(path: string): CorsResource | undefined {
  if (path.startsWith('/api/')) return isPlatformPath(path) ? undefined : CLIENT_API;
  if (path === '/oauth/token' || path === '/oauth/revoke') return POST_ONLY;
  if (path.startsWith('/.well-known/') || path.startsWith('/nodeinfo/')) return GET_ONLY;
  if (/^\/(@|users\/)[^/?&#]+$/.test(path)) return GET_ONLY;
  return undefined;
}

/** The headers of an answer to a cross-origin request for a resource (preflight or actual). */
function corsHeaders(resource: CorsResource): Record<string, string> {
  const headers: Record<string, string> = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': resource.methods.join(', '),
    'access-control-max-age': MAX_AGE_SECONDS,
    // helmet's same-origin policy is for the HTML pages; a resource shared with every origin is
    // embeddable by every origin too.
    'cross-origin-resource-policy': 'cross-origin',
  };
  if (resource.expose) headers['access-control-expose-headers'] = resource.expose.join(', ');
  return headers;
}

const PREPARED = new Map<CorsResource, Record<string, string>>(
  [GET_ONLY, POST_ONLY, CLIENT_API].map((r) => [r, corsHeaders(r)]),
);

/**
 * A Fastify `onRequest` hook, installed before the tenant is resolved (as Mastodon puts rack-cors
 * before everything else):
 * - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here, 200 with
 *   no body: no authentication, no tenant lookup, no rate limit counted, so a browser's preflights
 *   never eat the budget of the calls they precede. A method the resource does not allow, or a path
 *   that is not a resource, gets the 200 without CORS headers, and the browser refuses the call;
 * - any other request on a resource gets the CORS headers on whatever the answer is, errors included
 *   (429, 503, 401), so a web client can read why it was refused. Unlike rack-cors, whether or not it
 *   carries `Origin`: the answer is then the same for every caller, and a CDN that cached it for one
 *   serves it correctly to a script on another origin (no `Vary: Origin` needed).
 * Installed after the request gate, whose helmet headers it partly overrides.
 */
export function installCors(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    const resource = corsResourceOf(pathOf(request.url));
    const requestedMethod = request.headers['access-control-request-method'];
    if (
      request.method === 'OPTIONS' &&
      requestedMethod !== undefined &&
      request.headers.origin !== undefined
    ) {
      if (resource && resource.methods.includes(requestedMethod.toUpperCase())) {
        reply.headers(PREPARED.get(resource)!);
        // rack-cors's `headers: :any`: every header the browser asks to send is allowed.
        const requestedHeaders = request.headers['access-control-request-headers'];
        if (requestedHeaders) reply.header('access-control-allow-headers', requestedHeaders);
      }
      void reply.code(200).header('content-type', 'text/plain').send('');
      return;
    }
    if (resource) reply.headers(PREPARED.get(resource)!);
    done();
  });
}
