import { parseVerifierKey, type NoteVerifierKey } from './signed-note';

/**
 * What `--witness` (audit verify) and `--log` (witness) take: a verifier key itself, or the name of a
 * file of them, one a line (blank lines and lines starting with "#" are skipped). Both commands read
 * their options with `splitOption`.
 */

/** Whether a value is meant as a vkey rather than a file name. */
export function looksLikeVerifierKey(value: string): boolean {
  return /^[^\s+]+\+[0-9A-Fa-f]{8}\+/.test(value);
}

/**
 * The keys a value names, of the given signature types. Throws an Error whose message names the
 * value and what is wrong with it (a file that cannot be read, holds no key, or a key that is not one).
 */
export async function readVerifierKeys(
  value: string,
  types: readonly number[],
  readFile: (path: string) => Promise<string>,
): Promise<NoteVerifierKey[]> {
  const inline = looksLikeVerifierKey(value);
  let text = value;
  if (!inline) {
    try {
      text = await readFile(value);
    } catch (err) {
      throw new Error(`${value}: not a verifier key, and not a file that can be read (${message(err)})`, {
        cause: err,
      });
    }
  }
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  if (lines.length === 0) throw new Error(`${value}: the file holds no verifier key`);
  try {
    return lines.map((line) => parseVerifierKey(line, types));
  } catch (err) {
    throw new Error(inline ? message(err) : `${value}: ${message(err)}`, { cause: err });
  }
}

/** `--flag=value` as the flag and its value; anything else as itself with no value. */
export function splitOption(arg: string): [string, string | null] {
  const equals = arg.indexOf('=');
  return arg.startsWith('--') && equals !== -1 ? [arg.slice(0, equals), arg.slice(equals + 1)] : [arg, null];
}

function message(err: unknown): string {
  const detail = (err as { detail?: unknown } | null)?.detail;
  if (typeof detail === 'string') return detail;
  return err instanceof Error ? err.message : String(err);
}
