import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { type FfmpegSettings, frameRateValue, type ProbedMedia, probe, runTool } from './ffmpeg';
import { blurhashOf, ImageRejected } from './image-processing';
import type { SniffedMedia } from './media-sniffing';

/**
 * Mastodon 4.3's limits for video and audio (MediaAttachment::VIDEO_LIMIT, MAX_VIDEO_MATRIX_LIMIT,
 * MAX_VIDEO_FRAME_RATE, MAX_VIDEO_FRAMES): 99 MiB, 3840×2160 pixels, 120 frames a second and 36,000
 * frames (five minutes at 120 fps).
 */
export const AV_LIMITS = {
  maxBytes: 99 * 1024 * 1024,
  maxPixels: 8_294_400,
  maxFrameRate: 120,
  maxFrames: 36_000,
} as const;

/** The container types sniffed from bytes that are taken as video or audio (ffprobe then says which). */
export const VIDEO_TYPES = ['video/mp4', 'video/webm', 'video/quicktime'] as const;
export const AUDIO_TYPES = [
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/flac',
  'audio/aac',
  'audio/mp4',
] as const;

/**
 * The types announced in the instance entity when ffmpeg is there: Mastodon's names (browsers give
 * several for the same format) of the formats sniffed above. Uploads are still told apart by their bytes.
 */
export const ANNOUNCED_AV_TYPES = [
  'video/webm',
  'video/mp4',
  'video/quicktime',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wave',
  'audio/vnd.wave',
  'audio/ogg',
  'audio/vorbis',
  'audio/mpeg',
  'audio/mp3',
  'audio/webm',
  'audio/flac',
  'audio/aac',
  'audio/m4a',
  'audio/x-m4a',
  'audio/mp4',
] as const;

/** The still preview of a video (its first frame) or audio file (its waveform): at most 640×640. */
const PREVIEW_SIDE = 640;

export interface AvVariantFile {
  path: string;
  contentType: string;
  extension: string;
}

export interface ProcessedAv {
  /** An animated GIF becomes `gifv`, a looping video without sound, as Mastodon's gif transcoder makes it. */
  type: 'video' | 'audio' | 'gifv';
  original: AvVariantFile & { meta: Record<string, number | string> };
  small: { data: Buffer; width: number; height: number; contentType: string; extension: string };
  blurhash: string;
}

/**
 * What an uploaded video or audio file is, checked before anything is stored: a file ffprobe cannot
 * read, with neither a video nor an audio stream, or beyond Mastodon's limits is refused (ImageRejected,
 * so that the caller answers 422 with its message). A video container with sound only is audio, as
 * Mastodon's type corrector makes it.
 */
export async function checkAv(
  settings: FfmpegSettings,
  path: string,
): Promise<{ type: 'video' | 'audio'; probed: ProbedMedia }> {
  let probed: ProbedMedia;
  try {
    probed = await probe(settings, path);
  } catch {
    throw new ImageRejected('File is not a valid video or audio file');
  }
  if (probed.video) {
    const { width, height, frameRate, frames } = probed.video;
    if (width <= 0 || height <= 0) throw new ImageRejected('File is not a valid video or audio file');
    if (width * height > AV_LIMITS.maxPixels) {
      throw new ImageRejected(`${width}x${height} videos are not supported`);
    }
    const fps = frameRateValue(frameRate);
    if (fps > AV_LIMITS.maxFrameRate)
      throw new ImageRejected(`${Math.floor(fps)}fps videos are not supported`);
    const count = frames ?? (probed.duration ?? 0) * fps;
    if (count > AV_LIMITS.maxFrames)
      throw new ImageRejected('Videos longer than 36000 frames are not supported');
    return { type: 'video', probed };
  }
  if (probed.audio) return { type: 'audio', probed };
  throw new ImageRejected('File is not a valid video or audio file');
}

/**
 * Makes what Mastodon keeps of a video or audio upload, in `dir`: video as H.264 in MP4 (streams copied
 * when they already are H.264/yuv420p with AAC or no sound, otherwise transcoded with Mastodon's
 * settings), audio as MP3 (`q:a 2`); both without any of the upload's metadata (titles, GPS position of a
 * phone video, encoder tags, chapters, subtitle and data streams, cover art). The preview is the video's
 * first frame or the audio's waveform, re-encoded by sharp, and the blurhash comes from it. An animated
 * GIF goes the way of video and comes out as `gifv`.
 */
export async function processAv(
  settings: FfmpegSettings,
  input: string,
  dir: string,
  sniffed: SniffedMedia,
): Promise<ProcessedAv> {
  const { type, probed } = await checkAv(settings, input);
  // Two threads for decoding (before the input) and two for encoding (before the output, always last).
  const ff = (args: string[]) => {
    const [output, options] = [args[args.length - 1], args.slice(0, -1)];
    const common = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-threads', '2'];
    return runTool(settings.ffmpeg, [...common, ...options, '-threads', '2', output], settings.timeoutMs);
  };
  const stillPath = join(dir, 'still.png');
  let original: AvVariantFile;
  if (type === 'video') {
    original = { path: join(dir, 'original.mp4'), contentType: 'video/mp4', extension: 'mp4' };
    const v = probed.video!;
    const copyable =
      sniffed.contentType === 'video/mp4' &&
      v.codec === 'h264' &&
      v.pixelFormat === 'yuv420p' &&
      v.width % 2 === 0 &&
      v.height % 2 === 0 &&
      (probed.audio === null || probed.audio.codec === 'aac');
    const codecs = copyable
      ? ['-c', 'copy']
      : [
          ...['-c:v', 'libx264', '-crf', '18', '-maxrate', '1300K', '-bufsize', '1300K'],
          ...['-pix_fmt', 'yuv420p', '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-fps_mode', 'cfr'],
          ...['-frames:v', String(60 * 60 * 3), '-c:a', 'aac', '-b:a', '160k'],
        ];
    await ff([
      ...['-i', input, '-map', '0:v:0', '-map', '0:a:0?', '-sn', '-dn'],
      ...['-map_metadata', '-1', '-map_chapters', '-1', ...codecs],
      ...['-movflags', '+faststart', '-f', 'mp4', original.path],
    ]);
    await ff([
      ...['-i', original.path, '-frames:v', '1'],
      ...[
        '-vf',
        `scale=w='min(${PREVIEW_SIDE},iw)':h='min(${PREVIEW_SIDE},ih)':force_original_aspect_ratio=decrease`,
      ],
      ...['-f', 'image2', '-c:v', 'png', stillPath],
    ]);
  } else {
    original = { path: join(dir, 'original.mp3'), contentType: 'audio/mpeg', extension: 'mp3' };
    await ff([
      ...['-i', input, '-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1'],
      ...['-c:a', 'libmp3lame', '-q:a', '2', '-id3v2_version', '0', '-f', 'mp3', original.path],
    ]);
    await ff([
      ...['-i', original.path, '-filter_complex'],
      `aformat=channel_layouts=mono,showwavespic=s=${PREVIEW_SIDE}x${PREVIEW_SIDE / 2}:colors=#6364ff`,
      ...['-frames:v', '1', '-f', 'image2', '-c:v', 'png', stillPath],
    ]);
  }
  const made = await probe(settings, original.path);
  const meta: Record<string, number | string> = {};
  if (type === 'video' && made.video) {
    meta.width = made.video.width;
    meta.height = made.video.height;
    meta.frame_rate = made.video.frameRate;
  }
  if (made.duration !== null) meta.duration = made.duration;
  if (made.bitrate !== null) meta.bitrate = made.bitrate;
  const { data, info } = await sharp(await readFile(stillPath), { failOn: 'error' })
    .png()
    .toBuffer({ resolveWithObject: true });
  return {
    type: sniffed.contentType === 'image/gif' ? 'gifv' : type,
    original: { ...original, meta },
    small: { data, width: info.width, height: info.height, contentType: 'image/png', extension: 'png' },
    blurhash: await blurhashOf(data),
  };
}
