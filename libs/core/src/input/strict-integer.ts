/**
 * The one way Townhall reads an integer from text a caller typed: a query parameter, a path segment, a
 * command-line option, an environment variable. Decimal digits only, no sign, no leading zero, no
 * spaces, exponent or hex, and no more than a double holds exactly. `Number()` and `parseInt` read `""`
 * as 0, `" 5"` as 5, `1e3` as 1000 and `0x10` as 16; an empty `graceSeconds=` once meant "drop now".
 */
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** The integer `text` spells, or undefined when it is anything but plain decimal digits. */
export function parseStrictInteger(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
