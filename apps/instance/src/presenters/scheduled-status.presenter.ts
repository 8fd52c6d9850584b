import type { TownhallConfig } from '@townhall/core';
import type { ScheduledStatusRecord } from '@townhall/social';
import { type MastodonMediaAttachment, presentMedia } from './media.presenter';

/** Mastodon's ScheduledStatus entity (docs.joinmastodon.org/entities/ScheduledStatus). */
export interface MastodonScheduledStatus {
  id: string;
  scheduled_at: string;
  params: {
    text: string | null;
    poll: { options: string[]; expires_in: string; multiple?: boolean; hide_totals?: boolean } | null;
    media_ids: string[] | null;
    sensitive: boolean | null;
    spoiler_text: string | null;
    visibility: string;
    in_reply_to_id: string | null;
    language: string | null;
    application_id: number | null;
    scheduled_at: null;
    idempotency: null;
    with_rate_limit: boolean;
  };
  media_attachments: MastodonMediaAttachment[];
}

export function presentScheduledStatus(
  links: Pick<TownhallConfig, 'publicUrl'>,
  domain: string,
  s: ScheduledStatusRecord,
): MastodonScheduledStatus {
  const p = s.params;
  return {
    id: s.id,
    scheduled_at: s.scheduledAt.toISOString(),
    params: {
      text: p.status ?? null,
      poll: p.poll
        ? {
            options: (p.poll.options as string[]) ?? [],
            expires_in: String(p.poll.expiresIn),
            multiple: p.poll.multiple,
            hide_totals: p.poll.hideTotals,
          }
        : null,
      media_ids: p.mediaIds && p.mediaIds.length > 0 ? p.mediaIds : null,
      sensitive: p.sensitive ?? null,
      spoiler_text: p.spoilerText ?? null,
      visibility: p.visibility ?? 'public',
      in_reply_to_id: p.inReplyToId ?? null,
      language: p.language ?? null,
      application_id: p.applicationId === null ? null : Number(p.applicationId),
      scheduled_at: null,
      idempotency: null,
      with_rate_limit: false,
    },
    media_attachments: s.media.map((a) => presentMedia(links, domain, a)),
  };
}
