import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger as Pino } from 'pino';
import type { TownhallConfig } from './config';
import { TownhallError } from './errors';

/**
 * Structured logs: one pino logger per process, JSON in production and one readable line per entry in
 * development. Three rules keep secrets and personal data out of them, whatever a caller passes:
 * - errors are serialised field by field from a list (`serializeError`): a failed query's parameters,
 *   a driver's `detail` ("Key (admin_email)=(…) already exists") or a client library's request options
 *   never reach the log;
 * - the access log writes the path and only the query parameters that cannot carry credentials
 *   (`loggableUrl`), never headers;
 * - well-known secret fields are redacted wherever they appear in a logged object.
 */

/** The request a log line was written for, carried through the async calls of the request. */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export const RequestLogScope = {
  run<T>(requestId: string, fn: () => T): T {
    return requestScope.run({ requestId }, fn);
  },
  requestId(): string | undefined {
    return requestScope.getStore()?.requestId;
  },
};

const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'accessToken',
  'access_token',
  'secret',
];

export function createLogger(config: Pick<TownhallConfig, 'log'>, destination?: DestinationStream): Pino {
  const options: pino.LoggerOptions = {
    level: config.log.level,
    serializers: { err: serializeError, error: serializeError },
    redact: {
      paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), 'headers.*', '*.headers'],
      censor: '[redacted]',
    },
    mixin() {
      const requestId = requestScope.getStore()?.requestId;
      return requestId === undefined ? {} : { requestId };
    },
  };
  if (destination) return pino(options, destination);
  if (config.log.pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options);
}

/** Fields of a database error that name where it happened, never what data was involved. */
const DATABASE_ERROR_FIELDS = ['code', 'constraint', 'table', 'column', 'schema', 'dataType', 'routine'];

/**
 * An error as the log may show it: its class, message, stack and code, the safe fields of a database
 * error (with the SQL text but not its parameters or the driver's `detail`), a Townhall error's code and
 * status, and its causes. Nothing else of an error object is copied.
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> | unknown {
  if (!(err instanceof Error)) return typeof err === 'object' && err !== null ? '[non-error object]' : err;
  const out: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack };
  const fields = err as unknown as Record<string, unknown>;
  if (typeof fields.code === 'string' || typeof fields.code === 'number') out.code = fields.code;
  if (err instanceof TownhallError) {
    out.status = err.status;
    if (err.detail !== undefined) out.detail = err.detail;
  }
  const driver = (fields.driverError ?? (typeof fields.severity === 'string' ? err : undefined)) as
    Record<string, unknown> | undefined;
  if (driver) {
    for (const key of DATABASE_ERROR_FIELDS) {
      if (driver[key] !== undefined && driver[key] !== null) out[key] = driver[key];
    }
    if (typeof fields.query === 'string') out.query = fields.query;
  }
  if (depth < 3) {
    if (err.cause !== undefined) out.cause = serializeError(err.cause, depth + 1);
    if (err instanceof AggregateError)
      out.errors = err.errors.slice(0, 10).map((e) => serializeError(e, depth + 1));
  }
  return out;
}

/**
 * Query parameters the access log may show as they are; every other parameter's value is replaced, so a
 * token, an authorization code or a password in a URL never reaches the log.
 */
const LOGGABLE_QUERY = new Set([
  'limit',
  'max_id',
  'since_id',
  'min_id',
  'cursor',
  'status',
  'from',
  'to',
  'format',
  'after',
  'since',
  'local',
  'remote',
  'only_media',
  'exclude_replies',
  'exclude_reblogs',
  'pinned',
  'tagged',
  'type',
  'resource',
  'rel',
  'scope',
  'response_type',
  'tenant',
  'actions',
  'graceSeconds',
  'page',
]);

export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const shown = [...params]
    .map(
      ([k, v]) => `${encodeURIComponent(k)}=${LOGGABLE_QUERY.has(k) ? encodeURIComponent(v) : '[redacted]'}`,
    )
    .join('&');
  return `${url.slice(0, q)}?${shown}`;
}

/** Nest's own start-up chatter: one line per module and per route. Debug level, not info. */
const BOOT_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's logger interface over pino. Accepts Nest's call shapes (`message, context`,
 * `message, stack, context`) and pino's (`{ fields }, message`), so `new Logger(X).warn({ err }, 'msg')`
 * logs the fields, and Nest's start-up lines go to debug.
 */
export class TownhallLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    this.write(typeof context === 'string' && BOOT_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    // Nest appends the logger's context as the last argument.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    let text: string | undefined;
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      Object.assign(fields, message);
      if (typeof rest[0] === 'string') text = rest.shift() as string;
    } else if (message instanceof Error) {
      fields.err = message;
      text = message.message;
    } else {
      text = String(message);
      // Nest's `error(message, stack)`.
      if (level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n    at ')) {
        fields.stack = rest.shift();
      }
    }
    this.pino[level](fields, text);
  }
}
