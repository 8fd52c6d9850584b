import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job, Queue } from 'bull';
import type { DataSource, EntityManager } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { changedRows } from '@townhall/persistence';
import { runInTenantSchema, type TenantRef, TenantRegistry } from '@townhall/tenancy';
import {
  type ScheduledWorkHandler,
  ScheduledWorkRunner,
  scheduleWork,
  unscheduleWork,
} from '../scheduled/scheduled-work';
import { processAv } from './av-processing';
import { ffmpegAvailable, type FfmpegSettings } from './ffmpeg';
import { ImageRejected } from './image-processing';
import type { SniffedMedia } from './media-sniffing';
import { MediaStorage } from './media-storage';

export const MEDIA_QUEUE = 'media';

/** How long a waiting upload's scheduled item sleeps before it looks whether its job still runs. */
export const MEDIA_WATCH_MS = 10 * 60_000;
/** An upload still not processed after a day is given up (marked failed, its upload file removed). */
const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

/** `media_attachments.processing`: 0 done, 1 waiting or in progress, 2 failed (Mastodon's queued/in_progress/complete/failed). */
export const PROCESSING = { done: 0, pending: 1, failed: 2 } as const;

export interface MediaJob {
  tenantId: string;
  mediaId: string;
}

type PendingRow = {
  file_key: string;
  content_type: string;
  meta: { upload?: string };
  processing: number;
  created_at: Date;
};

/**
 * Video and audio processing. An upload is committed first — its row (`processing = 1`), its file
 * (`upload.<ext>`) and a `media_processing` item on the platform's schedule, in one transaction — and
 * only then handed to the `media` queue (job id `<tenant>:<media>`, so a second hand-over is a no-op).
 * The job is idempotent: it does nothing for a row that is no longer pending, and finishing (the row's
 * processed meta, its removal from the schedule) is one transaction that only a pending row passes. A
 * worker that dies mid-job leaves the job stalled, which Bull gives to another worker; a job Redis lost
 * is handed over again when the scheduled item falls due (every ten minutes, by `ScheduledWorkRunner`,
 * which keeps the item while the handler puts it off). A file still not processed after a day fails.
 */
@Injectable()
export class MediaProcessing implements OnApplicationBootstrap, ScheduledWorkHandler {
  readonly kind = 'media_processing' as const;
  private readonly logger = new Logger(MediaProcessing.name);
  private available: Promise<boolean> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly storage: MediaStorage,
    private readonly registry: TenantRegistry,
    private readonly runner: ScheduledWorkRunner,
    @InjectQueue(MEDIA_QUEUE) private readonly queue: Queue<MediaJob>,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  get settings(): FfmpegSettings {
    return {
      ffmpeg: this.config.media.ffmpeg,
      ffprobe: this.config.media.ffprobe,
      timeoutMs: this.config.media.processingTimeoutMs,
    };
  }

  /** Whether ffmpeg and ffprobe are there: without them only images are accepted and announced. */
  videoAndAudio(): Promise<boolean> {
    this.available ??= ffmpegAvailable(this.settings).then((ok) => {
      if (!ok) {
        this.logger.warn(
          `ffmpeg/ffprobe not found (TOWNHALL_FFMPEG=${this.config.media.ffmpeg}, TOWNHALL_FFPROBE=` +
            `${this.config.media.ffprobe}): only images are accepted as media; install ffmpeg to accept video and audio`,
        );
      }
      return ok;
    });
    return this.available;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.runner.register(this);
    // Serving processes and workers say at start whether they take video and audio; a one-shot CLI
    // command (no workers) looks only if it ever needs to know.
    if (!this.config.provisioning.workers) return;
    await this.videoAndAudio();
    this.queue
      .process(1, (job: Job<MediaJob>) => this.process(job.data))
      .catch((err: unknown) => this.logger.error({ err }, 'The media job processor stopped'));
    this.queue.on('failed', (job: Job<MediaJob>, err: Error) => {
      if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
      this.logger.error({ err, ...job.data }, 'Media processing failed for the last time');
      this.fail(job.data).catch((e: unknown) =>
        this.logger.error({ err: e, ...job.data }, 'Could not record failed media processing'),
      );
    });
  }

  /** Hands a committed upload to the queue; a failure only delays it until its scheduled item is due. */
  async enqueue(job: MediaJob): Promise<void> {
    try {
      await this.queue.add(job, {
        jobId: `${job.tenantId}:${job.mediaId}`,
        attempts: 3,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: true,
        removeOnFail: true,
      });
    } catch (err) {
      this.logger.warn({ err, ...job }, 'Could not queue media processing; the schedule will retry');
    }
  }

  /** The scheduled item of a pending upload fell due: its job is handed over again and the item kept. */
  async run(m: EntityManager, refId: string, tenant: { ref: TenantRef }): Promise<void> {
    const [row] = (await m.query(
      `SELECT processing, created_at FROM media_attachments WHERE id = $1 FOR UPDATE`,
      [refId],
    )) as PendingRow[];
    if (!row || row.processing !== PROCESSING.pending) return;
    if (Date.now() - row.created_at.getTime() > GIVE_UP_AFTER_MS) {
      this.logger.error(
        { tenantId: tenant.ref.id, mediaId: refId },
        'Media not processed within a day; given up',
      );
      await m.query(`UPDATE media_attachments SET processing = $2 WHERE id = $1`, [refId, PROCESSING.failed]);
      return;
    }
    await this.enqueue({ tenantId: tenant.ref.id, mediaId: refId });
    await scheduleWork(m, this.kind, refId, new Date(Date.now() + MEDIA_WATCH_MS));
  }

  /** Processes one pending upload (a queue job, or a synchronous version 1 upload). */
  async process(job: MediaJob): Promise<void> {
    const tenant = await this.tenant(job.tenantId);
    if (!tenant) return;
    const row = await runInTenantSchema(this.dataSource, tenant, async (m) => {
      const [r] = (await m.query(
        `SELECT file_key, content_type, meta, processing, created_at FROM media_attachments WHERE id = $1`,
        [job.mediaId],
      )) as PendingRow[];
      return r;
    });
    if (!row || row.processing !== PROCESSING.pending || !row.meta.upload) return;
    const base = `${tenant.id}/${row.file_key}`;
    const uploadKey = `${base}/upload.${row.meta.upload}`;
    const dir = await mkdtemp(join(tmpdir(), 'townhall-media-'));
    try {
      const found = await this.storage.read(uploadKey);
      if (!found) throw new Error(`The upload file of media ${job.mediaId} is missing`);
      const input = join(dir, `upload.${row.meta.upload}`);
      await pipeline(found.stream, createWriteStream(input));
      const sniffed: SniffedMedia = {
        kind: 'video',
        contentType: row.content_type,
        extension: row.meta.upload,
      };
      let made;
      try {
        made = await processAv(this.settings, input, dir, sniffed);
      } catch (err) {
        if (err instanceof ImageRejected) {
          // Not a file ffmpeg can make anything of: no retry would change that.
          this.logger.warn({ ...job, reason: err.message }, 'Media upload could not be processed');
          await this.fail(job);
          return;
        }
        throw err;
      }
      await this.storage.putFile(`${base}/original.${made.original.extension}`, made.original.path);
      await this.storage.put(`${base}/small.${made.small.extension}`, made.small.data);
      const { size: originalSize } = await stat(made.original.path);
      const small = made.small;
      const finished = await runInTenantSchema(this.dataSource, tenant, async (m) => {
        const rows = changedRows(
          await m.query(
            `UPDATE media_attachments
              SET type = $3, content_type = $4, file_size = $5, blurhash = $6, processing = $7,
                  meta = (meta - 'upload') || $8::jsonb
            WHERE id = $1 AND processing = $2 RETURNING id`,
            [
              job.mediaId,
              PROCESSING.pending,
              made.type,
              made.original.contentType,
              originalSize + small.data.length,
              made.blurhash,
              PROCESSING.done,
              JSON.stringify({
                original: made.original.meta,
                small: {
                  width: small.width,
                  height: small.height,
                  size: `${small.width}x${small.height}`,
                  aspect: small.width / small.height,
                },
                extensions: { original: made.original.extension, small: small.extension },
              }),
            ],
          ),
        );
        await unscheduleWork(m, this.kind, job.mediaId);
        return rows.length > 0;
      });
      if (finished) await this.storage.remove(uploadKey);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Marks an upload failed (GET answers 422 for it, as Mastodon's does) and removes its upload file. */
  private async fail(job: MediaJob): Promise<void> {
    const tenant = await this.tenant(job.tenantId);
    if (!tenant) return;
    const upload = await runInTenantSchema(this.dataSource, tenant, async (m) => {
      const [r] = changedRows<PendingRow>(
        await m.query(
          `UPDATE media_attachments SET processing = $3 WHERE id = $1 AND processing = $2
           RETURNING file_key, meta`,
          [job.mediaId, PROCESSING.pending, PROCESSING.failed],
        ),
      );
      await unscheduleWork(m, this.kind, job.mediaId);
      return r?.meta.upload ? `${tenant.id}/${r.file_key}/upload.${r.meta.upload}` : null;
    });
    if (upload) await this.storage.remove(upload);
  }

  private async tenant(id: string): Promise<TenantRef | null> {
    const tenant = await this.registry.refById(id);
    // A tenant that is not active keeps its pending uploads for when it is (the schedule hands them over).
    return tenant?.status === 'active' ? tenant : null;
  }
}
