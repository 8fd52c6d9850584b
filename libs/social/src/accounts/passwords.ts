import { hash, verify } from '@node-rs/argon2';

/**
 * Login passwords, hashed with Argon2id at the library's defaults (19 MiB, 2 iterations: OWASP's
 * recommended minimum), each with its own salt. A missing hash (an account that never had a password)
 * never verifies, and takes as long as a real check, so timing does not tell which accounts exist.
 */
const DUMMY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$n3Hd6XJzVgC7mVqT8m5M5z3S1oV3rR1pZ8tC2dQ5b3k';

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  try {
    const ok = await verify(stored ?? DUMMY_HASH, password);
    return stored !== null && ok;
  } catch {
    return false;
  }
}
