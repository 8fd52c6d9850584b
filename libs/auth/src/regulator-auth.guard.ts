import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request, Response } from 'express';
import { AuthError } from './auth.errors';
import { REGULATOR_REALM, REGULATOR_STRATEGY } from './regulator-bearer.strategy';
import { Regulator } from './regulator-identity';

export type RegulatorRequest = Request & { user?: Regulator };

/**
 * Requires a valid regulator token in the `Authorization: Bearer` header: 401 problem details with a
 * `WWW-Authenticate` challenge (RFC 6750) otherwise. Tokens in the query string, which
 * passport-http-bearer would accept, are refused: they end up in logs and browser histories.
 */
@Injectable()
export class RegulatorAuthGuard extends AuthGuard(REGULATOR_STRATEGY) {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    if (typeof req.query === 'object' && req.query !== null && 'access_token' in req.query) {
      this.challenge(context, 'invalid_request');
      throw new AuthError('invalid_token', 'Send the token in the Authorization header, not in the URL.');
    }
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<TUser = Regulator>(
    err: unknown,
    user: unknown,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (err instanceof AuthError) {
      this.challenge(context, 'invalid_token');
      throw err;
    }
    if (err) throw err; // e.g. the database is down: a 500, not a misleading 401
    if (user instanceof Regulator) return user as TUser;
    const hasCredentials = /^bearer\b/i.test(
      context.switchToHttp().getRequest<Request>().headers.authorization ?? '',
    );
    this.challenge(context, hasCredentials ? 'invalid_token' : undefined);
    throw hasCredentials
      ? new AuthError('invalid_token', 'The bearer token is not a valid regulator token.')
      : new AuthError('missing_token', 'This API needs a regulator token: Authorization: Bearer <token>.');
  }

  private challenge(context: ExecutionContext, error?: 'invalid_token' | 'invalid_request'): void {
    const res = context.switchToHttp().getResponse<Response>();
    res.setHeader(
      'WWW-Authenticate',
      `Bearer realm="${REGULATOR_REALM}"${error ? `, error="${error}"` : ''}`,
    );
  }
}
