import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import OAuth2Server, {
  OAuthError as LibraryOAuthError,
  Request as OAuthRequest,
  Response as OAuthResponse,
} from '@node-oauth/oauth2-server';
import type { EntityManager } from 'typeorm';
import { FixedWindowLimiter, RedisConnection, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { TenantContext, TenantTransactions } from '@townhall/tenancy';
import { AccessTokens } from './access-tokens';
import { ClientAuthError, OAuthProtocolError, type OAuthErrorCode } from './oauth.errors';
import {
  deleteGrant,
  findApplication,
  findApplicationById,
  findGrant,
  findTokenByRefreshToken,
  insertApplication,
  insertGrant,
  insertToken,
  newSecret,
  type OAuthApplication,
  revokeToken,
} from './oauth-records';
import { verifyPassword } from '@townhall/social';
import { parseScopes, scopesWithin } from './scopes';

/** The redirect URI of clients that show the code to the person instead of receiving it. */
export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob';
/** An authorization code is good for ten minutes, as Doorkeeper's default that Mastodon keeps. */
const CODE_LIFETIME_MS = 10 * 60_000;
/** Sign-in attempts per client address, and failures per account, per window (Mastodon: 25 per 5 min). */
const SIGN_IN_ATTEMPTS_PER_ADDRESS = 25;
const SIGN_IN_FAILURES_PER_ACCOUNT = 10;
const SIGN_IN_WINDOW_MS = 5 * 60_000;

export interface RegisterApplicationInput {
  clientName: string;
  redirectUris: string[];
  scopes: string | undefined;
  website: string | null;
}

/** What the authorize page shows and posts back: a checked request of a registered application. */
export interface AuthorizationRequest {
  application: OAuthApplication;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
}

/** The raw authorization request parameters, from the query or the posted form. */
export interface AuthorizationParams {
  response_type?: string;
  client_id?: string;
  redirect_uri?: string;
  scope?: string;
  state?: string;
  code_challenge?: string;
  code_challenge_method?: string;
}

/**
 * Where the person's browser goes next: back to the client with a code (or an error), or, for the
 * out-of-band redirect, a page that shows the code.
 */
export type AuthorizationOutcome = { redirect: string } | { showCode: string; application: string };

/** An error shown on the authorize page itself, when there is no trustworthy redirect URI to send it to. */
export class AuthorizationPageError extends Error {}

/** An error sent back to the client's redirect URI (RFC 6749 §4.1.2.1). */
export class AuthorizationRedirectError extends Error {
  constructor(readonly location: string) {
    super(location);
  }
}

/**
 * OAuth 2.0 for a tenant's users, as Mastodon (Doorkeeper) does it: applications registered by anyone,
 * the authorization code flow (with PKCE, S256) through a sign-in and consent page, client credentials,
 * refresh tokens, revocation. Access tokens do not expire (Mastodon's apps expect them to last); a
 * refresh token rotates its pair. The token endpoint's grant handling is `@node-oauth/oauth2-server`'s;
 * this class is its model and the rules around it. Everything runs in the current tenant's schema.
 */
@Injectable()
export class OAuthService {
  private readonly server: OAuth2Server;
  private limiter: FixedWindowLimiter | undefined;

  constructor(
    private readonly transactions: TenantTransactions,
    private readonly tokens: AccessTokens,
    private readonly redis: RedisConnection,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {
    this.server = new OAuth2Server({
      model: this.model(),
      // Required by the library; our tokens do not expire (saveToken stores no expiry).
      accessTokenLifetime: 3600,
      refreshTokenLifetime: 3600,
      alwaysIssueNewRefreshToken: true,
      requireClientAuthentication: { refresh_token: false, authorization_code: true },
    });
  }

  // --- applications ----------------------------------------------------------------------------------

  async registerApplication(
    input: RegisterApplicationInput,
  ): Promise<{ application: OAuthApplication; clientSecret: string }> {
    const problems: string[] = [];
    const name = input.clientName.trim();
    if (name.length === 0) problems.push("Name can't be blank");
    if ([...name].length > 60) problems.push('Name is too long (maximum is 60 characters)');
    if (input.redirectUris.length === 0) problems.push("Redirect URI can't be blank");
    if (input.redirectUris.some((uri) => !isRedirectUri(uri)))
      problems.push('Redirect URI must be an absolute URI.');
    const scopes = parseScopes(input.scopes);
    if (scopes === null) problems.push('Scopes are invalid');
    if (input.website !== null && !isHttpUrl(input.website)) problems.push('Website is invalid');
    if (problems.length > 0)
      throw new ClientAuthError('validation_failed', `Validation failed: ${problems.join(', ')}`);
    return this.transactions.run((m) =>
      insertApplication(m, {
        name,
        website: input.website,
        redirectUris: [...new Set(input.redirectUris)],
        scopes: scopes!,
      }),
    );
  }

  application(id: string): Promise<OAuthApplication | null> {
    return this.transactions.run((m) => findApplicationById(m, id));
  }

  // --- the authorization code flow -------------------------------------------------------------------

  /** Checks an authorization request (the query of GET /oauth/authorize, or the posted form). */
  async checkAuthorization(params: AuthorizationParams): Promise<AuthorizationRequest> {
    const clientId = params.client_id;
    if (!clientId) throw new AuthorizationPageError('The request names no client (client_id is missing).');
    const application = await this.transactions.run((m) => findApplication(m, clientId));
    if (!application) throw new AuthorizationPageError('The client is not known to this instance.');
    const redirectUri =
      params.redirect_uri ??
      (application.redirectUris.length === 1 ? application.redirectUris[0] : undefined);
    if (!redirectUri || !application.redirectUris.includes(redirectUri)) {
      throw new AuthorizationPageError('The redirect URI is not one this client registered.');
    }
    const state = params.state ?? null;
    const fail = (error: OAuthErrorCode, description: string): never => {
      throw new AuthorizationRedirectError(errorRedirect(redirectUri, error, description, state));
    };
    if (params.response_type !== 'code')
      fail('unsupported_response_type', 'Only response_type=code is supported.');
    const scopes = parseScopes(params.scope);
    if (scopes === null || !scopesWithin(scopes, application.scopes)) {
      fail('invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
    }
    const challenge = params.code_challenge ?? null;
    const method = challenge === null ? null : (params.code_challenge_method ?? 'plain');
    if (challenge !== null && (method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge))) {
      fail('invalid_request', 'PKCE needs code_challenge_method=S256 and a 43-character code_challenge.');
    }
    return {
      application,
      redirectUri,
      scopes: scopes!,
      state,
      codeChallenge: challenge,
      codeChallengeMethod: method,
    };
  }

  /**
   * Signs the person in with the e-mail address (or username) and password they typed, and issues an
   * authorization code for the checked request. Attempts are limited per client address and failures per
   * account, in Redis for all processes. A wrong password and an unknown account answer alike.
   */
  async signInAndAuthorize(
    request: AuthorizationRequest,
    credentials: { login: string; password: string },
    address: string,
  ): Promise<AuthorizationOutcome> {
    const tenant = TenantContext.current();
    const login = credentials.login.trim().toLowerCase();
    const limiter = (this.limiter ??= new FixedWindowLimiter(this.redis.redis));
    const perAddress = await limiter.hit(
      this.redis.key('sign-in', tenant.id, 'address', address),
      SIGN_IN_ATTEMPTS_PER_ADDRESS,
      SIGN_IN_WINDOW_MS,
    );
    const accountKey = this.redis.key('sign-in', tenant.id, 'account', digest(login));
    const perAccount = await limiter.peek(accountKey, SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_WINDOW_MS);
    if (!perAddress.allowed || !perAccount.allowed) {
      throw new ClientAuthError(
        'too_many_attempts',
        'Too many sign-in attempts; try again in a few minutes.',
      );
    }
    const user = await this.transactions.run((m) => findLogin(m, login));
    const valid = await verifyPassword(user?.passwordHash ?? null, credentials.password);
    if (!user || !valid) {
      await limiter.hit(accountKey, SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_WINDOW_MS);
      throw new ClientAuthError('validation_failed', 'Invalid e-mail address or password.');
    }
    if (user.disabled || user.suspended)
      throw new ClientAuthError('login_disabled', 'Your login is currently disabled.');
    const code = newSecret();
    await this.transactions.run(async (m) => {
      await insertGrant(m, code, {
        applicationId: request.application.id,
        userId: user.id,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
        codeChallenge: request.codeChallenge,
        codeChallengeMethod: request.codeChallengeMethod,
        expiresAt: new Date(Date.now() + CODE_LIFETIME_MS),
      });
      await m.query(
        `UPDATE users SET last_sign_in_at = now(), sign_in_count = sign_in_count + 1 WHERE id = $1`,
        [user.id],
      );
    });
    if (request.redirectUri === OOB_REDIRECT_URI)
      return { showCode: code, application: request.application.name };
    return { redirect: withQuery(request.redirectUri, { code, state: request.state }) };
  }

  /** The person declined: the client hears `access_denied`. */
  denied(request: AuthorizationRequest): AuthorizationOutcome {
    return {
      redirect: errorRedirect(
        request.redirectUri,
        'access_denied',
        'The resource owner denied the request.',
        request.state,
      ),
    };
  }

  // --- the token and revocation endpoints --------------------------------------------------------------

  /** POST /oauth/token: Mastodon's token response, or an RFC 6749 error. */
  async token(
    body: Record<string, unknown>,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<{
    access_token: string;
    token_type: 'Bearer';
    scope: string;
    created_at: number;
    refresh_token?: string;
  }> {
    const form = Object.fromEntries(
      Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)]),
    );
    const request = new OAuthRequest({
      method: 'POST',
      query: {},
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    try {
      const token = await this.server.token(request, new OAuthResponse());
      return {
        access_token: token.accessToken,
        token_type: 'Bearer',
        scope: (token.scope ?? []).join(' '),
        created_at: Math.floor(Date.now() / 1000),
        ...(token.refreshToken ? { refresh_token: token.refreshToken } : {}),
      };
    } catch (err) {
      throw asProtocolError(err);
    }
  }

  /** POST /oauth/revoke: revokes a token of the authenticated client; unknown tokens are not an error. */
  async revoke(body: Record<string, unknown>): Promise<void> {
    const clientId = typeof body.client_id === 'string' ? body.client_id : undefined;
    const clientSecret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
    const token = typeof body.token === 'string' ? body.token : undefined;
    if (!clientId || !clientSecret || !token) {
      throw new OAuthProtocolError('invalid_request', 'token, client_id and client_secret are required.');
    }
    const revoked = await this.transactions.run(async (m) => {
      const application = await findApplication(m, clientId, clientSecret);
      if (!application) {
        throw new OAuthProtocolError(
          'invalid_client',
          'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
        );
      }
      return revokeToken(m, token, application.id);
    });
    if (revoked) await this.tokens.announceRevoked(revoked);
  }

  // --- the library's model -------------------------------------------------------------------------

  private model(): OAuth2Server.AuthorizationCodeModel &
    OAuth2Server.ClientCredentialsModel &
    OAuth2Server.RefreshTokenModel {
    const run = <T>(work: (m: EntityManager) => Promise<T>) => this.transactions.run(work);
    const client = (app: OAuthApplication): OAuth2Server.Client => ({
      id: app.id,
      grants: ['authorization_code', 'client_credentials', 'refresh_token'],
      redirectUris: app.redirectUris,
      scopes: app.scopes,
    });
    return {
      getClient: async (clientId, clientSecret) => {
        const app = await run((m) => findApplication(m, clientId, clientSecret ?? undefined));
        return app ? client(app) : false;
      },
      getAuthorizationCode: async (code) => {
        const grant = await run((m) => findGrant(m, code));
        if (!grant) return false;
        return {
          authorizationCode: code,
          expiresAt: grant.expiresAt,
          redirectUri: grant.redirectUri,
          scope: grant.scopes,
          client: { id: grant.applicationId, grants: [] },
          user: { id: grant.userId },
          codeChallenge: grant.codeChallenge ?? undefined,
          codeChallengeMethod: grant.codeChallengeMethod ?? undefined,
        };
      },
      revokeAuthorizationCode: async (code) => run((m) => deleteGrant(m, code.authorizationCode)),
      saveAuthorizationCode: () => Promise.reject(new Error('codes are issued by signInAndAuthorize')),
      generateAccessToken: () => Promise.resolve(newSecret()),
      generateRefreshToken: () => Promise.resolve(newSecret()),
      saveToken: async (token, c, user) => {
        const userId = (user as { id?: string | null }).id ?? null;
        await run((m) =>
          insertToken(m, {
            accessToken: token.accessToken,
            refreshToken: token.refreshToken ?? null,
            applicationId: c.id,
            userId,
            scopes: token.scope ?? [],
          }),
        );
        return {
          ...token,
          accessTokenExpiresAt: undefined,
          refreshTokenExpiresAt: undefined,
          client: c,
          user,
        };
      },
      getAccessToken: () => Promise.resolve(false),
      getRefreshToken: async (refreshToken) => {
        const record = await run((m) => findTokenByRefreshToken(m, refreshToken));
        if (!record || record.revokedAt || record.applicationId === null) return false;
        return {
          refreshToken,
          scope: record.scopes,
          client: { id: record.applicationId, grants: [] },
          user: { id: record.userId },
        };
      },
      revokeToken: async (token) => {
        const revoked = await run((m) => revokeToken(m, token.refreshToken, null));
        if (revoked) await this.tokens.announceRevoked(revoked);
        return revoked !== null;
      },
      getUserFromClient: () => Promise.resolve({ id: null }),
      validateScope: async (_user, c, scope) => {
        const asked = parseScopes((scope ?? []).join(' '));
        const allowed = (c as { scopes?: string[] }).scopes;
        if (asked === null) return false;
        if (allowed && !scopesWithin(asked, allowed)) return false;
        return asked;
      },
      verifyScope: () => Promise.resolve(false),
    };
  }
}

interface Login {
  id: string;
  passwordHash: string | null;
  disabled: boolean;
  suspended: boolean;
}

async function findLogin(m: EntityManager, login: string): Promise<Login | null> {
  const rows = (await m.query(
    `SELECT u.id::text, u.encrypted_password, u.disabled, a.suspended_at IS NOT NULL AS suspended
       FROM users u JOIN accounts a ON a.id = u.account_id
      WHERE a.domain IS NULL AND (lower(u.email) = $1 OR lower(a.username) = $1)
      ORDER BY (lower(u.email) = $1) DESC LIMIT 1`,
    [login],
  )) as { id: string; encrypted_password: string | null; disabled: boolean; suspended: boolean }[];
  const r = rows[0];
  return r
    ? { id: r.id, passwordHash: r.encrypted_password, disabled: r.disabled, suspended: r.suspended }
    : null;
}

/** Doorkeeper's rule: an absolute URI without a fragment, or the out-of-band URN. */
export function isRedirectUri(uri: string): boolean {
  if (uri === OOB_REDIRECT_URI) return true;
  if (!URL.canParse(uri)) return false;
  const url = new URL(uri);
  return url.hash === '' && !['javascript:', 'data:', 'vbscript:', 'file:'].includes(url.protocol);
}

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol);
}

function withQuery(uri: string, params: Record<string, string | null>): string {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) if (value !== null) url.searchParams.set(key, value);
  return url.toString();
}

function errorRedirect(uri: string, error: string, description: string, state: string | null): string {
  if (uri === OOB_REDIRECT_URI) throw new AuthorizationPageError(description);
  return withQuery(uri, { error, error_description: description, state });
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 22);
}

/** The library's errors whose RFC 6749 code reaches the client; anything else is a fault of ours. */
const PASSED_ON = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
]);

/** The library's errors as ours, keeping the RFC 6749 code. */
function asProtocolError(err: unknown): unknown {
  if (err instanceof LibraryOAuthError) {
    if (!PASSED_ON.has(err.name)) return (err as { inner?: unknown }).inner ?? err;
    return new OAuthProtocolError(err.name as OAuthErrorCode, err.message);
  }
  return err;
}
