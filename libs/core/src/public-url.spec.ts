import { publicOrigin, publicUrl } from './public-url';

describe('public URLs', () => {
  it('is https://DOMAIN by default and omits default ports', () => {
    expect(publicOrigin({ publicUrl: { scheme: 'https', port: undefined } }, 'social.example')).toBe(
      'https://social.example',
    );
    expect(publicOrigin({ publicUrl: { scheme: 'https', port: 443 } }, 'social.example')).toBe(
      'https://social.example',
    );
    expect(publicOrigin({ publicUrl: { scheme: 'http', port: 80 } }, 'social.example')).toBe(
      'http://social.example',
    );
  });

  it('carries a non-default scheme and port into every link', () => {
    const config = { publicUrl: { scheme: 'http' as const, port: 3000 } };
    expect(publicUrl(config, 'demo.localhost', '/users/admin')).toBe(
      'http://demo.localhost:3000/users/admin',
    );
    expect(publicUrl(config, 'demo.localhost', 'actor')).toBe('http://demo.localhost:3000/actor');
  });
});
