import type { FastifyInstance } from 'fastify';
import { CoreError } from '../errors';

/**
 * Ruby's JSON parser refuses documents nested deeper than 100 levels by default, so no Mastodon client
 * sends one; validation and transformation below recurse per level and would overflow the stack long
 * before a body-size limit is reached (20,000 nested arrays fit in 40 KB).
 */
export const MAX_JSON_DEPTH = 100;

/**
 * The nesting depth a JSON text would reach, counted without parsing it, stopping as soon as `limit` is
 * passed. Brackets inside strings do not count; malformed text is left for the parser to refuse.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * JSON bodies: Fastify's own parser (which refuses `__proto__` and `constructor.prototype` keys), behind
 * the depth limit. An empty body with a JSON content type is read as no body, as Rails does.
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  // The callback form: it reports through `done` and returns nothing.
  const parse = fastify.getDefaultJsonParser('error', 'error') as (
    req: unknown,
    body: string,
    done: (err: Error | null, value?: unknown) => void,
  ) => void;
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (text.length === 0 || /^\s*$/.test(text)) return done(null, undefined);
    if (jsonDepthExceeds(text)) {
      return done(
        new CoreError('bad_request', `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`),
        undefined,
      );
    }
    parse(req, text, done);
  });
}

/**
 * Form bodies (`application/x-www-form-urlencoded`), which Mastodon clients send to several endpoints:
 * a repeated key becomes an array.
 */
export function installFormBodyParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
      for (const [key, value] of new URLSearchParams(body as string)) {
        const seen = out[key];
        if (seen === undefined) out[key] = value;
        else if (Array.isArray(seen)) seen.push(value);
        else out[key] = [seen, value];
      }
      done(null, { ...out });
    },
  );
}
