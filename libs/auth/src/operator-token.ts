import { generateBearerToken } from './bearer-token';

/**
 * Operator tokens: `thop_` followed by 32 random bytes in base64url. The prefix makes a leaked token
 * recognisable to secret scanners. Stored as `hashBearerToken`.
 */
export const OPERATOR_TOKEN_PREFIX = 'thop_';
export const OPERATOR_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Longer than any token we accept (our own are 48 characters; the configured bootstrap token is free-form). */
export const MAX_TOKEN_LENGTH = 512;

export function generateOperatorToken(): string {
  return generateBearerToken(OPERATOR_TOKEN_PREFIX);
}

/** Cheap checks before any hashing or database lookup. */
export function isPlausibleToken(token: unknown): token is string {
  return (
    typeof token === 'string' &&
    token.length >= 16 &&
    token.length <= MAX_TOKEN_LENGTH &&
    /^[\x21-\x7e]+$/.test(token)
  );
}
