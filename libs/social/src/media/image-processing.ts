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
  try {
    const original = await encode(open, sniffed, IMAGE_LIMITS.originalPixels, width, frameHeight);
    // The preview is a still of the first frame.
    const still = () => sharp(data, { limitInputPixels: IMAGE_LIMITS.maxPixels, failOn: 'error' });
    const small = await encode(
      still,
      sniffed.contentType === 'image/gif'
        ? { ...sniffed, contentType: 'image/png', extension: 'png' }
        : sniffed,
      IMAGE_LIMITS.smallPixels,
      width,
      frameHeight,
    );
    return { original, small };
  } catch (err) {
    if (err instanceof ImageRejected) throw err;
    throw new ImageRejected('File is not a valid image');
  }
}

async function encode(
  open: () => Sharp,
  as: SniffedMedia,
  maxPixels: number,
  width: number,
  height: number,
): Promise<ImageVariant> {
  let image = open().rotate();
  const pixels = width * height;
  if (pixels > maxPixels) {
    const scale = Math.sqrt(maxPixels / pixels);
    // EXIF orientations 5–8 swap the sides; `fit: inside` with both bounds handles either way round.
    const side = Math.max(1, Math.floor(Math.max(width, height) * scale));
    image = image.resize(side, side, { fit: 'inside', withoutEnlargement: true });
  }
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
