/**
 * JSON as I-JSON (RFC 7493) reads it: a member named twice in one object is an error. `JSON.parse`
 * silently keeps the last of them while other parsers keep the first or refuse, so a bundle line with a
 * repeated member would say different things to different readers; the verifier refuses it instead.
 */

/**
 * The first member name that appears twice in one object of `text`, or null. `text` must be JSON that
 * `JSON.parse` accepts (this only walks its tokens, it does not validate them).
 */
export function repeatedMemberName(text: string): string | null {
  // Per open container: the names seen so far (objects) or null (arrays).
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i++;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i += 2;
        } else if (d === 0x22) {
          break;
        } else {
          i++;
        }
      }
      if (expectName) {
        // Names compare as the strings they denote: "a" and "\u0061" are one name.
        const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        const names = open[open.length - 1] as Set<string>;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
    } else if (c === 0x7b) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b) {
      open.push(null);
      expectName = false;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c) {
      expectName = open[open.length - 1] instanceof Set;
    } else if (c === 0x3a) {
      expectName = false;
    }
  }
  return null;
}

/** `text` parsed, or why it is not I-JSON for the verifier: not JSON, or a member named twice. */
export function parseStrictJson(text: string): { value: unknown } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  // Only objects can repeat a name; scalars and the common case of no repetition cost one pass.
  if (typeof value === 'object' && value !== null) {
    const repeated = repeatedMemberName(text);
    if (repeated !== null)
      return { problem: `the member ${JSON.stringify(repeated)} is named twice in one object` };
  }
  return { value };
}
