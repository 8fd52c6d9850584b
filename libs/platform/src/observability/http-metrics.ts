import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';

/** The label for requests no route matched (unknown paths, probes for files that are not there). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Request counts and latencies by method, route template and status. Labels are bounded on purpose:
 * the route is the template Express matched (`/users/:username`), never the raw path or the `Host`,
 * so neither tenants nor callers can grow the series without limit.
 */
@Injectable()
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: MetricsRegistry) {
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  observe(req: Request, res: Response, seconds: number): void {
    const labels = {
      method: methodLabel(req.method),
      route: routeTemplate(req),
      status: String(res.statusCode),
    };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}

/** Mounted before every other middleware (its module is global), so it also sees requests they reject. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: HttpMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      this.metrics.observe(req, res, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  }
}

export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return METHODS.has(upper) ? upper : 'OTHER';
}

/** Catch-all templates (`/{*path}`, `/*path`) under which Nest mounts middleware for every request. */
const CATCH_ALL = /^\/?(\{\*\w*\}|\*\w*)$/;

/**
 * The template of the last route Express matched for this request. A request rejected by
 * route-bound middleware (for example the tenant resolver) still carries the route that middleware
 * was bound to; one that only passed catch-all middleware (logging, these metrics) matched nothing.
 */
export function routeTemplate(req: Pick<Request, 'route' | 'baseUrl'>): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route === undefined || typeof route.path !== 'string' || CATCH_ALL.test(route.path))
    return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ''}${route.path}` || '/';
}
