import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { enterTenantSchema, TenantContext, type TenantRef } from '@townhall/tenancy';

export type ScheduledWorkKind = 'publish_status' | 'poll_ended' | 'media_processing';

/** Work one kind of scheduled item needs, done inside the tenant's transaction that takes it. */
export interface ScheduledWorkHandler {
  kind: ScheduledWorkKind;
  run(m: EntityManager, refId: string, tenant: { ref: TenantRef; domain: string }): Promise<void>;
}

/** Puts work on the platform's schedule, in the current tenant's transaction (a later date replaces it). */
export async function scheduleWork(
  m: EntityManager,
  kind: ScheduledWorkKind,
  refId: string,
  dueAt: Date,
): Promise<void> {
  await m.query(
    `INSERT INTO platform.scheduled_work (tenant_id, kind, ref_id, due_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, kind, ref_id) DO UPDATE SET due_at = EXCLUDED.due_at, attempts = 0`,
    [TenantContext.current().id, kind, refId, dueAt],
  );
}

export async function unscheduleWork(
  m: EntityManager,
  kind: ScheduledWorkKind,
  refId: string,
): Promise<void> {
  await m.query(`DELETE FROM platform.scheduled_work WHERE tenant_id = $1 AND kind = $2 AND ref_id = $3`, [
    TenantContext.current().id,
    kind,
    refId,
  ]);
}

/** How many times an item is tried before it is left for an operator to look at (logged each time). */
const MAX_ATTEMPTS = 10;

/**
 * Does scheduled work in processes with workers (TOWNHALL_WORKERS): every interval it takes due items
 * one at a time, oldest first, each in one transaction with its tenant's work — `FOR UPDATE SKIP LOCKED`
 * lets every worker process take different items, and a crash rolls the item back onto the schedule.
 * A tenant that is not active keeps its items for later; an item that fails is retried with a growing
 * delay and logged.
 */
@Injectable()
export class ScheduledWorkRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ScheduledWorkRunner.name);
  private readonly handlers = new Map<ScheduledWorkKind, ScheduledWorkHandler>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private active = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  register(handler: ScheduledWorkHandler): void {
    this.handlers.set(handler.kind, handler);
  }

  onApplicationBootstrap(): void {
    if (!this.config.provisioning.workers) return;
    this.active = true;
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Does every item due now; answers how many were done. */
  async runDue(limit = 500): Promise<number> {
    let done = 0;
    while (done < limit && this.active !== false) {
      if (!(await this.takeOne())) break;
      done++;
    }
    return done;
  }

  private schedule(): void {
    if (!this.active) return;
    this.timer = setTimeout(() => {
      this.running = this.runDue()
        .then(
          () => undefined,
          (err: unknown) => this.logger.error({ err }, 'Scheduled work failed'),
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.config.scheduledWork.intervalMs);
    this.timer.unref();
  }

  /** Takes and does one due item; false when none is due. */
  private async takeOne(): Promise<boolean> {
    let failed: { tenantId: string; kind: string; refId: string; attempts: number; err: unknown } | undefined;
    const took = await this.dataSource.transaction(async (m) => {
      const [item] = (await m.query(
        `SELECT w.tenant_id::text, w.kind, w.ref_id::text, w.attempts, t.schema_name, t.status,
                (SELECT d.domain FROM platform.tenant_domains d WHERE d.tenant_id = t.id ORDER BY d.is_primary DESC, d.created_at LIMIT 1) AS domain
           FROM platform.scheduled_work w JOIN platform.tenants t ON t.id = w.tenant_id
          WHERE w.due_at <= now() ORDER BY w.due_at LIMIT 1 FOR UPDATE OF w SKIP LOCKED`,
      )) as {
        tenant_id: string;
        kind: ScheduledWorkKind;
        ref_id: string;
        attempts: number;
        schema_name: string;
        status: string;
        domain: string;
      }[];
      if (!item) return false;
      const key = [item.tenant_id, item.kind, item.ref_id];
      if (item.status !== 'active') {
        await m.query(
          `UPDATE platform.scheduled_work SET due_at = now() + interval '10 minutes'
            WHERE tenant_id = $1 AND kind = $2 AND ref_id = $3`,
          key,
        );
        return true;
      }
      const handler = this.handlers.get(item.kind);
      const ref: TenantRef = {
        id: item.tenant_id,
        schema: item.schema_name,
        domain: item.domain,
        status: item.status,
      };
      try {
        await m.query('SAVEPOINT scheduled_work');
        await TenantContext.run(ref, async () => {
          await enterTenantSchema(m, ref);
          if (handler) await handler.run(m, item.ref_id, { ref, domain: item.domain });
          await m.query(`SET LOCAL search_path TO DEFAULT`);
        });
        // Done, unless the handler put the item off to a later time (work it watches over, such as a
        // media file a queue job is processing).
        await m.query(
          `DELETE FROM platform.scheduled_work
            WHERE tenant_id = $1 AND kind = $2 AND ref_id = $3 AND due_at <= now()`,
          key,
        );
      } catch (err) {
        await m.query('ROLLBACK TO SAVEPOINT scheduled_work');
        await m.query(`SET LOCAL search_path TO DEFAULT`);
        failed = {
          tenantId: item.tenant_id,
          kind: item.kind,
          refId: item.ref_id,
          attempts: item.attempts + 1,
          err,
        };
        if (failed.attempts >= MAX_ATTEMPTS) {
          await m.query(
            `DELETE FROM platform.scheduled_work WHERE tenant_id = $1 AND kind = $2 AND ref_id = $3`,
            key,
          );
        } else {
          await m.query(
            `UPDATE platform.scheduled_work SET attempts = attempts + 1,
                    due_at = now() + make_interval(secs => 30 * power(2, attempts))
              WHERE tenant_id = $1 AND kind = $2 AND ref_id = $3`,
            key,
          );
        }
      }
      return true;
    });
    if (failed) {
      const { err, ...item } = failed;
      this.logger.error(
        { err, ...item },
        item.attempts >= MAX_ATTEMPTS
          ? 'Scheduled work failed for the last time and was dropped'
          : 'Scheduled work failed; it will be retried',
      );
    }
    return took;
  }
}
