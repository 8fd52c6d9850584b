import { isUtf8 } from 'node:buffer';
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether bytes [start, end) of `bytes` — a text JSON.parse accepts — are exactly the JCS form of the
 * value they encode: valid UTF-8, no whitespace, members in order (so no name twice), strings escaped
 * and numbers written as JCS writes them. One pass over the bytes, no strings built, so the verifier can
 * take a stated leaf hash over bytes it has only parsed.
 *
 * Sound, not complete: true only for canonical text; false also for some canonical text it leaves to
 * `canonicalJsonOfParsed` (member names with escapes or non-ASCII characters, which order by UTF-16 code
 * units rather than bytes).
 */
export function isCanonicalJsonBytes(bytes: Uint8Array, start: number, end: number): boolean {
  // Per open container: whether it is an object, and the [start, end) of its last member name.
  const isObject: boolean[] = [];
  const nameStart: number[] = [];
  const nameEnd: number[] = [];
  let expectName = false;
  let nonAscii = false;
  let i = start;
  while (i < end) {
    const c = bytes[i];
    if (c === 0x7b || c === 0x5b) {
      // canonicalJson refuses deeper nesting, so such text has no canonical form.
      if (isObject.length >= CANONICAL_JSON_MAX_DEPTH) return false;
      isObject.push(c === 0x7b);
      nameStart.push(-1);
      nameEnd.push(-1);
      expectName = c === 0x7b;
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      isObject.pop();
      nameStart.pop();
      nameEnd.pop();
      expectName = false;
      i++;
    } else if (c === 0x2c) {
      expectName = isObject[isObject.length - 1] === true;
      i++;
    } else if (c === 0x3a) {
      expectName = false;
      i++;
    } else if (c === QUOTE) {
      const from = ++i;
      let escaped = false;
      let wide = false;
      for (;;) {
        if (i >= end) return false;
        const d = bytes[i];
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          escaped = true;
          const e = bytes[i + 1];
          // \" \\ \b \f \n \r \t, the short forms JCS uses.
          if (
            e === QUOTE ||
            e === BACKSLASH ||
            e === 0x62 ||
            e === 0x66 ||
            e === 0x6e ||
            e === 0x72 ||
            e === 0x74
          ) {
            i += 2;
            continue;
          }
          // \u00xx (lower-case hex) only for a control character without a short form.
          if (e !== 0x75 || bytes[i + 2] !== 0x30 || bytes[i + 3] !== 0x30) return false;
          const high = bytes[i + 4];
          const low = bytes[i + 5];
          const lowValue =
            low >= 0x30 && low <= 0x39 ? low - 0x30 : low >= 0x61 && low <= 0x66 ? low - 0x57 : -1;
          if ((high !== 0x30 && high !== 0x31) || lowValue < 0) return false;
          const code = (high - 0x30) * 16 + lowValue;
          if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) return false;
          i += 6;
          continue;
        }
        if (d >= 0x80) wide = true;
        i++;
      }
      if (wide) nonAscii = true;
      if (expectName) {
        if (escaped || wide) return false;
        const top = nameStart.length - 1;
        if (nameStart[top] >= 0 && compareBytes(bytes, nameStart[top], nameEnd[top], from, i) >= 0)
          return false;
        nameStart[top] = from;
        nameEnd[top] = i;
        expectName = false;
      }
      i++;
    } else if (c === 0x74 || c === 0x6e) {
      i += 4; // true, null (JSON.parse accepted the text)
    } else if (c === 0x66) {
      i += 5; // false
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const from = i++;
      while (i < end) {
        const d = bytes[i];
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)
          i++;
        else break;
      }
      if (!isCanonicalNumber(bytes, from, i)) return false;
    } else {
      return false; // whitespace
    }
  }
  return !nonAscii || isUtf8(bytes.subarray(start, end));
}

/** Bytes [a, aEnd) against [b, bEnd) of the same array, lexicographically. */
function compareBytes(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let k = 0; k < n; k++) {
    const diff = bytes[a + k] - bytes[b + k];
    if (diff !== 0) return diff;
  }
  return aEnd - a - (bEnd - b);
}

/** A number token as Number::toString writes its value: short integers at once, the rest by round trip. */
function isCanonicalNumber(bytes: Uint8Array, from: number, to: number): boolean {
  let digits = from;
  if (bytes[digits] === 0x2d) digits++;
  const length = to - digits;
  let plainInteger = length > 0 && length <= 15;
  for (let k = digits; plainInteger && k < to; k++) plainInteger = bytes[k] >= 0x30 && bytes[k] <= 0x39;
  if (plainInteger) {
    // No leading zero; "0" alone is canonical, "-0" is not (JCS writes 0).
    if (bytes[digits] === 0x30) return length === 1 && digits === from;
    return true;
  }
  const token = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
  return String(Number(token)) === token;
}
