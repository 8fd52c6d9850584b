// No imports: the offline audit verifier loads this file alone (`@townhall/core/text`).

/**
 * The one rule for text people type for other people to read — a tenant's display name (published as
 * its instance's title), a suspension reason, a regulator's name — and the one way the CLI shows
 * stored text on a terminal.
 *
 * Text is stored in Unicode NFC, without surrounding white space, and may not contain:
 * - control characters (C0, DEL, C1): a NUL is refused by PostgreSQL, ESC and CSI steer terminals,
 *   and none belongs in a name. No field takes several lines yet, so line breaks are refused too;
 * - bidirectional formatting characters (embeddings, overrides, isolates, marks), which reorder how a
 *   name is displayed ("Bank\u202Elivé" reads "Bankévil");
 * - other invisible formatting (zero-width space, soft hyphen, word joiner, tag characters, …), line
 *   and paragraph separators, private-use, unassigned and surrogate code points. The zero-width joiner
 *   and non-joiner and the variation selectors stay allowed: Persian, Indic scripts and emoji need them.
 * Length is counted in grapheme clusters — characters as people see them — so "é" typed as e + ◌́
 * counts once, and a cluster may not pile up more than 16 code points.
 */

export interface TextRule {
  /** How error messages name the field: `displayName`, `reason`. */
  field: string;
  /** At most this many characters as people see them (grapheme clusters). */
  maxLength: number;
}

export type TextCheck = { text: string; problem?: undefined } | { problem: string; text?: undefined };

const ALLOWED_INVISIBLE = '\\u200C\\u200D\\u180B-\\u180D\\u180F\\uFE00-\\uFE0F\\u{E0100}-\\u{E01EF}';
const CONTROL = /\p{Cc}/u;
const BIDI = /\p{Bidi_Control}/u;
// The class lists joiners and variation selectors one by one, as code points: that is the point.
const INVISIBLE = new RegExp(
  // eslint-disable-next-line no-misleading-character-class
  `[\\p{Cs}\\p{Co}\\p{Cn}\\p{Zl}\\p{Zp}]|(?![${ALLOWED_INVISIBLE}])[\\p{Cf}\\p{Default_Ignorable_Code_Point}]`,
  'u',
);
/** Every character `checkText` refuses, for showing them visibly. */
// eslint-disable-next-line no-misleading-character-class
const REFUSED = new RegExp(`${CONTROL.source}|${BIDI.source}|${INVISIBLE.source}`, 'gu');
const MAX_CODE_POINTS_PER_CHARACTER = 16;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** `value` checked against `rule`: the text to store (NFC, trimmed), or what is wrong with it. */
export function checkText(value: unknown, rule: TextRule): TextCheck {
  const { field, maxLength } = rule;
  if (typeof value !== 'string') return { problem: `${field} must be a string` };
  // A bounded amount of work whatever the caller sends: no legitimate value is this long.
  if (value.length > maxLength * MAX_CODE_POINTS_PER_CHARACTER * 2) {
    return { problem: `${field} must be 1 to ${maxLength} characters` };
  }
  for (const [pattern, kind] of [
    [CONTROL, 'control characters'],
    [BIDI, 'bidirectional formatting characters'],
    [INVISIBLE, 'invisible, unassigned or private-use characters'],
  ] as const) {
    const found = pattern.exec(value);
    if (found) return { problem: `${field} must not contain ${kind} (${codePointName(found[0])})` };
  }
  const text = value.normalize('NFC').trim();
  if (text === '') return { problem: `${field} must not be blank` };
  let count = 0;
  for (const { segment } of graphemes.segment(text)) {
    count += 1;
    if (count > maxLength) return { problem: `${field} must be 1 to ${maxLength} characters` };
    if ([...segment].length > MAX_CODE_POINTS_PER_CHARACTER) {
      return {
        problem: `${field} must not stack more than ${MAX_CODE_POINTS_PER_CHARACTER} marks on a character`,
      };
    }
  }
  return { text };
}

/** `U+001B`, as Unicode names a code point. */
export function codePointName(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * `text` with every character `checkText` refuses written as a visible escape (`\u{1B}`, or what
 * `escape` makes of it), so stored or echoed text can neither steer a terminal nor hide or reorder what
 * an operator reads.
 */
export function visibleText(text: string, escape: (character: string) => string = unicodeEscape): string {
  return text.replace(REFUSED, escape);
}

function unicodeEscape(character: string): string {
  return `\\u{${character.codePointAt(0)!.toString(16).toUpperCase()}}`;
}

/** `visibleText` of each line: line breaks stay, everything else refused is escaped. */
export function visibleLines(text: string): string {
  return text
    .split('\n')
    .map((line) => visibleText(line))
    .join('\n');
}
