import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CoreError,
  BatchedWindowLimiter,
  isOperationsPath,
  isPlatformPath,
  pathOf,
  PlatformHosts,
  RedisConnection,
  TOWNHALL_CONFIG,
  type TownhallConfig,
} from '@townhall/core';
import { TenancyError } from './tenancy.errors';
import { TenantContext } from './tenant-context';
import { type TenantAtHost, TenantDirectory } from './tenant-directory';

/** Where a tenant's stored media files are served (see the instance's MediaFilesController). */
export const MEDIA_FILES_PREFIX = '/system/media/';

function hasBearer(header: string | undefined): boolean {
  return header !== undefined && /^bearer\s+\S/i.test(header);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant the request's Host names, on tenant paths; undefined on platform paths. */
    tenant?: TenantAtHost;
  }
}

/**
 * Where each request goes, decided before its body is read (see `platform-site.ts` in core):
 * - a platform path answers only on a platform host (404 elsewhere), and health and metrics not at all
 *   on the main port when a separate operations port is configured;
 * - any other path is the tenant's whose domain the Host names: unknown → 404, suspended → 503, not yet
 *   or no longer active → 503, all as problem details; then the tenant's rate limit for the client's
 *   address (429 with Mastodon's X-RateLimit-* headers);
 * - the handler runs inside the tenant's context (`TenantContext`).
 * Installed as Fastify hooks once per HTTP app; in a process without HTTP (the CLI) it does nothing.
 */
@Injectable()
export class TenantRequestHooks implements OnModuleInit {
  private readonly platformHosts: PlatformHosts;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly directory: TenantDirectory,
    private readonly redis: RedisConnection,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {
    this.platformHosts = new PlatformHosts(config);
  }

  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (fastify?.addHook === undefined) return;
    await this.directory.listen();
    const limiter = new BatchedWindowLimiter(this.redis.redis);
    const { rateLimit, rateLimitWindowMs } = this.config.tenantHttp;
    const separateOps = this.config.http.opsPort !== undefined;

    const resolveTenant = async (
      request: FastifyRequest,
      reply: FastifyReply,
      platformHost: boolean,
      path: string,
    ) => {
      const found = platformHost ? null : await this.directory.atHost(request.headers.host);
      if (!found) throw new TenancyError('unknown_host', 'No instance is hosted at this address.');
      const status = found.ref.status;
      if (status === 'suspended') {
        throw new TenancyError(
          'tenant_suspended',
          'This instance has been suspended by the platform operator.',
        );
      }
      if (status !== 'active') throw new TenancyError('tenant_unavailable', `This instance is ${status}.`);
      request.tenant = found;
      // Stored media files are static and immutable, fetched by the dozen for one timeline: like
      // Mastodon (whose files come from nginx or object storage), they do not count against the API's limit.
      if (path.startsWith(MEDIA_FILES_PREFIX)) return;
      // Counted in memory and shared through Redis in batches (BatchedWindowLimiter): no round trip
      // per request. Per client address; a client that presents a token gets five times the budget, as Mastodon
      // allows signed-in users more than anonymous ones. (Keying on the token itself would let anyone
      // buy a fresh budget with every made-up token.)
      const limit = limiter.hit(
        this.redis.key('rate', 'tenant', found.ref.id, request.ip),
        hasBearer(request.headers.authorization) ? rateLimit * 5 : rateLimit,
        rateLimitWindowMs,
      );
      reply.header('x-ratelimit-limit', String(limit.limit));
      reply.header('x-ratelimit-remaining', String(limit.remaining));
      reply.header('x-ratelimit-reset', new Date(limit.resetAt).toISOString());
      if (!limit.allowed) {
        reply.header('retry-after', String(Math.max(1, Math.ceil((limit.resetAt - Date.now()) / 1000))));
        throw new TenancyError('rate_limited', 'Too many requests; retry after the time in Retry-After.');
      }
    };

    // Platform paths are decided without a promise: they are most of what probes and scrapers send.
    fastify.addHook(
      'onRequest',
      (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
        const path = pathOf(request.url);
        const platformHost = this.platformHosts.includes(request.headers.host);
        if (isPlatformPath(path)) {
          if (!platformHost || (separateOps && isOperationsPath(path))) {
            return done(new CoreError('not_found', 'There is nothing at this address.'));
          }
          return done();
        }
        resolveTenant(request, reply, platformHost, path).then(() => done(), done);
      },
    );

    fastify.addHook('preHandler', (request, _reply, done) => {
      if (request.tenant) TenantContext.run(request.tenant.ref, done);
      else done();
    });
  }
}
