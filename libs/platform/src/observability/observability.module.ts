import { Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HttpMetrics, HttpMetricsMiddleware } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';
import { ReadinessIndicators } from './readiness.indicators';
import { TenantMetrics } from './tenant-metrics';

/**
 * Health probes (`/health/live`, `/health/ready`) and Prometheus metrics (`/metrics`) for every app
 * process. Platform-wide, never behind the tenant resolver. Global so that Nest mounts its request
 * metrics middleware ahead of every feature module's middleware, and so the all-in-one process that
 * imports it from several root modules still gets one instance.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [MetricsRegistry, HttpMetrics, HttpMetricsMiddleware, TenantMetrics, ReadinessIndicators],
  exports: [MetricsRegistry],
})
export class ObservabilityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
