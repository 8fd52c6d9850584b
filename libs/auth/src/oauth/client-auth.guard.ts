import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessTokens } from './access-tokens';
import { ClientAuthError } from './oauth.errors';
import { scopesAllow } from './scopes';

/** Who a client API request acts as, from its bearer token. */
export interface ClientAccess {
  tokenId: string;
  applicationId: string | null;
  scopes: string[];
  /** Null for an application's own token (client credentials). */
  userId: string | null;
  accountId: string | null;
}

/** A request whose client access is known to be a user's. */
export interface UserAccess extends ClientAccess {
  userId: string;
  accountId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    access?: ClientAccess;
  }
}

interface AuthRequirement {
  /** Any one of these suffices; '' for any valid token. */
  scope: string | string[];
  required: boolean;
  user: boolean;
}

const AUTH_REQUIREMENT = 'townhall:client-auth';

/**
 * The endpoint needs a token with `scope` (a granular scope; a top-level one covers it; '' for any
 * valid token), of a user unless `{ app: true }` — as Mastodon's `doorkeeper_authorize!` and
 * `require_user!`.
 */
export function Authenticated(scope: string | string[], options: { app?: boolean } = {}) {
  return applyDecorators(
    SetMetadata(AUTH_REQUIREMENT, { scope, required: true, user: !options.app } satisfies AuthRequirement),
    UseGuards(ClientAuthGuard),
    ApiBearerAuth(),
  );
}

/** Public, but a token, when given, must be valid and have `scope`; the answer may then say more. */
export function OptionallyAuthenticated(scope: string | string[]) {
  return applyDecorators(
    SetMetadata(AUTH_REQUIREMENT, { scope, required: false, user: false } satisfies AuthRequirement),
    UseGuards(ClientAuthGuard),
    ApiBearerAuth(),
  );
}

/** The request's client access (undefined on a public endpoint called without a token). */
export const CurrentAccess = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<FastifyRequest>().access,
);

/**
 * Resolves `Authorization: Bearer` to the tenant's token (cached per process, revocations heard at
 * once) and enforces the endpoint's requirement. Failures answer as Mastodon's do: 401 with a Bearer
 * challenge for a missing or invalid token, 403 for a scope the token lacks, 422 when a user is needed
 * and the token is an application's.
 */
@Injectable()
export class ClientAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokens,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const need = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!need) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const token = bearerToken(req.headers.authorization);
    const refuse = (): never => {
      http
        .getResponse<FastifyReply>()
        .header(
          'WWW-Authenticate',
          'Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"',
        );
      throw new ClientAuthError('invalid_token', 'The access token is invalid');
    };
    if (token === undefined) {
      if (!need.required) return true;
      refuse();
    }
    const grant = await this.tokens.resolve(token!);
    if (!grant || !grant.usable) refuse();
    const anyOf = Array.isArray(need.scope) ? need.scope : [need.scope];
    if (!anyOf.some((scope) => scope === '' || scopesAllow(grant!.scopes, scope))) {
      throw new ClientAuthError('insufficient_scope', 'This action is outside the authorized scopes');
    }
    if (need.user && grant!.userId === null) {
      throw new ClientAuthError('user_required', 'This method requires an authenticated user');
    }
    req.access = {
      tokenId: grant!.tokenId,
      applicationId: grant!.applicationId,
      scopes: grant!.scopes,
      userId: grant!.userId,
      accountId: grant!.accountId,
    };
    return true;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer\s+([A-Za-z0-9._~+/=-]{1,512})\s*$/i.exec(header ?? '');
  return match?.[1];
}
