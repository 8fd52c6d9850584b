import { html, htmlAsText, trustedHtml } from './html';
import { pageLanguage } from './page-locales';

describe('html templates', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const name = `"><script>alert('x')</script>&`;
    expect(html`<a title="${name}">${name}</a>`.value).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">' +
        '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>',
    );
  });

  it('nests templates without escaping them twice, joins lists and drops empty values', () => {
    const items = ['a<b', 'c'].map((t) => html`<li>${t}</li>`);
    expect(
      html`<ul>
          ${items}
        </ul>
        ${null}${undefined}${false}${0}`.value.replace(/\s+/g, ''),
    ).toBe('<ul><li>a&lt;b</li><li>c</li></ul>0');
  });

  it('uses markup as it is only when vouched for', () => {
    expect(html`${trustedHtml('<p>ok</p>')}${'<p>no</p>'}`.value).toBe('<p>ok</p>&lt;p&gt;no&lt;/p&gt;');
  });

  it('reads HTML from elsewhere as text, which is then escaped', () => {
    const text = htmlAsText('<p>One &amp; <b>two</b><br>three</p><p><script>x</script>&lt;img&gt;</p>');
    expect(text).toBe('One & two\nthree\n\nx<img>');
    expect(html`${text}`.value).not.toContain('<img>');
  });
});

describe('pageLanguage', () => {
  it.each([
    [undefined, 'en', 'en'],
    ['de-AT,de;q=0.9', 'en', 'de'],
    ['es, nl;q=0.5, fr;q=0.7', 'en', 'fr'],
    ['fr;q=0, nl', 'en', 'nl'],
    ['*', 'de', 'de'],
    ['ja', 'de', 'de'],
    ['ja', 'xx', 'en'],
    ['NL-be', 'en', 'nl'],
  ])('Accept-Language %p with default %s is %s', (header, fallback, expected) => {
    expect(pageLanguage(header, fallback)).toBe(expected);
  });
});
