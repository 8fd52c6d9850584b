import { publicUrl, type TownhallConfig } from '@townhall/core';
import type { MediaRecord } from '@townhall/social';

/** Mastodon's MediaAttachment entity (docs.joinmastodon.org/entities/MediaAttachment). */
export interface MastodonMediaAttachment {
  id: string;
  type: MediaRecord['type'];
  url: string | null;
  preview_url: string | null;
  remote_url: string | null;
  preview_remote_url: string | null;
  text_url: string | null;
  meta: Record<string, unknown>;
  description: string | null;
  blurhash: string | null;
}

/** Where a stored variant is served on the tenant's domain (see MediaFilesController). */
export function mediaPath(media: MediaRecord, variant: 'original' | 'small'): string | null {
  if (!media.fileKey || !media.meta.extensions) return null;
  return `/system/media/${media.fileKey}/${variant}.${media.meta.extensions[variant]}`;
}

export function presentMedia(
  links: Pick<TownhallConfig, 'publicUrl'>,
  domain: string,
  media: MediaRecord,
): MastodonMediaAttachment {
  const url = (variant: 'original' | 'small') => {
    const path = mediaPath(media, variant);
    return path === null ? null : publicUrl(links, domain, path);
  };
  const meta: Record<string, unknown> = {};
  if (media.meta.original) meta.original = media.meta.original;
  if (media.meta.small) meta.small = media.meta.small;
  if (media.focus) meta.focus = media.focus;
  return {
    id: media.id,
    type: media.type,
    // Mastodon answers null for both while the file is processed (and when processing failed).
    url: media.processing || media.failed ? null : url('original'),
    preview_url: media.processing || media.failed ? null : url('small'),
    remote_url: media.remoteUrl,
    preview_remote_url: null,
    text_url: null,
    meta,
    description: media.description,
    blurhash: media.blurhash,
  };
}
