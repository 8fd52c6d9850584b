import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * The response headers helmet sets, computed once. helmet's defaults are static (no per-request nonce),
 * so running its middleware for every request only rebuilds the same dozen headers; here it runs once
 * against a recorder, and each request gets the recorded set in one call. helmet stays the authority on
 * what the headers are and how they are spelled.
 */
export function securityHeaders(options?: Parameters<typeof helmet>[0]): Readonly<Record<string, string>> {
  const recorded: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      recorded[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete recorded[name.toLowerCase()];
    },
  } as unknown as ServerResponse;
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return Object.freeze(recorded);
}
