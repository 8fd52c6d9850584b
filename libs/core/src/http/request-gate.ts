import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CoreError } from '../errors';
import { loggableUrl, RequestLogScope, type TownhallLogger } from '../logging';
import { securityHeaders } from './security-headers';

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A caller-supplied request id is kept when it is well-formed, so ids follow a request across proxies. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

const TARGET_DISAGREES = Symbol('townhall.targetDisagrees');
type MarkedRequest = IncomingMessage & { [TARGET_DISAGREES]?: true };

/**
 * Fastify's `rewriteUrl`: a request target in absolute form (`GET http://host/path`, RFC 9112 §3.2.2)
 * is routed by its path. When its authority names another host than the Host header the request is
 * marked, and the gate refuses it: a proxy that routed by one and an app that resolved the tenant by the
 * other would disagree about which tenant is addressed.
 */
export function originFormTarget(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (url.charCodeAt(0) === 0x2f /* / */ || url === '*') return url;
  const match = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!match) {
    (req as MarkedRequest)[TARGET_DISAGREES] = true;
    return '/';
  }
  const [, authority, rest] = match;
  if (authority.toLowerCase() !== (req.headers.host ?? '').toLowerCase()) {
    (req as MarkedRequest)[TARGET_DISAGREES] = true;
  }
  return rest === '' || rest[0] !== '/' ? `/${rest}` : rest;
}

/** How many Host fields the request carried; Node keeps only the first in `headers`. */
function hostFieldCount(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}

/** Requests that carry nothing worth a line in the access log: probes and scrapes. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * What every request of every app goes through first, as Fastify hooks (no middleware engine):
 * - its request id, echoed in `X-Request-Id`, and helmet's security headers;
 * - RFC 9112 framing checks: exactly one Host, and an absolute-form target that agrees with it (400);
 * - the request's log scope, so log lines written while handling it carry its id;
 * - one access-log line at info level when it is answered (path and safe query parameters only).
 */
export function installRequestGate(fastify: FastifyInstance, logger: TownhallLogger): void {
  const headers = securityHeaders();
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    reply.header('x-request-id', request.id);
    reply.headers(headers);
    const raw = request.raw as MarkedRequest;
    if (raw[TARGET_DISAGREES]) {
      return done(
        new CoreError('bad_request', 'The request target names another host than the Host header.'),
      );
    }
    if (hostFieldCount(raw.rawHeaders) > 1) {
      return done(new CoreError('bad_request', 'A request carries exactly one Host header.'));
    }
    done();
  });
  // After the body is read (stream callbacks do not carry the request's async context) and before the
  // handler, so everything the handler awaits sees the scope.
  fastify.addHook('preHandler', (request, _reply, done) => {
    RequestLogScope.run(request.id, done);
  });
  const access = logger.pino;
  fastify.addHook('onResponse', (request, reply, done) => {
    if (access.isLevelEnabled('info') && !QUIET_PATHS.has(request.url)) {
      access.info(
        {
          requestId: request.id,
          method: request.method,
          url: loggableUrl(request.url),
          host: request.headers.host,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    }
    done();
  });
}
