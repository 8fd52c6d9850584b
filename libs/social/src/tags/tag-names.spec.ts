import { isTagName, MAX_TAG_NAME_LENGTH, tagNameFrom, tagSearchTerm } from './tag-names';

describe('hashtag names (Mastodon 4.3 Tag::HASHTAG_NAME_RE)', () => {
  it('accepts names with a letter, in any script, with separators inside', () => {
    for (const name of [
      'roads',
      'Straßenbau',
      'année2024',
      '2024budget',
      'open_data',
      '東京',
      'a·b',
      'x_',
      '_x',
    ]) {
      expect(isTagName(name)).toBe(true);
    }
  });

  it('refuses digits only, punctuation, spaces, a separator at either end and overlong names', () => {
    for (const name of [
      '',
      '2024',
      'open-data',
      'open data',
      'a#b',
      '·ab',
      'ab·',
      'x'.repeat(MAX_TAG_NAME_LENGTH + 1),
    ]) {
      expect(isTagName(name)).toBe(false);
    }
    expect(isTagName('x'.repeat(MAX_TAG_NAME_LENGTH))).toBe(true);
  });

  it('answers quickly for a long name that almost matches', () => {
    const started = process.hrtime.bigint();
    expect(isTagName(`${'_'.repeat(MAX_TAG_NAME_LENGTH - 1)}!`)).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
  });

  it('reads a name from a path or form: trimmed, without #, NFKC', () => {
    expect(tagNameFrom(' #Ｒｏａｄｓ ')).toBe('Roads');
  });

  it('compares search terms in lower case without characters no tag has', () => {
    expect(tagSearchTerm('#Open Data!')).toBe('opendata');
    expect(tagSearchTerm('@')).toBe('');
  });
});
