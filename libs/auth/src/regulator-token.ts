import { generateBearerToken } from './bearer-token';

/**
 * Regulator tokens: `thrg_` followed by 32 random bytes in base64url. A prefix of their own keeps the two
 * kinds of credential apart: the regulator strategy accepts only this exact shape, so an operator token
 * (`thop_…`, or the free-form bootstrap token) is refused before any lookup, and a regulator token is
 * unknown to the operators table. Stored like operator tokens, as SHA-256 (`hashBearerToken`).
 */
export const REGULATOR_TOKEN_PREFIX = 'thrg_';
const REGULATOR_TOKEN = /^thrg_[A-Za-z0-9_-]{43}$/;

export function generateRegulatorToken(): string {
  return generateBearerToken(REGULATOR_TOKEN_PREFIX);
}

/** Cheap check before any hashing or database lookup. */
export function isRegulatorToken(token: unknown): token is string {
  return typeof token === 'string' && REGULATOR_TOKEN.test(token);
}
