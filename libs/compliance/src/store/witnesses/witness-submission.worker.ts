import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { WitnessSubmission } from './witness-submission';

/**
 * Runs the witness submission in processes with workers (TOWNHALL_WORKERS) when witnesses are
 * configured: a round every second (or every TOWNHALL_AUDIT_WITNESS_RETRY_MS, when that is shorter),
 * which finds a newly signed checkpoint within that time, whichever process signed it. A round waits for
 * the witnesses' answers, so rounds never overlap; the next is scheduled when it ends.
 */
@Injectable()
export class WitnessSubmissionWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WitnessSubmissionWorker.name);
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly submission: WitnessSubmission,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.provisioning.workers || !this.submission.configured) return;
    this.schedule(0);
  }

  /** Abandons the witnesses' answers in flight (their leases are given back) and waits for the round. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.running = this.submission
      .run(this.stopping.signal)
      .catch((err: unknown) => this.logger.error({ err }, 'Audit witness submission failed'))
      .finally(() => {
        this.running = undefined;
        this.schedule(Math.min(1000, this.config.audit.witnessRetryMs));
      });
  }
}
