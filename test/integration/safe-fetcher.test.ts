import dns from 'node:dns';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { fetchActivityPubObject, FetchError, SafeFetcher, SafeFetcherOptions } from '@townhall/activitypub';
import { waitFor } from '../support/wait';

/**
 * The safe fetcher against real servers on loopback. The rules run as in production — https only,
 * loopback and private addresses refused — except that the test treats exactly one loopback address,
 * 127.0.0.1, as a public server reachable over http (`testing`). 127.0.0.2 plays the private network an
 * attacker wants to reach: a server listens there too, and must never see a request.
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  origin: string;
  requests: string[];
  handle: (path: string, handler: Handler) => void;
  close: () => Promise<void>;
}

async function startServer(host: string): Promise<TestServer> {
  const handlers = new Map<string, Handler>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const handler = handlers.get(req.url ?? '');
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    requests,
    handle: (path, handler) => handlers.set(path, handler),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const AS2 = 'application/activity+json';
const json = (res: ServerResponse, body: unknown, type = AS2) =>
  res.writeHead(200, { 'content-type': type }).end(JSON.stringify(body));

describe('SafeFetcher (loopback servers)', () => {
  let site: TestServer;
  let inside: TestServer;
  let fetcher: SafeFetcher;
  const names = new Map<string, string[]>();
  let resolutions: string[] = [];

  const options = (over: Partial<SafeFetcherOptions> = {}): SafeFetcherOptions => ({
    insecure: false,
    testing: { allowHttp: true, publicAddresses: ['127.0.0.1'] },
    timeoutMs: 2000,
    maxBytes: 64 * 1024,
    maxRedirects: 3,
    resolve: async (host) => {
      resolutions.push(host);
      const answers = names.get(host);
      if (!answers?.length) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      // Each resolution takes the next answer; the last one repeats.
      const address = answers.length > 1 ? answers.shift()! : answers[0];
      return [{ address, family: 4 }];
    },
    ...over,
  });

  const refusal = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (err) {
      if (err instanceof FetchError) return err.code;
      throw err;
    }
    throw new Error('the fetch was not refused');
  };

  beforeAll(async () => {
    site = await startServer('127.0.0.1');
    inside = await startServer('127.0.0.2');
    inside.handle('/secret', (_req, res) => json(res, { id: 'secret' }));
  });

  beforeEach(() => {
    fetcher = new SafeFetcher(options());
    names.clear();
    resolutions = [];
    site.requests.length = 0;
    inside.requests.length = 0;
  });

  afterEach(() => fetcher.close());

  afterAll(async () => {
    await site?.close();
    await inside?.close();
  });

  it('fetches a document and reports the URL that answered', async () => {
    site.handle('/actor', (_req, res) => json(res, { id: `${site.origin}/actor` }));
    const res = await fetcher.get(`${site.origin}/actor`, { accept: AS2 });
    expect(res).toMatchObject({ status: 200, url: `${site.origin}/actor`, contentType: AS2 });
    expect(JSON.parse(res.body.toString())).toEqual({ id: `${site.origin}/actor` });
  });

  it('follows redirects, checking each target, up to the limit', async () => {
    site.handle('/r1', (_req, res) => res.writeHead(301, { location: '/r2' }).end());
    site.handle('/r2', (_req, res) => res.writeHead(302, { location: `${site.origin}/doc` }).end());
    site.handle('/doc', (_req, res) => json(res, { id: 'x' }));
    const res = await fetcher.get(`${site.origin}/r1`, { accept: AS2 });
    expect(res.url).toBe(`${site.origin}/doc`);
    expect(site.requests).toEqual(['/r1', '/r2', '/doc']);

    for (let i = 0; i < 5; i++) {
      site.handle(`/loop${i}`, (_req, res) => res.writeHead(307, { location: `/loop${i + 1}` }).end());
    }
    site.requests.length = 0;
    expect(await refusal(fetcher.get(`${site.origin}/loop0`, { accept: AS2 }))).toBe('too_many_redirects');
    // The first request and three redirects; the fourth redirect is not followed.
    expect(site.requests).toEqual(['/loop0', '/loop1', '/loop2', '/loop3']);
  });

  it('refuses a redirect to a loopback address, a private name, or another scheme, and sends nothing there', async () => {
    const { port } = new URL(inside.origin);
    site.handle('/to-literal', (_req, res) =>
      res.writeHead(302, { location: `${inside.origin}/secret` }).end(),
    );
    names.set('intranet.example', ['10.0.0.7']);
    site.handle('/to-name', (_req, res) =>
      res.writeHead(302, { location: `http://intranet.example:${port}/secret` }).end(),
    );
    site.handle('/to-mapped', (_req, res) =>
      res.writeHead(302, { location: `http://[::ffff:127.0.0.2]:${port}/secret` }).end(),
    );
    site.handle('/to-decimal', (_req, res) =>
      res.writeHead(302, { location: `http://2130706434:${port}/secret` }).end(),
    );
    site.handle('/to-file', (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());

    expect(await refusal(fetcher.get(`${site.origin}/to-literal`, { accept: AS2 }))).toBe(
      'forbidden_address',
    );
    expect(await refusal(fetcher.get(`${site.origin}/to-name`, { accept: AS2 }))).toBe('forbidden_address');
    expect(await refusal(fetcher.get(`${site.origin}/to-mapped`, { accept: AS2 }))).toBe('forbidden_address');
    expect(await refusal(fetcher.get(`${site.origin}/to-decimal`, { accept: AS2 }))).toBe('bad_url');
    expect(await refusal(fetcher.get(`${site.origin}/to-file`, { accept: AS2 }))).toBe('bad_url');
    expect(inside.requests).toEqual([]);
  });

  it('refuses http and loopback without the test exemption (the production rules)', async () => {
    const strict = new SafeFetcher({ ...options(), testing: undefined });
    try {
      expect(await refusal(strict.get(`${site.origin}/actor`, { accept: AS2 }))).toBe('bad_url');
      expect(await refusal(strict.get(`https://127.0.0.1:1/actor`, { accept: AS2 }))).toBe(
        'forbidden_address',
      );
      names.set('looks-public.example', ['127.0.0.1']);
      expect(await refusal(strict.get(`https://looks-public.example/actor`, { accept: AS2 }))).toBe(
        'forbidden_address',
      );
      expect(site.requests).toEqual([]);
    } finally {
      strict.close();
    }
  });

  it('resolves a name once and connects to the address it checked (DNS rebinding)', async () => {
    const { port } = new URL(site.origin);
    site.handle('/who', (_req, res) => json(res, { server: 'checked' }));
    inside.handle('/who', (_req, res) => json(res, { server: 'rebound' }));
    // The fetcher's resolver answers with the public address, then with the private one; the system
    // resolver, which the HTTP client would otherwise consult when connecting, answers private too.
    names.set('rebind.example', ['127.0.0.1', '127.0.0.2']);
    const original = dns.lookup;
    const systemAnswers: string[] = [];
    dns.lookup = ((host: string, opts: unknown, cb?: unknown) => {
      systemAnswers.push(host);
      const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
      const all = typeof opts === 'object' && opts !== null && (opts as dns.LookupOptions).all;
      process.nextTick(() =>
        all ? callback(null, [{ address: '127.0.0.2', family: 4 }]) : callback(null, '127.0.0.2', 4),
      );
    }) as typeof dns.lookup;
    try {
      const res = await fetcher.get(`http://rebind.example:${port}/who`, { accept: AS2 });
      expect(JSON.parse(res.body.toString())).toEqual({ server: 'checked' });
      expect(resolutions).toEqual(['rebind.example']);
      expect(systemAnswers).toEqual([]);
      expect(inside.requests).toEqual([]);

      // A second fetch resolves again; the name now answers with a private address and is refused.
      fetcher.close();
      fetcher = new SafeFetcher(options());
      expect(await refusal(fetcher.get(`http://rebind.example:${port}/who`, { accept: AS2 }))).toBe(
        'forbidden_address',
      );
      expect(inside.requests).toEqual([]);
    } finally {
      dns.lookup = original;
    }
  });

  it('gives up at the deadline, whether the server is silent or drips its body', async () => {
    site.handle('/silent', () => undefined);
    site.handle('/drip', (_req, res) => {
      res.writeHead(200, { 'content-type': AS2 });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    const quick = new SafeFetcher(options({ timeoutMs: 300 }));
    try {
      for (const path of ['/silent', '/drip']) {
        const started = Date.now();
        expect(await refusal(quick.get(`${site.origin}${path}`, { accept: AS2 }))).toBe('timed_out');
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(290);
        expect(elapsed).toBeLessThan(2000);
      }
    } finally {
      quick.close();
    }
  });

  it('counts the deadline across redirects, not per hop', async () => {
    const quick = new SafeFetcher(options({ timeoutMs: 400 }));
    // Each hop answers after 150 ms: every hop is within the deadline, the chain is not.
    for (let i = 0; i < 3; i++) {
      site.handle(`/slow${i}`, (_req, res) => {
        setTimeout(() => res.writeHead(302, { location: `/slow${i + 1}` }).end(), 150);
      });
    }
    site.handle('/slow3', (_req, res) => json(res, { id: 'late' }));
    try {
      expect(await refusal(quick.get(`${site.origin}/slow0`, { accept: AS2 }))).toBe('timed_out');
      expect(site.requests).not.toContain('/slow3');
    } finally {
      quick.close();
    }
  });

  it('stops reading at the byte cap, declared or streamed', async () => {
    site.handle('/declared', (_req, res) =>
      res
        .writeHead(200, { 'content-type': AS2, 'content-length': String(65 * 1024) })
        .end('x'.repeat(65 * 1024)),
    );
    let streamed = 0;
    let closedEarly = false;
    site.handle('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': AS2 });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const timer = setInterval(() => {
        streamed += chunk.length;
        res.write(chunk);
      }, 5);
      res.on('close', () => {
        closedEarly = true;
        clearInterval(timer);
      });
    });
    site.handle('/fits', (_req, res) => json(res, { pad: 'y'.repeat(60 * 1024) }));
    expect(await refusal(fetcher.get(`${site.origin}/declared`, { accept: AS2 }))).toBe('too_large');
    expect(await refusal(fetcher.get(`${site.origin}/endless`, { accept: AS2 }))).toBe('too_large');
    await waitFor(() => closedEarly, { timeoutMs: 2000, intervalMs: 10, what: 'the stream to be cut' });
    // The stream was cut soon after the cap, not read to the deadline.
    expect(streamed).toBeLessThan(1024 * 1024);
    const fits = await fetcher.get(`${site.origin}/fits`, { accept: AS2 });
    expect(fits.body.length).toBeGreaterThan(60 * 1024);
    expect(await refusal(fetcher.get(`${site.origin}/fits`, { accept: AS2, maxBytes: 1024 }))).toBe(
      'too_large',
    );
  });

  it('accepts only ActivityPub content types for ActivityPub documents', async () => {
    const actor = (type: string) => (_req: IncomingMessage, res: ServerResponse) =>
      json(res, { id: `${site.origin}/typed/${encodeURIComponent(type)}` }, type);
    const types = {
      'application/activity+json': true,
      'application/activity+json; charset=utf-8': true,
      'application/ld+json; profile="https://www.w3.org/ns/activitystreams"': true,
      'application/ld+json; charset=utf-8; profile="https://www.w3.org/ns/activitystreams"': true,
      'application/ld+json': false,
      'application/json': false,
      'text/html; charset=utf-8': false,
      'image/png': false,
    };
    for (const [type, accepted] of Object.entries(types)) {
      const path = `/typed/${encodeURIComponent(type)}`;
      site.handle(path, actor(type));
      const attempt = fetchActivityPubObject(fetcher, `${site.origin}${path}`);
      if (accepted) await expect(attempt).resolves.toMatchObject({ id: `${site.origin}${path}` });
      else expect(await refusal(attempt)).toBe('wrong_content_type');
    }
  });

  it('trusts a document’s id only when it is the URL that served it', async () => {
    site.handle('/claims-other', (_req, res) => json(res, { id: `${site.origin}/real`, name: 'forged' }));
    site.handle('/real', (_req, res) => json(res, { id: `${site.origin}/real`, name: 'real' }));
    // The object is fetched again from its own id, and what that URL says is what counts.
    await expect(fetchActivityPubObject(fetcher, `${site.origin}/claims-other`)).resolves.toEqual({
      id: `${site.origin}/real`,
      name: 'real',
    });
    site.handle('/a', (_req, res) => json(res, { id: `${site.origin}/b` }));
    site.handle('/b', (_req, res) => json(res, { id: `${site.origin}/c` }));
    expect(await refusal(fetchActivityPubObject(fetcher, `${site.origin}/a`))).toBe('bad_document');
    site.handle('/moved', (_req, res) => res.writeHead(301, { location: '/settled' }).end());
    site.handle('/settled', (_req, res) => json(res, { id: `${site.origin}/settled` }));
    await expect(fetchActivityPubObject(fetcher, `${site.origin}/moved`)).resolves.toEqual({
      id: `${site.origin}/settled`,
    });
  });

  it('signs every hop anew when asked, for the host and path of that hop', async () => {
    const seen: Array<{ url: string; signature: string | undefined }> = [];
    site.handle('/signed1', (req, res) => {
      seen.push({ url: req.url!, signature: req.headers.signature as string });
      res.writeHead(302, { location: '/signed2' }).end();
    });
    site.handle('/signed2', (req, res) => {
      seen.push({ url: req.url!, signature: req.headers.signature as string });
      json(res, { id: `${site.origin}/signed2` });
    });
    await fetcher.get(`${site.origin}/signed1`, {
      accept: AS2,
      sign: ({ method, url, headers }) => ({ signature: `${method} ${url.pathname} ${headers.host}` }),
    });
    const host = new URL(site.origin).host;
    expect(seen).toEqual([
      { url: '/signed1', signature: `GET /signed1 ${host}` },
      { url: '/signed2', signature: `GET /signed2 ${host}` },
    ]);
  });
});
