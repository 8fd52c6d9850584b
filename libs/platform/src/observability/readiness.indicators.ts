import { Inject, Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource, MigrationExecutor } from 'typeorm';
import { redact, TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { LATEST_TENANT_VERSION } from '@townhall/persistence';
import { within } from './within';

const CHECK_TIMEOUT_MS = 3000;

/**
 * The checks behind `/health/ready`. Each returns `up` or `down` and never throws; a `down` result
 * carries only a fixed, public message — the cause (host names, ports, driver messages) goes to the
 * log, not to whoever asked.
 */
@Injectable()
export class ReadinessIndicators {
  private readonly logger = new Logger(ReadinessIndicators.name);

  constructor(
    private readonly health: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async database(): Promise<HealthIndicatorResult<'database'>> {
    const check = this.health.check('database');
    try {
      await within(CHECK_TIMEOUT_MS, this.dataSource.query('SELECT 1'), 'PostgreSQL');
      return check.up();
    } catch (err) {
      this.logger.warn({ err }, 'Readiness: PostgreSQL is not answering');
      return check.down({ message: 'PostgreSQL is not answering' });
    }
  }

  async redis(): Promise<HealthIndicatorResult<'redis'>> {
    const check = this.health.check('redis');
    // A short-lived connection per probe: it tests what a new worker would get, and holds nothing
    // (no reconnect loop, no offline queue) while Redis is away.
    const client = new Redis(this.config.redis.url, {
      lazyConnect: true,
      connectTimeout: CHECK_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await within(
        CHECK_TIMEOUT_MS,
        client.connect().then(() => client.ping()),
        'Redis',
      );
      return check.up();
    } catch (err) {
      this.logger.warn({ err, redis: redact(this.config.redis.url) }, 'Readiness: Redis is not answering');
      return check.down({ message: 'Redis is not answering' });
    } finally {
      // A connection that already failed has ended; disconnecting it again would only leave
      // ioredis's 2-second "destroy the stream" timer behind.
      if (client.status !== 'end') client.disconnect();
    }
  }

  /**
   * Platform migrations all applied, and no tenant schema that should serve (active or suspended)
   * behind the tenant migrations this build knows. A process must not take traffic for a schema
   * older than its code.
   */
  async migrations(): Promise<HealthIndicatorResult<'migrations'>> {
    const check = this.health.check('migrations');
    try {
      const platformPending = await within(CHECK_TIMEOUT_MS, this.platformMigrationsPending(), 'PostgreSQL');
      const [schemas] = (await within(
        CHECK_TIMEOUT_MS,
        this.dataSource.query(
          `SELECT count(*)::int AS total,
                  count(*) FILTER (WHERE migration_version < $1)::int AS behind,
                  count(*) FILTER (WHERE migration_version > $1)::int AS ahead
             FROM platform.tenants WHERE status IN ('active', 'suspended')`,
          [LATEST_TENANT_VERSION],
        ),
        'PostgreSQL',
      )) as [{ total: number; behind: number; ahead: number }];
      const data = {
        platform: { pending: platformPending },
        tenantSchemas: {
          latestVersion: LATEST_TENANT_VERSION,
          total: schemas.total,
          behind: schemas.behind,
          ahead: schemas.ahead,
        },
      };
      return platformPending || schemas.behind > 0 ? check.down(data) : check.up(data);
    } catch (err) {
      this.logger.warn({ err }, 'Readiness: migration state could not be read');
      return check.down({ message: 'Migration state could not be read' });
    }
  }

  /**
   * What `dataSource.showMigrations()` answers, on a query runner released in `finally`: the
   * DataSource method leaks its runner's connection when a query fails, and a failing probe repeats.
   */
  private async platformMigrationsPending(): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await new MigrationExecutor(this.dataSource, runner).showMigrations();
    } finally {
      await runner.release();
    }
  }
}
