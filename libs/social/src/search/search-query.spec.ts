import { parseSearchQuery, SearchSyntaxError } from './search-query';

describe('parseSearchQuery (Mastodon 4.3 search syntax)', () => {
  it('reads words, phrases, hashtags and their operators', () => {
    expect(parseSearchQuery('budget +"public hearing" -draft #Roads -#old').clauses).toEqual([
      { kind: 'term', operator: 'must', text: 'budget' },
      { kind: 'phrase', operator: 'must', text: 'public hearing' },
      { kind: 'term', operator: 'must_not', text: 'draft' },
      { kind: 'tag', operator: 'must', name: 'Roads' },
      { kind: 'tag', operator: 'must_not', name: 'old' },
    ]);
  });

  it('counts typographic quotes as quotes and closes an unterminated phrase at the end', () => {
    expect(parseSearchQuery('“open data” „tax').clauses).toEqual([
      { kind: 'phrase', operator: 'must', text: 'open data' },
      { kind: 'phrase', operator: 'must', text: 'tax' },
    ]);
  });

  it('reads the filters Mastodon knows, negated with -, and the in: scope', () => {
    const parsed = parseSearchQuery(
      'from:@alice -from:bob@other.example language:de has:media -is:reply is:sensitive in:library',
    );
    expect(parsed.scope).toBe('library');
    expect(parsed.clauses).toEqual([
      { kind: 'filter', negated: false, filter: { on: 'from', acct: 'alice' } },
      { kind: 'filter', negated: true, filter: { on: 'from', acct: 'bob@other.example' } },
      { kind: 'filter', negated: false, filter: { on: 'language', code: 'de' } },
      { kind: 'filter', negated: false, filter: { on: 'has', what: 'media' } },
      { kind: 'filter', negated: true, filter: { on: 'is', what: 'reply' } },
      { kind: 'filter', negated: false, filter: { on: 'is', what: 'sensitive' } },
    ]);
    expect(parseSearchQuery('x in:public').scope).toBe('public');
    expect(parseSearchQuery('x in:everything').scope).toBe('all');
  });

  it('reads an unknown prefix as two words, as Mastodon does', () => {
    expect(parseSearchQuery('topic:housing').clauses).toEqual([
      { kind: 'term', operator: 'must', text: 'topic housing' },
    ]);
  });

  it('reads calendar days as whole UTC days and instants exactly', () => {
    const [before, after, during] = parseSearchQuery(
      'before:2024-05-02 after:2024-05-02 during:2024-05-02',
    ).clauses.map((c) => (c.kind === 'filter' ? c.filter : null));
    expect(before).toEqual({ on: 'created', before: new Date('2024-05-02T00:00:00Z') });
    expect(after).toEqual({ on: 'created', from: new Date('2024-05-03T00:00:00Z') });
    expect(during).toEqual({
      on: 'created',
      from: new Date('2024-05-02T00:00:00Z'),
      before: new Date('2024-05-03T00:00:00Z'),
    });
    const [exact] = parseSearchQuery('before:2024-05-02T10:30:00Z').clauses;
    expect(exact).toMatchObject({ filter: { before: new Date('2024-05-02T10:30:00Z') } });
    const [epoch] = parseSearchQuery('after:1714608000000').clauses;
    expect(epoch).toMatchObject({ filter: { from: new Date(1714608000001) } });
  });

  it('refuses a date filter that is not a date', () => {
    expect(() => parseSearchQuery('before:yesterday')).toThrow(SearchSyntaxError);
    expect(() => parseSearchQuery('during:2024-02-30')).toThrow(SearchSyntaxError);
  });

  it('ignores blanks and lone operators', () => {
    expect(parseSearchQuery('   ').clauses).toEqual([]);
    expect(parseSearchQuery('- + ""').clauses).toEqual([
      { kind: 'term', operator: 'must', text: '-' },
      { kind: 'term', operator: 'must', text: '+' },
    ]);
  });
});
