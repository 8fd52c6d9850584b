import { encode as encodeBlurhash } from 'blurhash';
import sharp, { type Metadata, type Sharp } from 'sharp';
import type { SniffedMedia } from './media-sniffing';

/**
 * Mastodon's image limits (app/models/media_attachment.rb): uploads up to 16 MiB and 7680×4320 pixels;
 * originals kept at most 3840×2160 pixels' worth, previews ("small") at 640×360's worth, aspect kept.
 */
export const IMAGE_LIMITS = {
  maxBytes: 16 * 1024 * 1024,
  maxPixels: 33_177_600,
  originalPixels: 8_294_400,
  smallPixels: 230_400,
} as const;

/** The image formats this instance decodes and stores (HEIC needs a decoder the bundled libvips lacks). */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif'] as const;

export interface ImageVariant {
  data: Buffer;
  width: number;
  height: number;
  contentType: string;
  extension: string;
}

export interface ProcessedImage {
  original: ImageVariant;
  small: ImageVariant;
  blurhash: string;
}

/** Mastodon's BLURHASH_OPTIONS: four components across and four down. */
const BLURHASH_COMPONENTS = 4;

/**
 * The blurhash of an image (a preview's bytes): computed from its pixels scaled to fit 64×64, which
 * keeps the cost small and the hash the same as from the full picture (it holds 16 cosine terms).
 */
export async function blurhashOf(image: Buffer): Promise<string> {
  const { data, info } = await sharp(image, { failOn: 'error' })
    .resize(64, 64, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encodeBlurhash(
    new Uint8ClampedArray(data.buffer, data.byteOffset, data.length),
    info.width,
    info.height,
    BLURHASH_COMPONENTS,
    BLURHASH_COMPONENTS,
  );
}

export class ImageRejected extends Error {}

const SHARP_FORMAT: Record<string, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'heif',
};

/**
 * Decodes an uploaded image and writes it again: turned upright by its EXIF orientation, scaled down
 * to the original's pixel limit, and without any metadata (EXIF with its GPS position and camera serial,
 * XMP, IPTC, comments) — re-encoding keeps pixels only. A preview is made beside it. A file that does not
 * decode as the format its bytes announce, or that is larger than the limits, is refused.
 */
export async function processImage(data: Buffer, sniffed: SniffedMedia): Promise<ProcessedImage> {
  const { open, still, width, frameHeight } = await decodable(data, sniffed);
  return reencoded(async () => {
    const original = await encode(
      open,
      sniffed,
      withinPixels(IMAGE_LIMITS.originalPixels, width, frameHeight),
    );
    // The preview is a still of the first frame; the blurhash is made from it, as Mastodon's is.
    const small = await encode(
      still,
      stillFormat(sniffed),
      withinPixels(IMAGE_LIMITS.smallPixels, width, frameHeight),
    );
    return { original, small, blurhash: await blurhashOf(small.data) };
  });
}

/**
 * An account's avatar or header: cropped to cover `width`×`height` (Mastodon's 400×400 and 1500×500),
 * without metadata; an animated one keeps its frames and gets a still beside it (`avatar_static`).
 */
export async function processProfileImage(
  data: Buffer,
  sniffed: SniffedMedia,
  width: number,
  height: number,
): Promise<{ original: ImageVariant; still: ImageVariant | null }> {
  const { open, still, animated } = await decodable(data, sniffed);
  const cover = (image: Sharp) => image.resize(width, height, { fit: 'cover', withoutEnlargement: true });
  return reencoded(async () => ({
    original: await encode(open, sniffed, cover),
    still: animated ? await encode(still, stillFormat(sniffed), cover) : null,
  }));
}

function stillFormat(sniffed: SniffedMedia): SniffedMedia {
  return sniffed.contentType === 'image/gif'
    ? { ...sniffed, contentType: 'image/png', extension: 'png' }
    : sniffed;
}

async function reencoded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ImageRejected) throw err;
    throw new ImageRejected('File is not a valid image');
  }
}

/** Opens an image whose bytes announce `sniffed`, refusing one that does not decode as that or is too large. */
async function decodable(
  data: Buffer,
  sniffed: SniffedMedia,
): Promise<{ open: () => Sharp; still: () => Sharp; width: number; frameHeight: number; animated: boolean }> {
  const expected = SHARP_FORMAT[sniffed.contentType];
  if (!expected) throw new ImageRejected(`${sniffed.contentType} images are not supported`);
  const animated = sniffed.contentType === 'image/gif' || sniffed.contentType === 'image/webp';
  const open = () =>
    sharp(data, {
      limitInputPixels: IMAGE_LIMITS.maxPixels,
      failOn: 'error',
      animated,
      sequentialRead: true,
    });
  const still = () => sharp(data, { limitInputPixels: IMAGE_LIMITS.maxPixels, failOn: 'error' });
  let meta: Metadata;
  try {
    meta = await open().metadata();
  } catch {
    throw new ImageRejected('File is not a valid image');
  }
  if (meta.format !== expected) throw new ImageRejected('File is not a valid image');
  const width = meta.width ?? 0;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  if (width * frameHeight > IMAGE_LIMITS.maxPixels || width === 0 || frameHeight === 0) {
    throw new ImageRejected(`Image is larger than ${IMAGE_LIMITS.maxPixels} pixels`);
  }
  return { open, still, width, frameHeight, animated: animated && (meta.pages ?? 1) > 1 };
}

/** Scales down to at most `maxPixels`, keeping the aspect (EXIF orientations 5–8 swap the sides). */
function withinPixels(maxPixels: number, width: number, height: number): (image: Sharp) => Sharp {
  return (image) => {
    const pixels = width * height;
    if (pixels <= maxPixels) return image;
    const side = Math.max(1, Math.floor(Math.max(width, height) * Math.sqrt(maxPixels / pixels)));
    return image.resize(side, side, { fit: 'inside', withoutEnlargement: true });
  };
}

async function encode(
  open: () => Sharp,
  as: SniffedMedia,
  resize: (image: Sharp) => Sharp,
): Promise<ImageVariant> {
  let image = resize(open().rotate());
  switch (as.contentType) {
    case 'image/jpeg':
      image = image.jpeg({ quality: 90, mozjpeg: true });
      break;
    case 'image/png':
      image = image.png();
      break;
    case 'image/gif':
      image = image.gif();
      break;
    case 'image/webp':
      image = image.webp({ quality: 90 });
      break;
    default:
      image = image.avif({ quality: 70 });
  }
  const { data, info } = await image.toBuffer({ resolveWithObject: true });
  const frames = (info as { pageHeight?: number }).pageHeight;
  return {
    data,
    width: info.width,
    height: frames ?? info.height,
    contentType: as.contentType,
    extension: as.extension,
  };
}
