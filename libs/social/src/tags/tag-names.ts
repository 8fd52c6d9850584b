/**
 * Hashtag names as Mastodon 4.3 accepts them in its tag endpoints (`Tag::HASHTAG_NAME_RE`): word
 * characters (letters, marks, decimal digits, connector punctuation) and the separators `_`, `·`, `・`
 * and ZWNJ; either a run of word characters with at least one letter, or one that starts and ends with a
 * word character and has a letter or separator inside. Names are compared as NFKC and case-insensitively,
 * as the `tags` table's unique index on `lower(name)` does.
 */
// Single character classes, so that no character can be matched two ways (which would make a failing
// match backtrack exponentially): word, word-or-separator, letter-or-separator.
const WORD = String.raw`[\p{L}\p{M}\p{Nd}\p{Pc}]`;
const WORD_OR_SEPARATOR = String.raw`[\p{L}\p{M}\p{Nd}\p{Pc}\u00B7\u30FB\u200C]`;
const LETTER_OR_SEPARATOR = String.raw`[\p{Alphabetic}_\u00B7\u30FB\u200C]`;
const LETTER = String.raw`\p{Alphabetic}`;
const TAG_NAME = new RegExp(
  String.raw`^(?:${WORD}${WORD_OR_SEPARATOR}*${LETTER_OR_SEPARATOR}${WORD_OR_SEPARATOR}*${WORD}|${WORD}*${LETTER}${WORD}*)$`,
  'u',
);

/** The longest name accepted, as posting links at most this long a hashtag (see `hashtagsIn`). */
export const MAX_TAG_NAME_LENGTH = 100;

/** A name from a path or a form: without the leading `#`, trimmed, NFKC. */
export function tagNameFrom(raw: string): string {
  return raw.trim().replace(/^#/, '').normalize('NFKC');
}

export function isTagName(name: string): boolean {
  return name.length > 0 && [...name].length <= MAX_TAG_NAME_LENGTH && TAG_NAME.test(name);
}

/**
 * What a search for hashtags compares with names (Mastodon's HashtagNormalizer): NFKC, lower case,
 * without characters no tag name can contain.
 */
export function tagSearchTerm(query: string): string {
  return tagNameFrom(query)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}_\u00B7\u30FB\u200C]/gu, '');
}
