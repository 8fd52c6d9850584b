import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TownhallError } from './errors';
import { isPlatformPath, pathOf } from './http/platform-site';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code?: string;
  requestId?: string;
  [extension: string]: unknown;
}

const PROBLEM_BASE = 'https://townhall.dev/problems/';

/**
 * Turns every error into RFC 9457 problem details on the platform's own paths, and into Mastodon's
 * `{"error": …}` on a tenant's (see `mastodonError`). Known errors keep their code and a safe detail;
 * anything else becomes an opaque 500 that carries only the request id.
 *
 * Errors are logged by cause, not by status: a refusal the platform meant to give (a suspended tenant's
 * 503, a 404, a validation error) is routine and goes to debug without a stack, so callers cannot flood
 * the error log by asking for what is refused; only an error nobody anticipated is logged at error level
 * with its stack.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const problem = toProblem(exception);
    problem.instance = req.url?.split('?')[0];
    problem.requestId = String(req.id);
    if (isAnticipated(exception)) {
      this.logger.debug({ status: problem.status, code: problem.code, requestId: req.id }, problem.title);
    } else {
      this.logger.error({ err: exception, requestId: req.id }, 'Unhandled error');
    }
    if (reply.sent || reply.raw.headersSent) return;
    if (isPlatformPath(pathOf(req.url ?? '/'))) {
      reply
        .status(problem.status)
        .header('content-type', 'application/problem+json')
        .send(JSON.stringify(problem));
    } else {
      reply
        .status(problem.status)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(mastodonError(exception, problem)));
    }
  }
}

/**
 * Errors on a tenant's paths, where Mastodon clients are the callers: Mastodon's shape, `{"error": …}`
 * with `application/json` (an error with an OAuth code adds RFC 6749's `error_description`). The request
 * id stays in the `X-Request-Id` header.
 */
export function mastodonError(exception: unknown, problem: ProblemDetails): Record<string, string> {
  const oauth = (exception as { oauthError?: unknown } | null)?.oauthError;
  if (typeof oauth === 'string') {
    return { error: oauth, error_description: problem.detail ?? problem.title };
  }
  return { error: problem.detail ?? problem.title };
}

/**
 * Refusals the code gives on purpose — a 4xx, or a 503 for something that is unavailable by state (a
 * suspended tenant, a process not ready) — and the HTTP layer's refusals of malformed requests. A 500
 * is never anticipated, even when raised as a typed error: it marks a fault.
 */
function isAnticipated(exception: unknown): boolean {
  if (exception instanceof TownhallError) return exception.status < 500 || exception.status === 503;
  if (exception instanceof HttpException) return exception.getStatus() < 500 || exception.getStatus() === 503;
  return clientErrorStatus(exception) !== undefined;
}

export function toProblem(exception: unknown): ProblemDetails {
  if (exception instanceof TownhallError) {
    return {
      type: PROBLEM_BASE + exception.code.replace(/_/g, '-'),
      title: exception.spec.title,
      status: exception.status,
      code: exception.code,
      ...(exception.detail ? { detail: exception.detail } : {}),
      ...exception.extensions,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const problem: ProblemDetails = {
      type: status === 400 ? PROBLEM_BASE + 'validation' : 'about:blank',
      title: HttpStatus[status] ? humanize(HttpStatus[status]) : 'Error',
      status,
    };
    if (typeof body === 'object' && body !== null) {
      const message = (body as { message?: unknown }).message;
      if (Array.isArray(message)) {
        problem.title = 'Invalid request';
        problem.detail = message.join('; ');
        problem.errors = message;
      } else if (typeof message === 'string' && status < 500) {
        problem.detail = message;
      }
    } else if (typeof body === 'string' && status < 500) {
      problem.detail = body;
    }
    return problem;
  }
  const clientStatus = clientErrorStatus(exception);
  if (clientStatus !== undefined) {
    return {
      type: PROBLEM_BASE + (clientStatus === 400 ? 'malformed-body' : 'request-refused'),
      title:
        clientStatus === 400
          ? 'Malformed request body'
          : HttpStatus[clientStatus]
            ? humanize(HttpStatus[clientStatus])
            : 'Error',
      status: clientStatus,
      detail: (exception as Error).message,
    };
  }
  return {
    type: 'about:blank',
    title: 'Internal Server Error',
    status: 500,
    detail: 'An unexpected error occurred. Quote the request id when reporting it.',
  };
}

/**
 * The 4xx status of an error the HTTP server raised about the request itself — Fastify's own errors
 * (`FST_ERR_CTP_BODY_TOO_LARGE`, an unsupported media type) and a body that is not JSON — whose messages
 * describe the request and are safe to return. Undefined for anything else.
 */
function clientErrorStatus(e: unknown): number | undefined {
  if (!(e instanceof Error)) return undefined;
  const status = (e as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const code = (e as { code?: unknown }).code;
  return (typeof code === 'string' && code.startsWith('FST_')) || e instanceof SyntaxError
    ? status
    : undefined;
}

function humanize(constName: string): string {
  return constName
    .toLowerCase()
    .split('_')
    .map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w))
    .join(' ');
}
