import { ComplianceError } from './compliance.errors';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte string every audit entry is hashed as.
 *
 * JCS is "JSON.stringify with sorted keys" once its three rules are pinned down, and ECMAScript gives
 * two of them for free: numbers are serialised with Number::toString (which is what JSON.stringify does
 * for finite numbers, including `-0` → `0`), and strings are escaped exactly as JSON.stringify escapes
 * them. The third rule — object members sorted by their names as arrays of UTF-16 code units — is what
 * Array.prototype.sort does by default. What JSON.stringify would silently *change* (undefined dropped or
 * turned into null, NaN/Infinity into null, Dates through toJSON, Maps into `{}`) is refused here
 * instead, because a value that does not survive a round trip would hash differently after export.
 */

/** Deeper nesting than this is refused: audit details are small, and hostile input must not blow the stack. */
export const CANONICAL_JSON_MAX_DEPTH = 64;

// In a `u` regular expression a surrogate pair is one code point, so this only matches lone halves,
// which RFC 8785 §3.2.2.2 requires an implementation to reject.
const LONE_SURROGATE = /\p{Cs}/u;

/** The JCS text of `value`. Its UTF-8 encoding is the canonical byte string. */
export function canonicalJson(value: unknown): string {
  return serialize(value, 0, '$');
}

/** The JCS bytes (UTF-8) of `value`. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/**
 * JCS of a value produced by JSON.parse (so: null, booleans, finite numbers, strings, arrays and plain
 * objects only). When every object's members already come in canonical order — as in every bundle this
 * library writes — the native JSON.stringify output *is* the canonical form, and checking the order is
 * much cheaper than building the text in JavaScript. Otherwise it falls back to canonicalJson.
 */
export function canonicalJsonOfParsed(value: unknown): string {
  if (!membersInOrder(value, 0)) return canonicalJson(value);
  const text = JSON.stringify(value);
  // JSON.stringify writes a lone surrogate as an escape ("\udXXX"); JCS must refuse it instead.
  if (text.includes('\\ud')) return canonicalJson(value);
  return text;
}

function membersInOrder(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= CANONICAL_JSON_MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!membersInOrder(value[i], depth + 1)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  // Object.keys lists integer-like names first in numeric order ("2" before "10"), which is not the
  // UTF-16 order, so such objects fail this check and take the sorting path, as they must.
  const names = Object.keys(record);
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && !(names[i - 1] < names[i])) return false;
    if (!membersInOrder(record[names[i]], depth + 1)) return false;
  }
  return true;
}

function refuse(path: string, why: string): never {
  throw new ComplianceError('not_canonicalizable', `${path}: ${why}`);
}

function serializeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) refuse(path, 'string contains a lone UTF-16 surrogate');
  return JSON.stringify(value);
}

function serialize(value: unknown, depth: number, path: string): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value, path);
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return refuse(path, `${typeof value} has no JSON form`);
  }
  if (value === null) return 'null';
  if (depth >= CANONICAL_JSON_MAX_DEPTH) refuse(path, `nested deeper than ${CANONICAL_JSON_MAX_DEPTH}`);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole reads as undefined and is refused like any undefined.
      out += serialize(value[i], depth + 1, `${path}[${i}]`);
    }
    return out + ']';
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    refuse(path, `${(value as object).constructor?.name ?? 'object'} is not a plain JSON object`);
  }
  const record = value as Record<string, unknown>;
  const names = Object.keys(record).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const member = record[name];
    if (member === undefined)
      refuse(`${path}.${name}`, 'undefined has no JSON form (omit the member instead)');
    if (i > 0) out += ',';
    out += serializeString(name, path);
    out += ':';
    out += serialize(member, depth + 1, `${path}.${name}`);
  }
  return out + '}';
}
