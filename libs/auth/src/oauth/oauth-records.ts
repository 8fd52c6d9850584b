import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { changedRows } from '@townhall/persistence';

/**
 * The OAuth rows of a tenant schema: applications, authorization codes and access tokens. Queries only,
 * in the caller's tenant transaction; the rules are the `OAuthService`'s. Secrets, codes and tokens are
 * stored as SHA-256: they are 256 random bits, so a stored hash gives nothing to guess from.
 */

export interface OAuthApplication {
  id: string;
  name: string;
  website: string | null;
  redirectUris: string[];
  scopes: string[];
  clientId: string;
}

export interface AccessGrant {
  applicationId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  expiresAt: Date;
}

export interface AccessTokenRecord {
  id: string;
  applicationId: string | null;
  userId: string | null;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** A new secret: 32 random bytes as base64url (43 characters, like Mastodon's tokens). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function secretHash(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

type AppRow = {
  id: string;
  name: string;
  website: string | null;
  redirect_uris: string[];
  scopes: string;
  client_id: string;
};

const app = (r: AppRow): OAuthApplication => ({
  id: r.id,
  name: r.name,
  website: r.website,
  redirectUris: r.redirect_uris,
  scopes: r.scopes.split(' '),
  clientId: r.client_id,
});

const APP_COLUMNS = `id::text, name, website, redirect_uris, scopes, client_id`;

export async function insertApplication(
  m: EntityManager,
  input: {
    name: string;
    website: string | null;
    redirectUris: string[];
    scopes: string[];
    ownerAccountId?: string;
  },
): Promise<{ application: OAuthApplication; clientSecret: string }> {
  const clientId = newSecret();
  const clientSecret = newSecret();
  const rows = (await m.query(
    `INSERT INTO oauth_applications (name, website, redirect_uris, scopes, client_id, client_secret_hash, owner_account_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${APP_COLUMNS}`,
    [
      input.name,
      input.website,
      input.redirectUris,
      input.scopes.join(' '),
      clientId,
      secretHash(clientSecret),
      input.ownerAccountId ?? null,
    ],
  )) as AppRow[];
  return { application: app(rows[0]), clientSecret };
}

/** The application with this client id; with a secret, only if the secret is its own. */
export async function findApplication(
  m: EntityManager,
  clientId: string,
  clientSecret?: string,
): Promise<OAuthApplication | null> {
  const rows = (await m.query(
    `SELECT ${APP_COLUMNS} FROM oauth_applications
      WHERE client_id = $1 AND ($2::bytea IS NULL OR client_secret_hash = $2)`,
    [clientId, clientSecret === undefined ? null : secretHash(clientSecret)],
  )) as AppRow[];
  return rows[0] ? app(rows[0]) : null;
}

export async function findApplicationById(m: EntityManager, id: string): Promise<OAuthApplication | null> {
  const rows = (await m.query(`SELECT ${APP_COLUMNS} FROM oauth_applications WHERE id = $1`, [
    id,
  ])) as AppRow[];
  return rows[0] ? app(rows[0]) : null;
}

export async function insertGrant(m: EntityManager, code: string, grant: AccessGrant): Promise<void> {
  await m.query(
    `INSERT INTO oauth_access_grants
       (code_hash, application_id, user_id, redirect_uri, scopes, code_challenge, code_challenge_method, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      secretHash(code),
      grant.applicationId,
      grant.userId,
      grant.redirectUri,
      grant.scopes.join(' '),
      grant.codeChallenge,
      grant.codeChallengeMethod,
      grant.expiresAt,
    ],
  );
}

export async function findGrant(m: EntityManager, code: string): Promise<AccessGrant | null> {
  const rows = (await m.query(
    `SELECT application_id::text, user_id::text, redirect_uri, scopes, code_challenge, code_challenge_method, expires_at
       FROM oauth_access_grants WHERE code_hash = $1`,
    [secretHash(code)],
  )) as {
    application_id: string;
    user_id: string;
    redirect_uri: string;
    scopes: string;
    code_challenge: string | null;
    code_challenge_method: string | null;
    expires_at: Date;
  }[];
  const r = rows[0];
  if (!r) return null;
  return {
    applicationId: r.application_id,
    userId: r.user_id,
    redirectUri: r.redirect_uri,
    scopes: r.scopes.split(' '),
    codeChallenge: r.code_challenge,
    codeChallengeMethod: r.code_challenge_method,
    expiresAt: r.expires_at,
  };
}

/** Removes a code; true when it was there (a code is good for one exchange only). */
export async function deleteGrant(m: EntityManager, code: string): Promise<boolean> {
  const rows = changedRows(
    await m.query(`DELETE FROM oauth_access_grants WHERE code_hash = $1 RETURNING 1`, [secretHash(code)]),
  );
  return rows.length > 0;
}

export async function insertToken(
  m: EntityManager,
  input: {
    accessToken: string;
    refreshToken: string | null;
    applicationId: string | null;
    userId: string | null;
    scopes: string[];
  },
): Promise<AccessTokenRecord> {
  const rows = (await m.query(
    `INSERT INTO oauth_access_tokens (token_hash, refresh_token_hash, application_id, user_id, scopes)
     VALUES ($1, $2, $3, $4, $5)
     RETURNING id::text, application_id::text, user_id::text, scopes, created_at, expires_at, revoked_at`,
    [
      secretHash(input.accessToken),
      input.refreshToken === null ? null : secretHash(input.refreshToken),
      input.applicationId,
      input.userId,
      input.scopes.join(' '),
    ],
  )) as TokenRow[];
  return token(rows[0]);
}

type TokenRow = {
  id: string;
  application_id: string | null;
  user_id: string | null;
  scopes: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
};

const token = (r: TokenRow): AccessTokenRecord => ({
  id: r.id,
  applicationId: r.application_id,
  userId: r.user_id,
  scopes: r.scopes.split(' '),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

const TOKEN_COLUMNS = `id::text, application_id::text, user_id::text, scopes, created_at, expires_at, revoked_at`;

export async function findTokenByRefreshToken(
  m: EntityManager,
  refreshToken: string,
): Promise<AccessTokenRecord | null> {
  const rows = (await m.query(
    `SELECT ${TOKEN_COLUMNS} FROM oauth_access_tokens WHERE refresh_token_hash = $1`,
    [secretHash(refreshToken)],
  )) as TokenRow[];
  return rows[0] ? token(rows[0]) : null;
}

/**
 * Revokes the token whose access or refresh token this is, if it belongs to the application; returns
 * the revoked token's hash (to announce), or null.
 */
export async function revokeToken(
  m: EntityManager,
  secret: string,
  applicationId: string | null,
): Promise<Buffer | null> {
  const rows = changedRows<{ token_hash: Buffer }>(
    await m.query(
      `UPDATE oauth_access_tokens SET revoked_at = coalesce(revoked_at, now())
        WHERE (token_hash = $1 OR refresh_token_hash = $1) AND ($2::bigint IS NULL OR application_id = $2)
        RETURNING token_hash`,
      [secretHash(secret), applicationId],
    ),
  );
  return rows[0]?.token_hash ?? null;
}

/** What a request's bearer token grants, as one lookup finds it. */
export interface TokenGrant {
  tokenId: string;
  applicationId: string | null;
  scopes: string[];
  /** Null for an application's own token (client credentials). */
  userId: string | null;
  accountId: string | null;
  usable: boolean;
}

export async function findTokenGrant(m: EntityManager, accessToken: string): Promise<TokenGrant | null> {
  // A token's use is noted at most once an hour (the instance's active users are counted from it): the
  // guard asks here only when its cache misses, and the note is a write only when an hour has passed.
  const rows = (await m.query(
    `WITH noted AS (
       UPDATE oauth_access_tokens SET last_used_at = now()
        WHERE token_hash = $1 AND revoked_at IS NULL
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 hour'))
     SELECT t.id::text AS token_id, t.application_id::text, t.scopes, t.user_id::text, u.account_id::text,
            (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
              AND (t.user_id IS NULL OR (NOT u.disabled AND a.suspended_at IS NULL))) AS usable
       FROM oauth_access_tokens t
       LEFT JOIN users u ON u.id = t.user_id
       LEFT JOIN accounts a ON a.id = u.account_id
      WHERE t.token_hash = $1`,
    [secretHash(accessToken)],
  )) as {
    token_id: string;
    application_id: string | null;
    scopes: string;
    user_id: string | null;
    account_id: string | null;
    usable: boolean;
  }[];
  const r = rows[0];
  if (!r) return null;
  return {
    tokenId: r.token_id,
    applicationId: r.application_id,
    scopes: r.scopes.split(' '),
    userId: r.user_id,
    accountId: r.account_id,
    usable: r.usable,
  };
}
