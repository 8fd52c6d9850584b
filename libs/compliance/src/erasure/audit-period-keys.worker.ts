import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { AuditContext, systemAuditContext } from '../recording/audit-context';
import { RotateAuditPeriodKeys } from './rotate-audit-period-keys';

/** How often workers look whether a period is over or a key can go: a month is long, an hour late is nothing. */
export const PERIOD_KEY_CHECK_MS = 60 * 60 * 1000;

/**
 * Rotates the audit period keys in processes with workers (TOWNHALL_WORKERS): at start and every hour.
 * Runs in several processes at once are harmless (the steps lock what they change), so there is no
 * election; most runs find nothing to do.
 */
@Injectable()
export class AuditPeriodKeysWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditPeriodKeysWorker.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private active = false;

  constructor(
    private readonly rotation: RotateAuditPeriodKeys,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.provisioning.workers) return;
    this.active = true;
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (!this.active) return;
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.running = AuditContext.run(systemAuditContext('audit-period-keys'), () => this.rotation.run())
      .then(
        (done) => {
          if (done.started || done.destroyed.length > 0)
            this.logger.log(
              `Audit period keys: ${done.started ? 'started a period, ' : ''}re-wrapped ${done.rewrapped} subject(s), destroyed ${done.destroyed.length} key(s)`,
            );
        },
        (err: unknown) => this.logger.error({ err }, 'Rotating the audit period keys failed'),
      )
      .finally(() => {
        this.running = undefined;
        this.schedule(PERIOD_KEY_CHECK_MS);
      });
  }
}
