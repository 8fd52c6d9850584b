import { Controller, Get, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ObservabilityError } from './observability.errors';
import { ReadinessIndicators } from './readiness.indicators';

/**
 * Probes for orchestrators and load balancers. Platform-wide: answered on any host, never resolved to
 * a tenant, so a broken registry cannot take the probes down with it.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: ReadinessIndicators,
  ) {}

  /** The process is up and its event loop answers; deliberately checks nothing else. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready to take traffic: PostgreSQL and Redis answer, every schema is migrated and the application
   * can use every serving tenant schema. 503 otherwise.
   */
  @Get('ready')
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.indicators.database(),
        () => this.indicators.redis(),
        () => this.indicators.migrations(),
        () => this.indicators.tenantAccess(),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as Partial<HealthCheckResult>;
      const checks = result.details ?? {};
      this.logger.warn({ checks, status: result.status }, 'Not ready');
      const detail =
        result.status === 'shutting_down'
          ? 'The process is shutting down.'
          : 'One or more dependencies are not ready.';
      throw new ObservabilityError('not_ready', detail, { checks });
    }
  }
}
