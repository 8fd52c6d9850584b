import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type AuthorizationOutcome,
  AuthorizationPageError,
  type AuthorizationParams,
  AuthorizationRedirectError,
  type AuthorizationRequest,
  ClientAuthError,
  OAuthService,
} from '@townhall/auth';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import type { TenantAtHost } from '@townhall/tenancy';
import { CurrentTenant } from '../tenant-site';
import { codePage, consentPage, errorPage } from './authorize-page';

const CSRF_COOKIE = 'townhall_oauth_csrf';

/**
 * The consent page may redirect anywhere the client registered (another origin, an app's own scheme),
 * which a `form-action 'self'` policy would block in browsers that apply it to redirects; everything
 * else is as strict as it can be: no script at all.
 */
const PAGE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

const REQUEST_FIELDS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const;

/** Only the authorization request's own parameters, as strings. */
function requestParams(source: Record<string, unknown> | undefined): AuthorizationParams {
  const params: Record<string, string> = {};
  for (const field of REQUEST_FIELDS) {
    const value = source?.[field];
    if (typeof value === 'string') params[field] = value;
  }
  return params;
}

/**
 * OAuth 2.0 as Mastodon clients use it: the authorize page (sign in and consent in one form, so no
 * session is kept), the token endpoint (JSON or form bodies) and revocation. The rules are the
 * `OAuthService`'s; this is HTTP and HTML.
 */
@ApiTags('oauth')
@Controller('oauth')
export class OAuthController {
  constructor(
    private readonly oauth: OAuthService,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('authorize')
  @ApiExcludeEndpoint()
  async authorizePage(
    @Query() query: Record<string, unknown>,
    @CurrentTenant() tenant: TenantAtHost,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const params = requestParams(query);
    let request: AuthorizationRequest;
    try {
      request = await this.oauth.checkAuthorization(params);
    } catch (err) {
      return this.answerRefusal(err, tenant, res);
    }
    const csrf = randomBytes(24).toString('base64url');
    res.header('Set-Cookie', this.csrfCookie(csrf));
    this.html(res, 200, consentPage(this.consent(tenant, request, params, csrf)));
  }

  @Post('authorize')
  @ApiExcludeEndpoint()
  async authorize(
    @Body() body: Record<string, unknown>,
    @CurrentTenant() tenant: TenantAtHost,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const params = requestParams(body);
    let request: AuthorizationRequest;
    try {
      request = await this.oauth.checkAuthorization(params);
    } catch (err) {
      return this.answerRefusal(err, tenant, res);
    }
    const csrf = cookie(req.headers.cookie, CSRF_COOKIE);
    const posted = typeof body.authenticity_token === 'string' ? body.authenticity_token : '';
    if (!csrf || !sameText(csrf, posted)) {
      return this.html(
        res,
        422,
        errorPage(
          tenant.displayName,
          'The form expired or came from another site. Start again from the application.',
        ),
      );
    }
    if (body.decision === 'deny') return this.follow(res, tenant, this.oauth.denied(request));
    const login = typeof body.login === 'string' ? body.login : '';
    const password = typeof body.password === 'string' ? body.password : '';
    try {
      const outcome = await this.oauth.signInAndAuthorize(request, { login, password }, req.ip);
      res.header('Set-Cookie', this.csrfCookie('', 0));
      return this.follow(res, tenant, outcome);
    } catch (err) {
      if (!(err instanceof ClientAuthError)) throw err;
      const fresh = randomBytes(24).toString('base64url');
      res.header('Set-Cookie', this.csrfCookie(fresh));
      const status = err.code === 'too_many_attempts' ? 429 : err.code === 'login_disabled' ? 403 : 422;
      return this.html(
        res,
        status,
        consentPage({
          ...this.consent(tenant, request, params, fresh),
          login,
          error: err.detail ?? err.spec.title,
        }),
      );
    }
  }

  @Post('token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Obtain a token (authorization_code, client_credentials, refresh_token)',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/oauth/#token' },
  })
  @ApiOkResponse({ description: 'Token: access_token, token_type, scope, created_at' })
  async token(
    @Body() body: Record<string, unknown> | undefined,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ) {
    const token = await this.oauth.token(body ?? {}, req.headers);
    res.header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(token);
  }

  @Post('revoke')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Revoke a token',
    externalDocs: { url: 'https://docs.joinmastodon.org/methods/oauth/#revoke' },
  })
  async revoke(@Body() body: Record<string, unknown> | undefined): Promise<Record<string, never>> {
    await this.oauth.revoke(body ?? {});
    return {};
  }

  private consent(
    tenant: TenantAtHost,
    request: AuthorizationRequest,
    params: AuthorizationParams,
    csrf: string,
  ) {
    return {
      instance: tenant.displayName,
      application: request.application.name,
      website: request.application.website,
      scopes: request.scopes,
      hidden: { ...params, redirect_uri: request.redirectUri, scope: request.scopes.join(' ') } as Record<
        string,
        string
      >,
      csrfToken: csrf,
    };
  }

  private answerRefusal(err: unknown, tenant: TenantAtHost, res: FastifyReply): void {
    if (err instanceof AuthorizationRedirectError) return void res.redirect(err.location, 302);
    if (err instanceof AuthorizationPageError)
      return this.html(res, 400, errorPage(tenant.displayName, err.message));
    throw err;
  }

  private follow(res: FastifyReply, tenant: TenantAtHost, outcome: AuthorizationOutcome): void {
    if ('redirect' in outcome) return void res.redirect(outcome.redirect, 302);
    this.html(res, 200, codePage(tenant.displayName, outcome.application, outcome.showCode));
  }

  private html(res: FastifyReply, status: number, body: string): void {
    res
      .status(status)
      .header('Content-Type', 'text/html; charset=utf-8')
      .header('Content-Security-Policy', PAGE_POLICY)
      .header('Cache-Control', 'no-store')
      .send(body);
  }

  private csrfCookie(value: string, maxAge = 3600): string {
    const secure = this.config.publicUrl.scheme === 'https' ? '; Secure' : '';
    return `${CSRF_COOKIE}=${value}; Path=/oauth; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
  }
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
