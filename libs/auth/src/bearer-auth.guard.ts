import { ExecutionContext, Inject, type Type } from '@nestjs/common';
import { AuthGuard, type IAuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from './auth.errors';
import { AuthFailureLimiter } from './auth-failure-limiter';

export interface BearerAuthGuardOptions<T> {
  /** The passport strategy that turns the token into `identity`. */
  strategy: string;
  /** The realm of the `WWW-Authenticate` challenge. */
  realm: string;
  /** What the strategy yields for a valid token; anything else is refused. */
  identity: abstract new (...args: never[]) => T;
  /** How the 401 names the token the API needs, e.g. "an operator token". */
  tokenName: string;
}

/**
 * A guard that requires a valid token of one kind in the `Authorization: Bearer` header. Failures are
 * 401 problem details with a `WWW-Authenticate` challenge (RFC 6750). Tokens in the query string or
 * body, which passport-http-bearer would accept, are refused: they end up in logs and browser
 * histories. The operator and the regulator APIs each build theirs from it.
 */
export function BearerAuthGuard<T>(options: BearerAuthGuardOptions<T>): Type<IAuthGuard> {
  class BearerAuthGuardBase extends AuthGuard(options.strategy) {
    constructor(@Inject(AuthFailureLimiter) private readonly failures: AuthFailureLimiter) {
      super();
    }

    override async canActivate(context: ExecutionContext): Promise<boolean> {
      const req = context.switchToHttp().getRequest<FastifyRequest>();
      if (hasField(req.query, 'access_token') || hasField(req.body, 'access_token')) {
        challenge(context, options.realm, 'invalid_request');
        throw new AuthError(
          'invalid_token',
          'Send the token in the Authorization header, not in the URL or body.',
        );
      }
      const token = bearerToken(req.headers.authorization);
      try {
        await this.failures.check(req.ip, token);
      } catch (err) {
        if (err instanceof AuthError) {
          context
            .switchToHttp()
            .getResponse<FastifyReply>()
            .header('Retry-After', String(err.extensions.retryAfter));
        }
        throw err;
      }
      try {
        return (await super.canActivate(context)) as boolean;
      } catch (err) {
        if (err instanceof AuthError && err.code === 'invalid_token')
          await this.failures.failed(req.ip, token);
        throw err;
      }
    }

    override handleRequest<TUser = T>(
      err: unknown,
      user: unknown,
      _info: unknown,
      context: ExecutionContext,
    ): TUser {
      // The strategy's own refusal (an expired or revoked token) says why; it still gets a challenge.
      if (err instanceof AuthError) {
        challenge(context, options.realm, 'invalid_token');
        throw err;
      }
      if (err) throw err; // e.g. the database is down: a 500, not a misleading 401
      if (user instanceof options.identity) return user as unknown as TUser;
      const hasCredentials = /^bearer\b/i.test(
        context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '',
      );
      challenge(context, options.realm, hasCredentials ? 'invalid_token' : undefined);
      throw hasCredentials
        ? new AuthError('invalid_token', `The bearer token is not ${options.tokenName}.`)
        : new AuthError(
            'missing_token',
            `This API needs ${options.tokenName}: Authorization: Bearer <token>.`,
          );
    }
  }
  return BearerAuthGuardBase;
}

function challenge(
  context: ExecutionContext,
  realm: string,
  error?: 'invalid_token' | 'invalid_request',
): void {
  const res = context.switchToHttp().getResponse<FastifyReply>();
  res.header('WWW-Authenticate', `Bearer realm="${realm}"${error ? `, error="${error}"` : ''}`);
}

/** The credential of an `Authorization: Bearer` header, if it has one. */
function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer\s+(\S+)/i.exec(header ?? '');
  return match?.[1];
}

function hasField(value: unknown, field: string): boolean {
  return typeof value === 'object' && value !== null && field in value;
}
