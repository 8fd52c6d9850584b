import { checkText, visibleLines, visibleText } from './human-text';

const RULE = { field: 'displayName', maxLength: 10 };

describe('checkText', () => {
  it.each([
    ['Ministry', 'Ministry'],
    ['  Ministry  ', 'Ministry'],
    ['Cafe\u0301', 'Café'], // stored in NFC
    ['Behörde für Ämter'.slice(0, 10), 'Behörde fü'],
    ['وزارة', 'وزارة'], // Arabic, right to left by itself: no control needed
    ['می\u200cخواهم', 'می\u200cخواهم'], // Persian needs the zero-width non-joiner
    ['👩‍👩‍👧 Amt', '👩‍👩‍👧 Amt'], // an emoji ZWJ sequence is one character
    ['❤\ufe0f', '❤\ufe0f'], // variation selector
  ])('accepts %p as %p', (value, text) => {
    expect(checkText(value, RULE)).toEqual({ text });
  });

  it('counts characters as people see them', () => {
    expect(checkText('e\u0301'.repeat(10), RULE).text).toBe('é'.repeat(10));
    expect(checkText('🇪🇺'.repeat(10), RULE).text).toBe('🇪🇺'.repeat(10));
    expect(checkText('e'.repeat(11), RULE).problem).toBe('displayName must be 1 to 10 characters');
  });

  it.each([
    ['x\u0000', 'control characters (U+0000)'],
    ['\u001b[31mx', 'control characters (U+001B)'],
    ['x\u009b2J', 'control characters (U+009B)'],
    ['x\u007f', 'control characters (U+007F)'],
    ['a\nb', 'control characters (U+000A)'],
    ['a\tb', 'control characters (U+0009)'],
    ['x\u202e', 'bidirectional formatting characters (U+202E)'],
    ['\u2066x', 'bidirectional formatting characters (U+2066)'],
    ['x\u200f', 'bidirectional formatting characters (U+200F)'],
    ['x\u061c', 'bidirectional formatting characters (U+061C)'],
    ['a\u200bb', 'invisible, unassigned or private-use characters (U+200B)'],
    ['a\u00adb', 'invisible, unassigned or private-use characters (U+00AD)'],
    ['a\u2060b', 'invisible, unassigned or private-use characters (U+2060)'],
    ['\ufeffa', 'invisible, unassigned or private-use characters (U+FEFF)'],
    ['a\u3164', 'invisible, unassigned or private-use characters (U+3164)'], // Hangul filler
    ['a\u{e0041}', 'invisible, unassigned or private-use characters (U+E0041)'], // tag character
    ['a\u2028b', 'invisible, unassigned or private-use characters (U+2028)'],
    ['a\ue000', 'invisible, unassigned or private-use characters (U+E000)'],
    ['a\ud800', 'invisible, unassigned or private-use characters (U+D800)'], // lone surrogate
    ['a\u0378', 'invisible, unassigned or private-use characters (U+0378)'], // unassigned
  ])('refuses %p: %s', (value, why) => {
    expect(checkText(value, RULE).problem).toBe(`displayName must not contain ${why}`);
  });

  it.each([[''], ['   '], ['\u3000']])('refuses the blank %p', (value) => {
    expect(checkText(value, RULE).problem).toBe('displayName must not be blank');
  });

  it('refuses a character piled high with marks, and what is not a string', () => {
    expect(checkText(`a${'\u0301'.repeat(20)}`, RULE).problem).toMatch(/more than 16 marks/);
    expect(checkText(42, RULE).problem).toBe('displayName must be a string');
    expect(checkText('x'.repeat(100_000), RULE).problem).toBe('displayName must be 1 to 10 characters');
  });
});

describe('visibleText', () => {
  it('escapes what checkText refuses and leaves the rest alone', () => {
    expect(visibleText('Red\u001b[31m\u202e\u009b\u200b\u0000 Ämt 👩‍👩‍👧')).toBe(
      'Red\\u{1B}[31m\\u{202E}\\u{9B}\\u{200B}\\u{0} Ämt 👩‍👩‍👧',
    );
    expect(visibleText('a\nb')).toBe('a\\u{A}b');
    expect(visibleLines('a\u001b\nb')).toBe('a\\u{1B}\nb');
  });
});
