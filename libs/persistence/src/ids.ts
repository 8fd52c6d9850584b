/**
 * Townhall ids are time-sortable 64-bit integers rendered as strings, like Mastodon's: the upper 48
 * bits are milliseconds since the Unix epoch, the lower 16 a per-millisecond sequence. They are made
 * by the database function `platform.next_id()` so every process shares one sequence and two
 * processes can never mint the same id.
 */
export const NEXT_ID_SQL = 'platform.next_id()';

export function isId(value: unknown): value is string {
  return (
    typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= 9223372036854775807n
  );
}
