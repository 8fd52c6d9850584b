import { createHash } from 'node:crypto';
import { bearerTokenHint, hashBearerToken } from './bearer-token';
import { generateOperatorToken, isPlausibleToken, OPERATOR_TOKEN_PREFIX } from './operator-token';

describe('operator tokens', () => {
  it('are thop_ followed by 32 random bytes in base64url', () => {
    const token = generateOperatorToken();
    expect(token.startsWith(OPERATOR_TOKEN_PREFIX)).toBe(true);
    const body = token.slice(OPERATOR_TOKEN_PREFIX.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(body, 'base64url')).toHaveLength(32);
  });

  it('never repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateOperatorToken));
    expect(tokens.size).toBe(1000);
  });

  it('are stored as their SHA-256 digest, which does not contain the token', () => {
    const token = generateOperatorToken();
    const hash = hashBearerToken(token);
    expect(hash).toHaveLength(32);
    expect(hash.equals(createHash('sha256').update(token).digest())).toBe(true);
    expect(hash.equals(hashBearerToken(token))).toBe(true);
    expect(hash.equals(hashBearerToken(token + 'x'))).toBe(false);
    expect(hash.toString('utf8')).not.toContain(token);
  });

  it('are hinted by their last four characters only', () => {
    const token = generateOperatorToken();
    expect(bearerTokenHint(token)).toBe(token.slice(-4));
    expect(bearerTokenHint(token)).toHaveLength(4);
  });

  it('are checked for plausibility before any lookup', () => {
    expect(isPlausibleToken(generateOperatorToken())).toBe(true);
    expect(isPlausibleToken('a-long-enough-configured-bootstrap-token')).toBe(true);
    expect(isPlausibleToken(undefined)).toBe(false);
    expect(isPlausibleToken(['thop_x'])).toBe(false);
    expect(isPlausibleToken('short')).toBe(false);
    expect(isPlausibleToken('x'.repeat(513))).toBe(false);
    expect(isPlausibleToken('contains a space and is long')).toBe(false);
  });
});
