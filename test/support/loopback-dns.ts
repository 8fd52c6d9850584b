import dns from 'node:dns';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * Makes every host name under `.test` (RFC 2606: reserved for testing) resolve to 127.0.0.1 in this
 * process, as an /etc/hosts entry would: third-party clients then reach a tenant at its own domain
 * (`http://social.alpha.test:PORT`), sending the Host header a real client sends. Other names resolve
 * as usual. Affects `fetch` and `http` alike, since both resolve through `dns.lookup`.
 */
export function resolveTestDomainsToLoopback(): void {
  const marker = dns.lookup as typeof dns.lookup & { loopbackForTest?: true };
  if (marker.loopbackForTest) return;
  const original = dns.lookup;
  const patched = ((hostname: string, options: unknown, callback?: LookupCallback) => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as dns.LookupOptions;
    if (typeof hostname === 'string' && (hostname.endsWith('.test') || hostname === 'test')) {
      process.nextTick(() =>
        opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4),
      );
      return;
    }
    return (original as (...args: unknown[]) => void)(hostname, options, callback);
  }) as typeof dns.lookup & { loopbackForTest?: true };
  patched.loopbackForTest = true;
  dns.lookup = patched;
}
