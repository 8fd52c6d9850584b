import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request, Response } from 'express';
import { AuthError } from './auth.errors';
import { OperatorEntity } from './operator.entity';
import { OPERATOR_REALM, OPERATOR_STRATEGY } from './operator-bearer.strategy';

export type OperatorRequest = Request & { user?: OperatorEntity };

/**
 * Requires a valid operator token in the `Authorization: Bearer` header. Failures are 401 problem
 * details with a `WWW-Authenticate` challenge (RFC 6750). Tokens in the query string or body, which
 * passport-http-bearer would accept, are refused: they end up in logs and browser histories.
 */
@Injectable()
export class OperatorAuthGuard extends AuthGuard(OPERATOR_STRATEGY) {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    if (hasField(req.query, 'access_token') || hasField(req.body, 'access_token')) {
      this.challenge(context, 'invalid_request');
      throw new AuthError(
        'invalid_token',
        'Send the token in the Authorization header, not in the URL or body.',
      );
    }
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<TUser = OperatorEntity>(
    err: unknown,
    user: unknown,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (err) throw err; // e.g. the database is down: a 500, not a misleading 401
    if (user instanceof OperatorEntity) return user as TUser;
    const hasCredentials = /^bearer\b/i.test(
      context.switchToHttp().getRequest<Request>().headers.authorization ?? '',
    );
    this.challenge(context, hasCredentials ? 'invalid_token' : undefined);
    throw hasCredentials
      ? new AuthError('invalid_token', 'The bearer token is not valid.')
      : new AuthError('missing_token', 'This API needs an operator token: Authorization: Bearer <token>.');
  }

  private challenge(context: ExecutionContext, error?: 'invalid_token' | 'invalid_request'): void {
    const res = context.switchToHttp().getResponse<Response>();
    res.setHeader('WWW-Authenticate', `Bearer realm="${OPERATOR_REALM}"${error ? `, error="${error}"` : ''}`);
  }
}

function hasField(value: unknown, field: string): boolean {
  return typeof value === 'object' && value !== null && field in value;
}
