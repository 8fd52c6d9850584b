import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { runInTenantSchema, type TenantRef } from '@townhall/tenancy';
import { MediaStorage } from './media-storage';

/** Mastodon's MediaCleanupScheduler removes media nobody attached after a day. */
export const UNATTACHED_MEDIA_TTL_MS = 24 * 60 * 60_000;
/** Files younger than this are never taken for orphans: their row may not have committed yet. */
const ORPHAN_GRACE_MS = 60 * 60_000;
/** The advisory lock that lets one worker process sweep at a time. */
const SWEEP_LOCK = [0x6d656469, 0x73776570] as const; // "medi", "swep"
const BATCH = 500;

export interface SweepResult {
  unattached: number;
  orphans: number;
}

/**
 * Removes what no one will see again, as Mastodon's MediaCleanupScheduler does: media attachments that
 * are neither posted nor scheduled a day after their upload (rows and files; found through the partial
 * index `media_attachments_unattached`), and — beyond Mastodon, whose object storage keeps them — media
 * folders no row names (an upload that crashed between its files and its commit, attachments removed
 * with their account), older than an hour, and folders of tenants that no longer exist.
 *
 * This is a periodic sweep of every active tenant in worker processes (TOWNHALL_MEDIA_SWEEP_INTERVAL_MS,
 * hourly), not scheduled work: nothing depends on the minute it happens, one item per upload would add a
 * write to every upload for a row most uploads never need, and files without rows cannot be scheduled.
 * One process sweeps at a time (an advisory lock); each tenant's rows are deleted a batch per
 * transaction, their files after the commit, so a crash leaves at worst files, which the next sweep finds.
 */
@Injectable()
export class MediaSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MediaSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly storage: MediaStorage,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.provisioning.workers) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err: unknown) => this.logger.error({ err }, 'Media sweep failed'))
        .finally(() => (this.running = undefined));
    }, this.config.media.sweepIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Sweeps every tenant once; null when another process is sweeping. */
  async sweep(): Promise<SweepResult | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock($1, $2) AS locked`, [
        ...SWEEP_LOCK,
      ])) as { locked: boolean }[];
      if (!locked) return null;
      try {
        return await this.sweepAll();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock($1, $2)`, [...SWEEP_LOCK]);
      }
    } finally {
      await runner.release();
    }
  }

  private async sweepAll(): Promise<SweepResult> {
    const tenants = (await this.dataSource.query(
      `SELECT t.id::text, t.schema_name, t.status,
              (SELECT d.domain FROM platform.tenant_domains d WHERE d.tenant_id = t.id
                ORDER BY d.is_primary DESC, d.created_at LIMIT 1) AS domain
         FROM platform.tenants t WHERE t.status NOT IN ('deleted', 'provisioning', 'failed')`,
    )) as { id: string; schema_name: string; status: string; domain: string }[];
    const result: SweepResult = { unattached: 0, orphans: 0 };
    for (const t of tenants) {
      const ref: TenantRef = { id: t.id, schema: t.schema_name, status: t.status, domain: t.domain };
      try {
        result.unattached += await this.removeUnattached(ref);
        result.orphans += await this.removeOrphans(ref);
      } catch (err) {
        this.logger.error({ err, tenantId: t.id }, 'Media sweep of a tenant failed; the next sweep retries');
      }
    }
    // Folders of tenants that are gone (their schema was dropped with every row naming the files).
    const known = new Set(tenants.map((t) => t.id));
    for (const folder of await this.storage.list('')) {
      if (!/^\d{1,19}$/.test(folder.name) || known.has(folder.name)) continue;
      const [row] = (await this.dataSource.query(`SELECT status FROM platform.tenants WHERE id = $1`, [
        folder.name,
      ])) as { status: string }[];
      if (row && row.status !== 'deleted') continue;
      for (const media of await this.storage.list(folder.name)) {
        result.orphans += await this.removeMediaFolder(folder.name, media.name);
      }
    }
    if (result.unattached + result.orphans > 0) this.logger.log(result, 'Media swept');
    return result;
  }

  private async removeUnattached(tenant: TenantRef): Promise<number> {
    let removed = 0;
    for (;;) {
      const gone = await runInTenantSchema(this.dataSource, tenant, async (m) => {
        const rows = (await m.query(
          `DELETE FROM media_attachments WHERE id IN (
             SELECT id FROM media_attachments
              WHERE status_id IS NULL AND scheduled_status_id IS NULL AND created_at < $1
              ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
           RETURNING file_key`,
          [new Date(Date.now() - UNATTACHED_MEDIA_TTL_MS)],
        )) as [{ file_key: string | null }[], number];
        // Nothing waits for them any more.
        await m.query(
          `DELETE FROM platform.scheduled_work WHERE tenant_id = $1 AND kind = 'media_processing'
             AND NOT EXISTS (SELECT 1 FROM media_attachments a WHERE a.id = ref_id)`,
          [tenant.id],
        );
        return rows[0];
      });
      for (const { file_key } of gone) {
        if (file_key) await this.storage.removeAll(`${tenant.id}/${file_key}`);
      }
      removed += gone.length;
      if (gone.length < BATCH) return removed;
    }
  }

  private async removeOrphans(tenant: TenantRef): Promise<number> {
    const folders = (await this.storage.list(tenant.id)).filter(
      (f) => /^\d{1,19}$/.test(f.name) && Date.now() - f.changedAt.getTime() > ORPHAN_GRACE_MS,
    );
    let removed = 0;
    for (let i = 0; i < folders.length; i += BATCH) {
      const ids = folders.slice(i, i + BATCH).map((f) => f.name);
      const named = await runInTenantSchema(this.dataSource, tenant, async (m) => {
        const rows = (await m.query(`SELECT id::text FROM media_attachments WHERE id = ANY($1::bigint[])`, [
          ids,
        ])) as { id: string }[];
        return new Set(rows.map((r) => r.id));
      });
      for (const id of ids) {
        if (!named.has(id)) removed += await this.removeMediaFolder(tenant.id, id);
      }
    }
    return removed;
  }

  private async removeMediaFolder(tenantId: string, mediaId: string): Promise<number> {
    let removed = 0;
    for (const token of await this.storage.list(`${tenantId}/${mediaId}`)) {
      if (!/^[0-9a-f]{16,64}$/.test(token.name)) continue;
      await this.storage.removeAll(`${tenantId}/${mediaId}/${token.name}`);
      removed++;
    }
    return removed;
  }
}
