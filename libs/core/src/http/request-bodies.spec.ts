import { jsonDepthExceeds, railsParams } from './request-bodies';

describe('request bodies', () => {
  it('reads form field names as Rails does', () => {
    const form = new URLSearchParams(
      'status=Hello&media_ids[]=1&media_ids[]=2&poll[options][]=a&poll[options][]=b&poll[expires_in]=60&sensitive=true&sensitive=false',
    );
    expect(railsParams(form)).toEqual({
      status: 'Hello',
      media_ids: ['1', '2'],
      poll: { options: ['a', 'b'], expires_in: '60' },
      sensitive: 'false',
    });
  });

  it('reads arrays of objects as Rails does: a key the last object has starts the next one', () => {
    const form = new URLSearchParams(
      'media_attributes[][id]=1&media_attributes[][description]=A&media_attributes[][id]=2&media_attributes[][focus]=0,0',
    );
    expect(railsParams(form)).toEqual({
      media_attributes: [
        { id: '1', description: 'A' },
        { id: '2', focus: '0,0' },
      ],
    });
  });

  it('drops names that would reach prototypes, and shapes it does not take', () => {
    const parsed = railsParams(
      new URLSearchParams(
        '__proto__[admin]=1&a[constructor][prototype][x]=1&list[][b][c]=2&l[][__proto__]=1&ok=1&bad]=3',
      ),
    );
    expect(parsed).toEqual({ ok: '1' });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('measures JSON nesting without parsing, ignoring brackets in strings', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[[[","b":"\\\\"}', 1)).toBe(false);
    expect(jsonDepthExceeds('['.repeat(20_000) + ']'.repeat(20_000))).toBe(true);
  });
});
