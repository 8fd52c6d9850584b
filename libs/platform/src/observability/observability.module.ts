import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';
import { ReadinessIndicators } from './readiness.indicators';
import { TenantMetrics } from './tenant-metrics';

/**
 * Health probes (`/health/live`, `/health/ready`) and Prometheus metrics (`/metrics`) for every app
 * process, answered only on platform addresses (see `platform-site.ts`). Global so that the
 * all-in-one process that imports it from several root modules still gets one instance.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [MetricsRegistry, HttpMetrics, TenantMetrics, ReadinessIndicators],
  exports: [MetricsRegistry],
})
export class ObservabilityModule {}
