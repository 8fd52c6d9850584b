import Busboy, { type BusboyHeaders } from '@fastify/busboy';
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
 * Rails' reading of form field names, which Mastodon clients rely on: `media_ids[]=1&media_ids[]=2` is
 * an array, `poll[options][]=a` a nested object with an array, `poll[expires_in]=60` a nested value. A
 * name repeated without brackets keeps its last value, as Rails does. Nesting is bounded.
 */
export function railsParams(
  entries: Iterable<[string, unknown]>,
  repeated: 'last' | 'array' = 'last',
): Record<string, unknown> {
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of entries) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\]){0,4})$/.exec(name);
    if (!match) continue;
    const keys = [match[1], ...[...match[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1])];
    const append = keys[keys.length - 1] === '';
    if (append) keys.pop();
    if (keys.length === 3 && keys[1] === '' && !append && isSafeKey(keys[0]) && isSafeKey(keys[2])) {
      // `a[][b]=1&a[][c]=2&a[][b]=3` is an array of objects (Mastodon's `media_attributes[][id]`): as in
      // Rails, a key the last object already has starts the next one.
      const [name, , key] = keys;
      const list = Array.isArray(root[name]) ? (root[name] as Record<string, unknown>[]) : [];
      root[name] = list;
      let last = list[list.length - 1];
      if (last === undefined || typeof last !== 'object' || last === null || key in last) {
        last = Object.create(null) as Record<string, unknown>;
        list.push(last);
      }
      last[key] = value;
      continue;
    }
    // Other shapes with an empty key (`a[][b][c]`) are not ones Mastodon's API takes; they are dropped.
    if (keys.some((key) => key === '' || key === '__proto__' || key === 'constructor' || key === 'prototype'))
      continue;
    let node = root;
    for (const key of keys.slice(0, -1)) {
      const child = node[key];
      if (typeof child !== 'object' || child === null || Array.isArray(child)) {
        node[key] = Object.create(null) as Record<string, unknown>;
      }
      node = node[key] as Record<string, unknown>;
    }
    const leaf = keys[keys.length - 1];
    if (append) {
      const list = Array.isArray(node[leaf]) ? (node[leaf] as unknown[]) : [];
      list.push(value);
      node[leaf] = list;
    } else if (repeated === 'array' && leaf in node) {
      const seen = node[leaf];
      node[leaf] = Array.isArray(seen) ? [...(seen as unknown[]), value] : [seen, value];
    } else {
      node[leaf] = value;
    }
  }
  return plain(root) as Record<string, unknown>;
}

function isSafeKey(key: string): boolean {
  return key !== '' && key !== '__proto__' && key !== 'constructor' && key !== 'prototype';
}

/** Objects with a normal prototype again (the null-prototype ones kept `__proto__` harmless while building). */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * Form bodies (`application/x-www-form-urlencoded`), which Mastodon clients send to several endpoints,
 * read with Rails' conventions (`railsParams`).
 */
export function installFormBodyParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      done(null, railsParams(new URLSearchParams(body as string)));
    },
  );
}

/** A file a client uploaded in a multipart body. */
export interface UploadedFile {
  filename: string;
  /** What the client said it is; never trusted for anything but a hint (media sniff their content). */
  declaredType: string;
  data: Buffer;
}

export function isUploadedFile(value: unknown): value is UploadedFile {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as UploadedFile).data);
}

/** The largest file a multipart body may carry (Mastodon's video limit is 99 MiB). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/**
 * Multipart bodies (`multipart/form-data`), which Mastodon clients use for media, profile pictures and
 * some OAuth calls, parsed by busboy as a content-type parser — so nothing runs for the other requests —
 * bounded in files, fields and sizes, its fields read with Rails' conventions like a form's and its files
 * as `UploadedFile`s (in memory, up to MAX_UPLOAD_BYTES).
 */
export function installMultipartParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    let finished = false;
    const finish = (err: Error | null, body?: unknown) => {
      if (finished) return;
      finished = true;
      done(err, body);
    };
    const refused = (message: string, statusCode = 400) => {
      payload.unpipe();
      payload.resume();
      finish(Object.assign(new Error(message), { statusCode, code: 'FST_ERR_CTP_INVALID_MULTIPART' }));
    };
    let parser: InstanceType<typeof Busboy>;
    try {
      parser = new Busboy({
        headers: request.headers as BusboyHeaders,
        limits: { fileSize: MAX_UPLOAD_BYTES, files: 4, fields: 200, fieldSize: 1024 * 1024, parts: 210 },
      });
    } catch (err) {
      return refused((err as Error).message);
    }
    const entries: [string, unknown][] = [];
    const files: Promise<void>[] = [];
    parser.on('field', (name: string, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
      if (valueTruncated) return refused(`The field ${name} is too long.`, 413);
      entries.push([name, value]);
    });
    parser.on(
      'file',
      (
        name: string,
        stream: NodeJS.ReadableStream,
        filename: string,
        _encoding: string,
        mimetype: string,
      ) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('limit', () => refused('The file is too large.', 413));
        files.push(
          new Promise((resolve) =>
            stream.on('end', () => {
              entries.push([
                name,
                { filename, declaredType: mimetype, data: Buffer.concat(chunks) } satisfies UploadedFile,
              ]);
              resolve();
            }),
          ),
        );
      },
    );
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit']) {
      parser.on(limit, () => refused('The form has too many parts.', 413));
    }
    parser.on('error', (err: Error) => refused(err.message));
    parser.on('finish', () => {
      Promise.all(files).then(
        () => finish(null, railsParams(entries)),
        (err: Error) => finish(err),
      );
    });
    payload.on('error', (err: Error) => finish(err));
    payload.pipe(parser);
  });
}

/**
 * Query strings, read with Rails' bracket conventions (`id[]=1&id[]=2`, which Mastodon clients send), but
 * a name repeated without brackets stays a list, so the platform's APIs can refuse it as ambiguous.
 */
export function parseQueryString(query: string): Record<string, unknown> {
  return railsParams(new URLSearchParams(query), 'array');
}
