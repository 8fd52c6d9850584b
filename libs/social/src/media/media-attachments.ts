import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import sharp from 'sharp';
import type { EntityManager } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { changedRows, preparedQuery } from '@townhall/persistence';
import { TenantContext, TenantTransactions } from '@townhall/tenancy';
import { StatusError } from '../statuses/status-errors';
import {
  IMAGE_LIMITS,
  IMAGE_TYPES,
  ImageRejected,
  type ImageVariant,
  processImage,
} from './image-processing';
import { scheduleWork } from '../scheduled/scheduled-work';
import { AUDIO_TYPES, AV_LIMITS, checkAv, VIDEO_TYPES } from './av-processing';
import { MEDIA_WATCH_MS, MediaProcessing, PROCESSING } from './media-processing';
import { reserveMediaStorage } from './media-quota';
import { type SniffedMedia, sniffMedia } from './media-sniffing';
import { MediaStorage } from './media-storage';

/** Mastodon's limit on a media description (MediaAttachment::MAX_DESCRIPTION_LENGTH). */
export const MAX_MEDIA_DESCRIPTION = 1_500;

export interface MediaVariantMeta {
  width: number;
  height: number;
  size: string;
  aspect: number;
}

/** A media attachment as the client API presents it. */
export interface MediaRecord {
  id: string;
  accountId: string;
  statusId: string | null;
  type: 'image' | 'gifv' | 'video' | 'audio' | 'unknown';
  contentType: string;
  /** `<media id>/<token>`: the stored files are `<tenant id>/<fileKey>/<variant>.<ext>`. */
  fileKey: string | null;
  remoteUrl: string | null;
  description: string | null;
  focus: { x: number; y: number } | null;
  meta: {
    /** An image's sizes; a video's sizes, frame rate, duration and bit rate; an audio file's duration and bit rate. */
    original?: MediaVariantMeta | Record<string, number | string>;
    small?: MediaVariantMeta;
    extensions?: { original: string; small: string };
    /** The extension of the upload waiting to be processed (internal, never shown). */
    upload?: string;
  };
  blurhash: string | null;
  processing: boolean;
  /** Processing failed: the attachment has no files (GET answers 422). */
  failed: boolean;
  createdAt: Date;
}

export interface MediaUpload {
  data: Buffer;
  description?: string;
  focus?: string;
}

type MediaRow = {
  id: string;
  account_id: string;
  status_id: string | null;
  type: MediaRecord['type'];
  content_type: string;
  file_key: string | null;
  remote_url: string | null;
  description: string | null;
  focus_x: number | null;
  focus_y: number | null;
  meta: MediaRecord['meta'];
  blurhash: string | null;
  processing: number;
  created_at: Date;
};

const MEDIA_COLUMNS = `id::text, account_id::text, status_id::text, type, content_type, file_key, remote_url,
  description, focus_x, focus_y, meta, blurhash, processing, created_at`;

function mediaRecord(r: MediaRow): MediaRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    statusId: r.status_id,
    type: r.type,
    contentType: r.content_type,
    fileKey: r.file_key,
    remoteUrl: r.remote_url,
    description: r.description,
    focus: r.focus_x === null || r.focus_y === null ? null : { x: r.focus_x, y: r.focus_y },
    meta: r.meta,
    blurhash: r.blurhash,
    processing: r.processing === PROCESSING.pending,
    failed: r.processing === PROCESSING.failed,
    createdAt: r.created_at,
  };
}

/** The path of one stored variant of an attachment, below the media root. */
export function mediaFileKey(
  tenantId: string,
  media: MediaRecord,
  variant: 'original' | 'small',
): string | null {
  if (!media.fileKey || !media.meta.extensions) return null;
  return `${tenantId}/${media.fileKey}/${variant}.${media.meta.extensions[variant]}`;
}

function variantMeta(v: ImageVariant): MediaVariantMeta {
  return { width: v.width, height: v.height, size: `${v.width}x${v.height}`, aspect: v.width / v.height };
}

/**
 * Media attachments (Mastodon's MediaAttachment): uploaded by an account, processed at once (images:
 * decoded, stripped of metadata, scaled, previewed), stored through `MediaStorage`, described and
 * focused, then attached to one status when it is posted.
 */
@Injectable()
export class MediaAttachments {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly storage: MediaStorage,
    private readonly processing: MediaProcessing,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /**
   * Takes an upload. Images are processed at once. Video and audio are probed at once (what ffprobe
   * cannot read or what exceeds Mastodon's limits is refused before anything is stored), committed as
   * pending, and processed by the media queue when `queued` (version 2: the answer is 202 until done) or
   * before the answer otherwise (version 1). Every upload counts against the tenant's quota.
   */
  async upload(
    accountId: string,
    upload: MediaUpload,
    opts: { queued?: boolean } = {},
  ): Promise<MediaRecord> {
    const description = checkDescription(upload.description);
    const focus = parseFocus(upload.focus);
    const sniffed = sniffMedia(upload.data);
    if (!sniffed) throw invalid('File content type is invalid');
    if (sniffed.kind !== 'image')
      return this.uploadAv(accountId, upload.data, sniffed, description, focus, opts);
    if (!(IMAGE_TYPES as readonly string[]).includes(sniffed.contentType)) {
      throw invalid(`File content type ${sniffed.contentType} is not accepted by this instance`);
    }
    if (upload.data.length > IMAGE_LIMITS.maxBytes) {
      throw invalid(`File file size must be less than ${IMAGE_LIMITS.maxBytes / 1024 / 1024} MB`);
    }
    if (
      sniffed.contentType === 'image/gif' &&
      (await animated(upload.data)) &&
      (await this.processing.videoAndAudio())
    ) {
      // As Mastodon does: an animated GIF becomes a looping video (gifv), before the answer.
      return this.uploadAv(accountId, upload.data, sniffed, description, focus, { queued: false });
    }
    let image;
    try {
      image = await processImage(upload.data, sniffed);
    } catch (err) {
      if (err instanceof ImageRejected) throw invalid(err.message);
      throw err;
    }
    const tenant = TenantContext.current();
    return this.transactions.run(async (m) => {
      const size = image.original.data.length + image.small.data.length;
      await reserveMediaStorage(m, tenant.id, size, this.config.media.quotaBytes);
      const [{ id }] = (await m.query(`SELECT platform.next_id()::text AS id`)) as { id: string }[];
      const fileKey = `${id}/${randomBytes(16).toString('hex')}`;
      // Files first, then the row that points at them: a crash in between leaves files no row names
      // (swept by MediaSweeper), never a row without its files.
      await this.storage.put(
        `${tenant.id}/${fileKey}/original.${image.original.extension}`,
        image.original.data,
      );
      await this.storage.put(`${tenant.id}/${fileKey}/small.${image.small.extension}`, image.small.data);
      try {
        const [row] = (await m.query(
          `INSERT INTO media_attachments (id, account_id, type, content_type, file_key, file_size, description,
                                          focus_x, focus_y, meta, blurhash)
           VALUES ($1, $2, 'image', $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${MEDIA_COLUMNS}`,
          [
            id,
            accountId,
            image.original.contentType,
            fileKey,
            size,
            description,
            focus?.x ?? null,
            focus?.y ?? null,
            JSON.stringify({
              original: variantMeta(image.original),
              small: variantMeta(image.small),
              extensions: { original: image.original.extension, small: image.small.extension },
            }),
            image.blurhash,
          ],
        )) as MediaRow[];
        return mediaRecord(row);
      } catch (err) {
        await this.storage.removeAll(`${tenant.id}/${fileKey}`).catch(() => undefined);
        throw err;
      }
    });
  }

  private async uploadAv(
    accountId: string,
    data: Buffer,
    sniffed: SniffedMedia,
    description: string | null,
    focus: { x: number; y: number } | null,
    opts: { queued?: boolean },
  ): Promise<MediaRecord> {
    const accepted = [...VIDEO_TYPES, ...AUDIO_TYPES, 'image/gif'] as readonly string[];
    if (!accepted.includes(sniffed.contentType) || !(await this.processing.videoAndAudio())) {
      throw invalid(`File content type ${sniffed.contentType} is not accepted by this instance`);
    }
    if (data.length > AV_LIMITS.maxBytes) {
      throw invalid(`File file size must be less than ${AV_LIMITS.maxBytes / 1024 / 1024} MB`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'townhall-upload-'));
    let type: 'video' | 'audio' | 'gifv';
    try {
      const path = join(dir, `upload.${sniffed.extension}`);
      await writeFile(path, data);
      type = (await checkAv(this.processing.settings, path)).type;
      if (sniffed.contentType === 'image/gif') type = 'gifv';
    } catch (err) {
      if (err instanceof ImageRejected) throw invalid(err.message);
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const tenant = TenantContext.current();
    const media = await this.transactions.run(async (m) => {
      await reserveMediaStorage(m, tenant.id, data.length, this.config.media.quotaBytes);
      const [{ id }] = (await m.query(`SELECT platform.next_id()::text AS id`)) as { id: string }[];
      const fileKey = `${id}/${randomBytes(16).toString('hex')}`;
      // The upload, its row and the scheduled item that watches over its processing commit together,
      // before the queue hears of it: a crash after this loses nothing.
      await this.storage.put(`${tenant.id}/${fileKey}/upload.${sniffed.extension}`, data);
      try {
        const [row] = (await m.query(
          `INSERT INTO media_attachments (id, account_id, type, content_type, file_key, file_size, description,
                                          focus_x, focus_y, meta, processing)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${MEDIA_COLUMNS}`,
          [
            id,
            accountId,
            type,
            sniffed.contentType,
            fileKey,
            data.length,
            description,
            focus?.x ?? null,
            focus?.y ?? null,
            JSON.stringify({ upload: sniffed.extension }),
            PROCESSING.pending,
          ],
        )) as MediaRow[];
        await scheduleWork(m, 'media_processing', id, new Date(Date.now() + MEDIA_WATCH_MS));
        return mediaRecord(row);
      } catch (err) {
        await this.storage.removeAll(`${tenant.id}/${fileKey}`).catch(() => undefined);
        throw err;
      }
    });
    const job = { tenantId: tenant.id, mediaId: media.id };
    if (opts.queued) {
      await this.processing.enqueue(job);
      return media;
    }
    await this.processing.process(job);
    return this.own(accountId, media.id);
  }

  /** One of the account's own attachments not yet posted (as Mastodon, 404 once it is attached). */
  async get(accountId: string, id: string): Promise<MediaRecord> {
    return this.own(accountId, id);
  }

  private own(accountId: string, id: string): Promise<MediaRecord> {
    return this.transactions.run(async (m) => {
      const [row] = (await m.query(
        `SELECT ${MEDIA_COLUMNS} FROM media_attachments WHERE id = $1 AND account_id = $2 AND status_id IS NULL`,
        [toId(id), accountId],
      )) as MediaRow[];
      if (!row) throw new StatusError('not_found', 'Record not found');
      return mediaRecord(row);
    });
  }

  /** Changes description and focus, until the attachment belongs to a posted status. */
  async update(
    accountId: string,
    id: string,
    change: { description?: string; focus?: string },
  ): Promise<MediaRecord> {
    const description = change.description === undefined ? undefined : checkDescription(change.description);
    const focus = change.focus === undefined ? undefined : parseFocus(change.focus);
    return this.transactions.run(async (m) => {
      const rows = changedRows<MediaRow>(
        await m.query(
          `UPDATE media_attachments
              SET description = CASE WHEN $3::boolean THEN $4 ELSE description END,
                  focus_x = CASE WHEN $5::boolean THEN $6 ELSE focus_x END,
                  focus_y = CASE WHEN $5::boolean THEN $7 ELSE focus_y END
            WHERE id = $1 AND account_id = $2 AND status_id IS NULL
            RETURNING ${MEDIA_COLUMNS}`,
          [
            toId(id),
            accountId,
            description !== undefined,
            description ?? null,
            focus !== undefined,
            focus?.x ?? null,
            focus?.y ?? null,
          ],
        ),
      );
      if (rows.length === 0) throw new StatusError('not_found', 'Record not found');
      return mediaRecord(rows[0]);
    });
  }
}

/** The account's attachments with these ids, in no particular order (unknown ids are left out). */
export async function ownMedia(
  m: EntityManager,
  accountId: string,
  ids: readonly string[],
  opts: { lock?: boolean } = {},
): Promise<MediaRecord[]> {
  const valid = ids.filter((id) => /^\d{1,19}$/.test(id));
  if (valid.length === 0) return [];
  const rows = (await m.query(
    `SELECT ${MEDIA_COLUMNS} FROM media_attachments WHERE account_id = $1 AND id = ANY($2::bigint[])
     ${opts.lock ? 'FOR UPDATE' : ''}`,
    [accountId, valid],
  )) as MediaRow[];
  return rows.map(mediaRecord);
}

/** Whether a GIF has more than one frame (a broken one is left to the image decoder to refuse). */
async function animated(data: Buffer): Promise<boolean> {
  try {
    return ((await sharp(data, { limitInputPixels: IMAGE_LIMITS.maxPixels }).metadata()).pages ?? 1) > 1;
  } catch {
    return false;
  }
}

/** Mastodon's refusal of a post (or scheduled post) with media still processing or whose processing failed. */
export function refuseUnprocessed(media: readonly MediaRecord[]): void {
  if (media.some((a) => a.processing || a.failed)) {
    throw new StatusError(
      'validation_failed',
      'Validation failed: Cannot attach files that have not finished processing. Try again in a moment!',
    );
  }
}

/** The attachments of these statuses, each status's in the order it lists them. */
export async function mediaOfStatuses(
  m: EntityManager,
  statuses: readonly { id: string; mediaIds: readonly string[] }[],
): Promise<Map<string, MediaRecord[]>> {
  const wanted = statuses.filter((s) => s.mediaIds.length > 0);
  if (wanted.length === 0) return new Map();
  const rows = await preparedQuery<MediaRow>(
    m,
    `SELECT ${MEDIA_COLUMNS} FROM media_attachments WHERE id = ANY($1::bigint[])`,
    [wanted.flatMap((s) => s.mediaIds)],
  );
  const byId = new Map(rows.map((r) => [r.id, mediaRecord(r)]));
  return new Map(
    wanted.map((s) => [
      s.id,
      s.mediaIds.map((id) => byId.get(id)).filter((r): r is MediaRecord => r !== undefined),
    ]),
  );
}

function toId(id: string): string {
  if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
  return id;
}

function invalid(problem: string): StatusError {
  return new StatusError('validation_failed', `Validation failed: ${problem}`);
}

export function checkDescription(value: string | undefined): string | null {
  if (value === undefined) return null;
  const text = value.replace(/\r\n?/g, '\n').trim();
  if (text === '') return null;
  if (
    [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].length >
    MAX_MEDIA_DESCRIPTION
  ) {
    throw invalid(`Description is too long (maximum is ${MAX_MEDIA_DESCRIPTION} characters)`);
  }
  if (text.includes('\u0000')) throw invalid('Description contains a NUL character');
  return text.normalize('NFC');
}

/** Mastodon's focal point: "x,y" with each coordinate from -1.0 to 1.0; empty clears it. */
export function parseFocus(value: string | undefined): { x: number; y: number } | null {
  if (value === undefined || value.trim() === '') return null;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(value);
  const [x, y] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(Math.abs(x) <= 1 && Math.abs(y) <= 1)) {
    throw invalid('Focus must be two numbers from -1.0 to 1.0, as "x,y"');
  }
  return { x, y };
}
