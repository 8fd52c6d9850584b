import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { AuditSequencer } from './audit-sequencer';

/** How soon after an append the sequencer looks: the appender's transaction has usually committed by then. */
const AFTER_APPEND_MS = 25;

/**
 * Runs the sequencer in processes with workers (TOWNHALL_WORKERS): on a timer, often enough to sign
 * the T-second checkpoints on time, and shortly after an append in this process. Every worker process
 * runs one; the sequencer's lock lets one of them work at a time and the others skip their turn.
 */
@Injectable()
export class AuditSequencerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditSequencerWorker.name);
  private readonly stopping = new AbortController();
  private active = false;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Infinity;
  private running: Promise<void> | undefined;
  private rerun = false;

  constructor(
    private readonly sequencer: AuditSequencer,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.provisioning.workers) return;
    this.active = true;
    this.schedule(0);
  }

  /** Something was appended in this process: sequence it soon rather than at the next tick. */
  nudge(): void {
    if (!this.active) return;
    if (this.running) this.rerun = true;
    else this.schedule(AFTER_APPEND_MS);
  }

  /** Lets a batch in progress commit before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.active = false;
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private get pollMs(): number {
    return Math.min(1000, (this.config.audit.checkpointSeconds * 1000) / 2);
  }

  /** Runs the sequencer in `ms` unless a run is already due sooner. */
  private schedule(ms: number): void {
    if (!this.active || Date.now() + ms >= this.dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.dueAt = Infinity;
    this.running = this.sequencer
      .run(this.stopping.signal)
      .then(
        () => undefined,
        (err: unknown) => this.logger.error({ err }, 'Audit sequencing failed'),
      )
      .finally(() => {
        this.running = undefined;
        const again = this.rerun;
        this.rerun = false;
        this.schedule(again ? AFTER_APPEND_MS : this.pollMs);
      });
  }
}
