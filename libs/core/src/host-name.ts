import { domainToASCII, domainToUnicode } from 'node:url';
import unhomoglyph from 'unhomoglyph';

/**
 * Host names, as Townhall compares, stores and reserves them. Domains are only ever compared in the
 * canonical form: lower case, punycode, no trailing dot, no port.
 *
 * `canonicalHost` runs on every request's `Host` header, so plain ASCII names take a path with no
 * IDNA work at all, and nothing here does I/O.
 */

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const ASCII_HOST = /^[a-z0-9.-]+$/;
/**
 * What a host name may be written with before IDNA mapping: letters, combining marks, decimal digits,
 * `.` and `-`. Everything else — `%`, `/`, `?`, `#`, `@`, `\`, whitespace, controls, zero-width
 * characters, the soft hyphen — is refused here: the WHATWG host parser behind `domainToASCII` would
 * otherwise decode, cut or delete it and hand back a different, valid-looking name.
 */
const UNICODE_HOST = /^[\p{L}\p{M}\p{Nd}.-]+$/u;
/** A last label the WHATWG URL parser would read as (part of) an IPv4 address: `1.2.3.4`, `0x7f.1`. */
const NUMERIC_LAST_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;

/**
 * The canonical form of a host name: `Social.Agency.Example.:443` and `social.agency.example` are
 * one host. Undefined for anything that is not already a valid DNS host name once lower-cased and
 * IDNA-mapped (UTS #46): IP literals, URLs, percent-escapes, and any input the mapping would change by
 * deleting or splitting characters rather than by case or width alone.
 */
export function canonicalHost(raw: string | undefined | null): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 300) return undefined;
  let host = raw;
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    const port = host.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return undefined;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  const lower = host.toLowerCase();
  if (ASCII_HOST.test(lower)) return isDnsName(lower) ? lower : undefined;
  if (!UNICODE_HOST.test(lower)) return undefined;
  const ascii = domainToASCII(lower);
  // A label separator the mapping made (from `。`, `⒈`, …) is a host the caller did not write.
  if (ascii === '' || ascii.split('.').length !== lower.split('.').length) return undefined;
  return isDnsName(ascii) ? ascii : undefined;
}

function isDnsName(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.split('.');
  if (NUMERIC_LAST_LABEL.test(labels[labels.length - 1])) return false;
  return labels.every(isDnsLabel);
}

function isDnsLabel(label: string): boolean {
  if (!LABEL.test(label)) return false;
  // `ab--…` is reserved for IDNA (RFC 5891 §4.2.3.1); an `xn--` label must be the punycode of a valid
  // Unicode label, written the way IDNA itself would write it.
  if (label.slice(2, 4) !== '--') return true;
  if (!label.startsWith('xn--')) return false;
  // Node 20 decodes a label that is not punycode to '', Node 22 and later hand it back unchanged: a real
  // one decodes to something else, which encodes back to exactly the label.
  const unicode = domainToUnicode(label);
  return unicode !== '' && unicode !== label && domainToASCII(unicode) === label;
}

/** The host as people read it: punycode labels shown in their own script. */
function displayHost(canonical: string): string {
  return domainToUnicode(canonical);
}

/**
 * The UTS #39 skeleton of a canonical host: two hosts with the same skeleton look alike (`раура1` in
 * Cyrillic with a digit one and `paypal`; `rn` and `m`). Case-folded after mapping, since host names
 * are compared without case. The mapping is the Unicode confusables table, from `unhomoglyph`.
 */
export function hostSkeleton(canonical: string): string {
  return unhomoglyph(displayHost(canonical).normalize('NFD')).normalize('NFD').toLowerCase();
}

/**
 * Scripts UAX #31 recommends for identifiers. A label with a letter of any other script is refused
 * outright: those are the historic and rarely used scripts, where look-alikes go unnoticed.
 */
const RECOMMENDED_SCRIPTS = [
  'Arabic',
  'Armenian',
  'Bengali',
  'Bopomofo',
  'Cyrillic',
  'Devanagari',
  'Ethiopic',
  'Georgian',
  'Greek',
  'Gujarati',
  'Gurmukhi',
  'Han',
  'Hangul',
  'Hebrew',
  'Hiragana',
  'Kannada',
  'Katakana',
  'Khmer',
  'Lao',
  'Latin',
  'Malayalam',
  'Myanmar',
  'Oriya',
  'Sinhala',
  'Tamil',
  'Telugu',
  'Thaana',
  'Thai',
  'Tibetan',
] as const;
type Script = (typeof RECOMMENDED_SCRIPTS)[number];

const SCRIPT_OF = RECOMMENDED_SCRIPTS.map(
  (script) => [script, new RegExp(`\\p{Script_Extensions=${script}}`, 'u')] as const,
);
/** Digits, `-` and combining marks shared by every script. */
const ANY_SCRIPT = /^[\p{Script_Extensions=Common}\p{Script_Extensions=Inherited}]$/u;

/**
 * The script sets UTS #39 "moderately restrictive" allows in one label: a single script; Latin with
 * one other recommended script, except Cyrillic and Greek, whose letters pass for Latin ones; and
 * Latin with the scripts written together in Japanese, Chinese and Korean.
 */
const ALLOWED_SCRIPT_SETS: ReadonlySet<Script>[] = [
  ...RECOMMENDED_SCRIPTS.filter((s) => s !== 'Cyrillic' && s !== 'Greek').map(
    (s) => new Set<Script>(['Latin', s]),
  ),
  new Set<Script>(['Cyrillic']),
  new Set<Script>(['Greek']),
  new Set<Script>(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set<Script>(['Latin', 'Han', 'Bopomofo']),
  new Set<Script>(['Latin', 'Han', 'Hangul']),
];

/**
 * The first label of a canonical host that mixes scripts the way look-alike domains do (`pаypal` with
 * a Cyrillic `а`), or uses a script not recommended for identifiers, shown in its own script; undefined
 * when every label passes. Only for names being registered: it costs a few regular expressions per
 * character.
 */
export function mixedScriptLabel(canonical: string): string | undefined {
  return displayHost(canonical)
    .split('.')
    .find((label) => !isModeratelyRestrictive(label));
}

function isModeratelyRestrictive(label: string): boolean {
  const perCharacter: Set<Script>[] = [];
  for (const character of label) {
    if (ANY_SCRIPT.test(character)) continue;
    const scripts = new Set(SCRIPT_OF.filter(([, pattern]) => pattern.test(character)).map(([s]) => s));
    if (scripts.size === 0) return false;
    perCharacter.push(scripts);
  }
  return ALLOWED_SCRIPT_SETS.some((allowed) =>
    perCharacter.every((scripts) => [...scripts].some((s) => allowed.has(s))),
  );
}
