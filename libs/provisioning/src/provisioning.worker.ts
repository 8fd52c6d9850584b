import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job, Queue } from 'bull';
import { DataSource } from 'typeorm';
import { AuditRecorder } from '@townhall/compliance';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { TenantChanges } from '@townhall/tenancy';
import { ActorKeyPool } from './actor-key-pool';
import { asProvisioningWorker, recordWorkerTransition } from './provisioning-audit';
import { ProvisioningSaga } from './provisioning-saga';
import {
  DropTenantSchemaJob,
  PROVISIONING_QUEUE,
  ProvisionTenantJob,
  TenantJobPayload,
} from './provisioning.queue';
import { TenantLifecycle } from './tenant-lifecycle';
import { TenantSchemaDropper } from './tenant-schema-dropper';

/**
 * Runs tenant lifecycle jobs in processes that have workers enabled (TOWNHALL_WORKERS), and
 * reconciles the queue with the registry: every tenant whose state says work is due gets its job
 * (job ids make this idempotent), at start and then periodically.
 */
@Injectable()
export class ProvisioningWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProvisioningWorker.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly saga: ProvisioningSaga,
    private readonly dropper: TenantSchemaDropper,
    private readonly lifecycle: TenantLifecycle,
    private readonly keyPool: ActorKeyPool,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(PROVISIONING_QUEUE) private readonly queue: Queue<TenantJobPayload>,
    private readonly recorder: AuditRecorder,
    private readonly changes: TenantChanges,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.provisioning.workers) return;
    const concurrency = this.config.provisioning.concurrency;
    const processorFailed = (err: unknown) => this.logger.error({ err }, 'A tenant job processor stopped');
    this.queue
      .process(ProvisionTenantJob.name, concurrency, async (job: Job<TenantJobPayload>) => {
        const outcome = await this.saga.run(job.data.tenantId);
        this.keyPool.refillInBackground();
        return outcome;
      })
      .catch(processorFailed);
    this.queue
      .process(DropTenantSchemaJob.name, 1, (job: Job<TenantJobPayload>) =>
        this.dropper.dropIfDue(job.data.tenantId),
      )
      .catch(processorFailed);
    this.queue.on('failed', (job: Job<TenantJobPayload>, err: Error) => {
      this.onFailed(job, err).catch((e: unknown) =>
        this.logger.error({ err: e }, 'Could not record a failed tenant job'),
      );
    });
    await this.reconcile();
    this.keyPool.refillInBackground();
    this.timer = setInterval(() => {
      this.reconcile().catch((e: unknown) => this.logger.error({ err: e }, 'Tenant reconciliation failed'));
    }, 30_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  /** Re-enqueues due work that the queue does not know about (e.g. Redis was flushed). */
  async reconcile(): Promise<number> {
    const rows = (await this.dataSource.query(
      `SELECT id::text AS id, status, provisioning_attempts AS attempts, delete_after AS "deleteAfter"
         FROM platform.tenants WHERE status IN ('provisioning', 'deleting')`,
    )) as { id: string; status: string; attempts: number; deleteAfter: Date | null }[];
    for (const row of rows) {
      if (row.status === 'provisioning') await this.lifecycle.enqueueProvisioning(row.id, row.attempts);
      else await this.lifecycle.enqueueDrop({ id: row.id, deleteAfter: row.deleteAfter });
    }
    return rows.length;
  }

  /**
   * After the last attempt a provisioning tenant is marked failed, with a reason an operator can act on,
   * and `tenant.fail` is recorded in the same transaction. The reason (an error message) stays on the
   * tenant; the entry names only the step the saga had reached.
   */
  private async onFailed(job: Job<TenantJobPayload>, err: Error): Promise<void> {
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    this.logger.warn(
      { jobId: job.id, tenantId: job.data.tenantId, attempt: job.attemptsMade, final, err: err.message },
      'Tenant job failed',
    );
    if (!final || job.name !== ProvisionTenantJob.name) return;
    const tenantId = job.data.tenantId;
    await asProvisioningWorker(() =>
      this.dataSource.transaction(async (manager) => {
        const [marked] = (await manager.query(
          `UPDATE platform.tenants
              SET status = 'failed', updated_at = now(),
                  failure_reason = 'Failed after step ' || coalesce(provisioning_step, '(none)') || ': ' || $2
            WHERE id = $1 AND status = 'provisioning'
        RETURNING provisioning_step AS step`,
          [tenantId, err.message.slice(0, 500)],
        )) as [{ step: string | null }[], number];
        if (marked.length === 0) return;
        await recordWorkerTransition(this.recorder, manager, 'tenant.fail', tenantId, {
          from: 'provisioning',
          to: 'failed',
          step: marked[0].step,
          attempts: job.attemptsMade,
        });
      }),
    );
    await this.changes.announce(tenantId);
  }
}
