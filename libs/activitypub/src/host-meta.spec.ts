import { hostMetaJrd, hostMetaXrd, webfingerTemplate } from './host-meta';

describe('host-meta documents', () => {
  const endpoint = 'https://social.agency.example/.well-known/webfinger';

  it('builds the lrdd template with an unencoded {uri} variable', () => {
    expect(webfingerTemplate(endpoint)).toBe(
      'https://social.agency.example/.well-known/webfinger?resource={uri}',
    );
    expect(webfingerTemplate('http://social.agency.example:3000/.well-known/webfinger')).toBe(
      'http://social.agency.example:3000/.well-known/webfinger?resource={uri}',
    );
  });

  it('builds the XRD document', () => {
    expect(hostMetaXrd(endpoint)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n' +
        '  <Link rel="lrdd" template="https://social.agency.example/.well-known/webfinger?resource={uri}"/>\n' +
        '</XRD>\n',
    );
  });

  it('builds the JRD document', () => {
    expect(hostMetaJrd(endpoint)).toEqual({
      links: [
        { rel: 'lrdd', template: 'https://social.agency.example/.well-known/webfinger?resource={uri}' },
      ],
    });
  });

  it('escapes markup in the template attribute', () => {
    expect(hostMetaXrd('https://example.org/a"b<c>&d/webfinger')).toContain(
      'template="https://example.org/a&quot;b&lt;c&gt;&amp;d/webfinger?resource={uri}"',
    );
  });

  it('refuses endpoints that are relative, not http(s), or already carry a query', () => {
    expect(() => webfingerTemplate('/.well-known/webfinger')).toThrow();
    expect(() => webfingerTemplate('ftp://example.org/.well-known/webfinger')).toThrow();
    expect(() => webfingerTemplate(`${endpoint}?x=1`)).toThrow();
  });
});
