import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';

/** The label for requests no route matched (unknown paths, probes for files that are not there). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Request counts and latencies by method, route template and status. Labels are bounded on purpose:
 * the route is the template the router matched (`/users/:username`), never the raw path or the `Host`,
 * so neither tenants nor callers can grow the series without limit. Observed in a Fastify `onResponse`
 * hook, so requests refused before any handler ran (an unknown host, a rate limit) are counted too.
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(
    registry: MetricsRegistry,
    private readonly adapterHost: HttpAdapterHost,
  ) {
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

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (fastify?.addHook === undefined) return;
    fastify.addHook('onResponse', (request, reply, done) => {
      this.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  observe(method: string, route: string | undefined, status: number, seconds: number): void {
    const labels = { method: methodLabel(method), route: routeLabel(route), status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}

export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return METHODS.has(upper) ? upper : 'OTHER';
}

/** The route template, or `unmatched` when no route matched (Fastify's not-found handler has none). */
export function routeLabel(template: string | undefined): string {
  return typeof template === 'string' && template.length > 0 ? template : UNMATCHED_ROUTE;
}
