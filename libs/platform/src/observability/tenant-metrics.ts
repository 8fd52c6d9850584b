import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { TENANT_STATUSES } from '@townhall/tenancy';
import { MetricsRegistry } from './metrics.registry';
import { within } from './within';

/**
 * `townhall_tenants{status}`, read from the registry at each scrape so every process reports the same
 * platform-wide numbers without keeping them in step. Every status is always present (0 when none).
 */
@Injectable()
export class TenantMetrics {
  private readonly logger = new Logger(TenantMetrics.name);

  constructor(registry: MetricsRegistry, @InjectDataSource() dataSource: DataSource) {
    const logger = this.logger;
    new Gauge({
      name: 'townhall_tenants',
      help: 'Tenants in the platform registry, by status.',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        try {
          const rows = (await within(
            3000,
            dataSource.query(`SELECT status, count(*)::int AS n FROM platform.tenants GROUP BY status`),
            'PostgreSQL',
          )) as { status: string; n: number }[];
          const counts = new Map(rows.map((r) => [r.status, r.n]));
          for (const status of TENANT_STATUSES) this.set({ status }, counts.get(status) ?? 0);
        } catch (err) {
          // A scrape must not fail because the database is away; the series go missing instead,
          // which an alert on absent() catches, and the readiness probe says why.
          logger.warn({ err }, 'Could not count tenants for metrics');
          this.reset();
        }
      },
    });
  }
}
