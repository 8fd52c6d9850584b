import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { checkText } from '@townhall/core';
import { TenantContext, TenantTransactions } from '@townhall/tenancy';
import { ImageRejected, processProfileImage } from '../media/image-processing';
import { sniffMedia } from '../media/media-sniffing';
import { MediaStorage } from '../media/media-storage';
import { acceptPendingRequests } from '../relationships/relationships';
import { StatusError } from '../statuses/status-errors';

/** Mastodon's profile limits (Account model and its avatar and header concerns, with libvips). */
export const PROFILE_LIMITS = {
  displayName: 30,
  note: 500,
  fields: 4,
  fieldName: 255,
  fieldValue: 255,
  imageBytes: 8 * 1024 * 1024,
  avatar: [400, 400],
  header: [1500, 500],
} as const;

const PRIVACIES = ['public', 'unlisted', 'private'] as const;
const LANGUAGE = /^[a-z]{2,3}$/;

/** What `update_credentials` may change; absent fields keep their value. */
export interface ProfileChange {
  displayName?: string;
  note?: string;
  locked?: boolean;
  bot?: boolean;
  discoverable?: boolean;
  hideCollections?: boolean;
  indexable?: boolean;
  fields?: { name?: string; value?: string }[];
  avatar?: Buffer;
  header?: Buffer;
  source?: { privacy?: string; sensitive?: boolean; language?: string };
}

type StoredImage = { key: string; static?: string };

/**
 * An account's own profile (Mastodon's UpdateCredentials): names, bio and fields checked by the same
 * text rule as every name people read — no control, bidirectional or invisible characters, which would
 * let an impostor's name display as an agency's — pictures re-encoded without metadata and cropped to
 * Mastodon's sizes, posting defaults kept with the login. Everything is checked before anything is
 * written; pictures are stored before the row that names them.
 */
@Injectable()
export class ProfileCommands {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly storage: MediaStorage,
  ) {}

  async update(accountId: string, change: ProfileChange): Promise<void> {
    const problems: string[] = [];
    const displayName =
      change.displayName === undefined
        ? undefined
        : optionalText(change.displayName, 'Display name', PROFILE_LIMITS.displayName, problems);
    const note = change.note === undefined ? undefined : multilineText(change.note, problems);
    const fields = change.fields === undefined ? undefined : checkFields(change.fields, problems);
    const privacy = change.source?.privacy;
    if (privacy !== undefined && !(PRIVACIES as readonly string[]).includes(privacy)) {
      problems.push('Default privacy is not included in the list');
    }
    const language = change.source?.language;
    if (language !== undefined && language !== '' && !LANGUAGE.test(language)) {
      problems.push('Default language is not a valid language code');
    }
    const avatar =
      change.avatar && (await this.image(change.avatar, 'Avatar', PROFILE_LIMITS.avatar, problems));
    const header =
      change.header && (await this.image(change.header, 'Header', PROFILE_LIMITS.header, problems));
    if (problems.length > 0)
      throw new StatusError('validation_failed', `Validation failed: ${problems.join(', ')}`);

    const tenant = TenantContext.current();
    const stored: Record<'avatar' | 'header', StoredImage | undefined> = {
      avatar: undefined,
      header: undefined,
    };
    for (const [kind, image] of [
      ['avatar', avatar],
      ['header', header],
    ] as const) {
      if (!image) continue;
      const fileKey = `${await this.transactions.run(nextId)}/${randomBytes(16).toString('hex')}`;
      await this.storage.put(
        `${tenant.id}/${fileKey}/original.${image.original.extension}`,
        image.original.data,
      );
      if (image.still)
        await this.storage.put(`${tenant.id}/${fileKey}/small.${image.still.extension}`, image.still.data);
      stored[kind] = {
        key: `media/${fileKey}/original.${image.original.extension}`,
        ...(image.still ? { static: `media/${fileKey}/small.${image.still.extension}` } : {}),
      };
    }

    await this.transactions.run(async (m) => {
      await m.query(
        `UPDATE accounts SET
            display_name = coalesce($2, display_name), note = coalesce($3, note),
            locked = coalesce($4, locked), bot = coalesce($5, bot), discoverable = coalesce($6, discoverable),
            hide_collections = coalesce($7, hide_collections), indexable = coalesce($8, indexable),
            fields = coalesce($9::jsonb, fields), avatar = coalesce($10::jsonb, avatar),
            header = coalesce($11::jsonb, header), updated_at = now()
          WHERE id = $1`,
        [
          accountId,
          displayName ?? null,
          note ?? null,
          change.locked ?? null,
          change.bot ?? null,
          change.discoverable ?? null,
          change.hideCollections ?? null,
          change.indexable ?? null,
          fields === undefined ? null : JSON.stringify(fields),
          stored.avatar ? JSON.stringify(stored.avatar) : null,
          stored.header ? JSON.stringify(stored.header) : null,
        ],
      );
      const settings: Record<string, unknown> = {};
      if (privacy !== undefined) settings.default_privacy = privacy;
      if (change.source?.sensitive !== undefined) settings.default_sensitive = change.source.sensitive;
      if (language !== undefined) settings.default_language = language === '' ? null : language;
      if (Object.keys(settings).length > 0) {
        await m.query(
          `UPDATE users SET settings = settings || $2::jsonb, updated_at = now() WHERE account_id = $1`,
          [accountId, JSON.stringify(settings)],
        );
      }
      // Unlocking an account accepts the requests that were waiting, as Mastodon does.
      if (change.locked === false) await acceptPendingRequests(m, accountId);
    });
  }

  /** Back to Mastodon's placeholder picture. */
  async removeImage(accountId: string, kind: 'avatar' | 'header'): Promise<void> {
    await this.transactions.run((m) =>
      m.query(
        `UPDATE accounts SET ${kind === 'avatar' ? 'avatar' : 'header'} = NULL, updated_at = now() WHERE id = $1`,
        [accountId],
      ),
    );
  }

  private async image(
    data: Buffer,
    what: string,
    [width, height]: readonly [number, number],
    problems: string[],
  ): Promise<Awaited<ReturnType<typeof processProfileImage>> | undefined> {
    if (data.length > PROFILE_LIMITS.imageBytes) {
      problems.push(`${what} file size must be less than ${PROFILE_LIMITS.imageBytes / 1024 / 1024} MB`);
      return undefined;
    }
    const sniffed = sniffMedia(data);
    if (!sniffed || sniffed.kind !== 'image') {
      problems.push(`${what} content type is invalid`);
      return undefined;
    }
    try {
      return await processProfileImage(data, sniffed, width, height);
    } catch (err) {
      if (!(err instanceof ImageRejected)) throw err;
      problems.push(`${what} ${err.message.replace(/^File /, '')}`);
      return undefined;
    }
  }
}

async function nextId(m: { query(sql: string): Promise<unknown> }): Promise<string> {
  const [{ id }] = (await m.query(`SELECT platform.next_id()::text AS id`)) as { id: string }[];
  return id;
}

/** One line of text people read, which may be empty. */
function optionalText(
  value: string,
  field: string,
  maxLength: number,
  problems: string[],
): string | undefined {
  if (value.trim() === '') return '';
  const checked = checkText(value, { field, maxLength });
  if (checked.problem !== undefined) {
    problems.push(checked.problem);
    return undefined;
  }
  return checked.text;
}

/** A bio: lines of text people read, at most 500 characters in all. */
function multilineText(value: string, problems: string[]): string | undefined {
  const note = value.replace(/\r\n?/g, '\n').trim();
  if (
    [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(note)].length > PROFILE_LIMITS.note
  ) {
    problems.push(`Note is too long (maximum is ${PROFILE_LIMITS.note} characters)`);
    return undefined;
  }
  const lines = note.split('\n').map((line) => optionalText(line, 'Note', PROFILE_LIMITS.note, problems));
  return lines.some((l) => l === undefined) ? undefined : lines.join('\n');
}

/** Profile fields: at most four; pairs left blank are dropped, as Mastodon drops them. */
function checkFields(
  fields: { name?: string; value?: string }[],
  problems: string[],
): { name: string; value: string }[] | undefined {
  const kept = fields.filter((f) => (f.name ?? '').trim() !== '' || (f.value ?? '').trim() !== '');
  if (kept.length > PROFILE_LIMITS.fields) {
    problems.push(`Fields is too long (maximum is ${PROFILE_LIMITS.fields} fields)`);
    return undefined;
  }
  const checked = kept.map((f) => ({
    name: optionalText(f.name ?? '', 'Field name', PROFILE_LIMITS.fieldName, problems),
    value: optionalText(f.value ?? '', 'Field value', PROFILE_LIMITS.fieldValue, problems),
  }));
  if (checked.some((f) => f.name === undefined || f.value === undefined)) return undefined;
  return checked as { name: string; value: string }[];
}
