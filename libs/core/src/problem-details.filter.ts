import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { TownhallError } from './errors';
import { requestIdFor } from './logging';

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
 * Turns every error into RFC 9457 problem details. Known errors keep their code and a safe detail;
 * anything else becomes an opaque 500 that carries only the request id, and is logged in full.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    // Errors raised before the logging middleware ran (a malformed JSON body) still get a request id.
    if (req.id === undefined && !res.headersSent) req.id = requestIdFor(req, res);
    const problem = toProblem(exception);
    problem.instance = req.originalUrl?.split('?')[0];
    if (req.id !== undefined) problem.requestId = String(req.id);
    if (problem.status >= 500) {
      this.logger.error({ err: exception, requestId: req.id }, 'Unhandled error');
    }
    if (res.headersSent) return;
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
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
  if (isBodyParserError(exception)) {
    return {
      type: PROBLEM_BASE + 'malformed-body',
      title: 'Malformed request body',
      status: exception.status,
      detail: exception.expose ? exception.message : undefined,
    };
  }
  return {
    type: 'about:blank',
    title: 'Internal Server Error',
    status: 500,
    detail: 'An unexpected error occurred. Quote the request id when reporting it.',
  };
}

function isBodyParserError(e: unknown): e is { status: number; expose: boolean; message: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    (e as { status: number }).status >= 400 &&
    (e as { status: number }).status < 500 &&
    'expose' in e
  );
}

function humanize(constName: string): string {
  return constName
    .toLowerCase()
    .split('_')
    .map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w))
    .join(' ');
}
