import { createHash, randomBytes } from 'node:crypto';

/**
 * What every kind of bearer token (operator, regulator) shares. Tokens are 256 random bits (or a
 * configured secret), so a stored SHA-256 is enough: unlike a password there is nothing to guess from,
 * and no slow hash is needed.
 */
/** A new token: its kind's prefix (recognisable to secret scanners) and 32 random bytes in base64url. */
export function generateBearerToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashBearerToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The token's last four characters: enough for a person to tell tokens apart, useless to an attacker. */
export function bearerTokenHint(token: string): string {
  return token.slice(-4);
}
