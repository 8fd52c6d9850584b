import type { StatusRecord } from '../statuses/status-records';
import {
  type ActiveFilter,
  type FilterSummary,
  hidesIn,
  htmlAsPlainText,
  KeywordMatcher,
  matchFilters,
  searchableText,
} from './filter-matching';

const matches = (keyword: string, wholeWord: boolean, text: string): string | null =>
  new KeywordMatcher([{ keyword, wholeWord }]).find(text);

function status(id: string, fields: Partial<StatusRecord> = {}): StatusRecord {
  return {
    id,
    accountId: '1',
    uri: null,
    url: null,
    local: true,
    text: '',
    content: '',
    spoilerText: '',
    visibility: 'public',
    sensitive: false,
    language: null,
    inReplyToId: null,
    inReplyToAccountId: null,
    reblogOfId: null,
    pollId: null,
    conversationId: null,
    applicationId: null,
    repliesCount: 0,
    reblogsCount: 0,
    favouritesCount: 0,
    editedAt: null,
    deletedAt: null,
    createdAt: new Date(0),
    mentions: [],
    tags: [],
    mediaIds: [],
    ...fields,
  };
}

function filter(
  id: string,
  keywords: [string, boolean][],
  statusIds: string[] = [],
  fields: Partial<FilterSummary> = {},
): ActiveFilter {
  return {
    filter: { id, title: `Filter ${id}`, context: ['home'], action: 'warn', expiresAt: null, ...fields },
    keywords:
      keywords.length > 0
        ? new KeywordMatcher(keywords.map(([keyword, wholeWord]) => ({ keyword, wholeWord })))
        : null,
    statusIds: new Set(statusIds),
  };
}

describe('KeywordMatcher (Mastodon’s CustomFilterKeyword#to_regex, joined by Regexp.union)', () => {
  it('matches a whole word only between word boundaries, in any case', () => {
    expect(matches('test', true, 'A Test, really')).toBe('Test');
    expect(matches('test', true, 'testing')).toBeNull();
    expect(matches('test', true, 'contest')).toBeNull();
    expect(matches('test', false, 'contesting')).toBe('test');
  });

  it('puts a boundary only on a side that begins or ends with a word character', () => {
    expect(matches('#test', true, 'see a#test now')).toBe('#test');
    expect(matches('#test', true, 'see #testing')).toBeNull();
    expect(matches('c++', true, 'I write C++code')).toBe('C++');
    expect(matches('c++', true, 'objc++')).toBeNull();
  });

  it('knows words in every script, as Ruby’s \\b does', () => {
    expect(matches('café', true, 'Le café est servi')).toBe('café');
    expect(matches('café', true, 'Les cafés')).toBeNull();
    expect(matches('über', true, 'ÜBER alles')).toBe('ÜBER');
    expect(matches('東京', true, '東京都')).toBeNull();
    expect(matches('東京', false, '東京都')).toBe('東京');
  });

  it('finds the leftmost match, and there the first keyword in order that matches with its boundaries', () => {
    const matcher = new KeywordMatcher([
      { keyword: 'new', wholeWord: true },
      { keyword: 'new york', wholeWord: true },
      { keyword: 'york', wholeWord: false },
    ]);
    expect(matcher.find('I love New York')).toBe('New');
    expect(matcher.find('Newyork and newer')).toBe('york');
    const later = new KeywordMatcher([
      { keyword: 'news', wholeWord: true },
      { keyword: 'new', wholeWord: false },
    ]);
    expect(later.find('newsletter')).toBe('new');
    expect(new KeywordMatcher([{ keyword: 'x', wholeWord: true }]).find('xx x')).toBe('x');
    expect(new KeywordMatcher([{ keyword: 'x', wholeWord: true }]).find('xx')).toBeNull();
  });

  it('steps over characters outside the Basic Multilingual Plane', () => {
    expect(matches('sun', true, '😀sun😀')).toBe('sun');
    expect(matches('𝒜b', true, 'a 𝒜B c')).toBe('𝒜B');
    expect(matches('b', true, '𝒜b')).toBeNull();
  });

  it('takes the keyword as text, not as an expression', () => {
    expect(matches('a.b', false, 'axb')).toBeNull();
    expect(matches('a.b', false, 'see a.b')).toBe('a.b');
    expect(matches('(x|y)*', false, 'x')).toBeNull();
    expect(matches('https://t.co/', false, 'via https://t.co/abc')).toBe('https://t.co/');
    expect(matches('a-b /c\\d', true, 'x a-b /c\\d y')).toBe('a-b /c\\d');
  });
});

describe('matchFilters (Mastodon’s CustomFilter.apply_cached_filters)', () => {
  it('names each matching filter with the first text its keywords found', () => {
    const s = status('10', { text: 'alpha then beta' });
    const results = matchFilters(
      [
        filter('1', [
          ['beta', true],
          ['alpha', true],
        ]),
        filter('2', [['gamma', true]]),
      ],
      [s],
      new Map(),
      new Map(),
    );
    expect(results.get('10')).toEqual([
      { filter: expect.objectContaining({ id: '1' }), keywordMatches: ['alpha'], statusMatches: null },
    ]);
  });

  it('matches a reblog by the status it reblogs, by both ids, and keeps the result under both', () => {
    const original = status('20', { text: 'the secret memo' });
    const reblog = status('21', { reblogOfId: '20' });
    const results = matchFilters(
      [filter('1', [['memo', true]], ['20'])],
      [reblog],
      new Map([['20', original]]),
      new Map(),
    );
    const expected = [
      { filter: expect.objectContaining({ id: '1' }), keywordMatches: ['memo'], statusMatches: ['20'] },
    ];
    expect(results.get('21')).toEqual(expected);
    expect(results.get('20')).toEqual(expected);
  });

  it('looks in the content warning and the media descriptions; a remote status in its HTML as text', () => {
    const media = new Map([['30', [{ description: 'a chart of the budget' }]]]) as never;
    const withMedia = status('30', { text: 'nothing', spoilerText: 'cw' });
    const remote = status('31', { local: false, content: '<p>Tax &amp; spend</p>' });
    const results = matchFilters(
      [
        filter('1', [
          ['budget', true],
          ['tax & spend', false],
        ]),
      ],
      [withMedia, remote],
      new Map(),
      media,
    );
    expect(results.get('30')![0].keywordMatches).toEqual(['budget']);
    expect(results.get('31')![0].keywordMatches).toEqual(['Tax & spend']);
    expect(searchableText(withMedia, [])).toBe('cw\n\nnothing\n\n');
  });

  it('matches nothing without filters, and a filter of statuses only by id', () => {
    expect(matchFilters([], [status('40', { text: 'x' })], new Map(), new Map()).size).toBe(0);
    const results = matchFilters(
      [filter('1', [], ['41'])],
      [status('40'), status('41')],
      new Map(),
      new Map(),
    );
    expect([...results.keys()]).toEqual(['41']);
    expect(results.get('41')![0]).toMatchObject({ keywordMatches: null, statusMatches: ['41'] });
  });
});

describe('hidesIn', () => {
  it('is true only for a hide filter of the context asked about', () => {
    const result = (action: 'warn' | 'hide' | 'blur', context: string[]) => ({
      filter: { id: '1', title: 't', context, action, expiresAt: null },
      keywordMatches: ['x'],
      statusMatches: null,
    });
    expect(hidesIn([result('hide', ['home'])], 'home')).toBe(true);
    expect(hidesIn([result('hide', ['home'])], 'public')).toBe(false);
    expect(hidesIn([result('warn', ['home']), result('blur', ['home'])], 'home')).toBe(false);
    expect(hidesIn(undefined, 'home')).toBe(false);
  });
});

describe('htmlAsPlainText', () => {
  it('reads paragraphs and line breaks as new lines, drops tags and reads entities', () => {
    expect(
      htmlAsPlainText('<p>a &amp; b<br />c &#233;&#x263A;</p><p><a href="x">d</a> &lt;e&gt; &bogus;</p>'),
    ).toBe('a & b\nc é☺\n\nd <e> &bogus;');
  });
});
