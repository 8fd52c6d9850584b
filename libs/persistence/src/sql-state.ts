import { QueryFailedError } from 'typeorm';

/** The SQLSTATE of a failed query, from a TypeORM QueryFailedError or a `pg` error alike. */
export function sqlState(err: unknown): string | undefined {
  const code =
    err instanceof QueryFailedError
      ? (err.driverError as { code?: unknown }).code
      : (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** PostgreSQL refused the login itself: 28000, no such role or it may not log in; 28P01, wrong password. */
export function isLoginRefused(err: unknown): boolean {
  const code = sqlState(err);
  return code === '28000' || code === '28P01';
}

/**
 * The rows an UPDATE or DELETE … RETURNING gave back. TypeORM answers such statements with
 * `[rows, affectedCount]` rather than the rows alone (as it does for SELECT and INSERT).
 */
export function changedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
