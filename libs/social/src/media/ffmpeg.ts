import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Runs ffmpeg and ffprobe for video and audio uploads. Each run is a child process started with an
 * argument list and no shell (file names can never be read as options or commands: they are our own
 * temporary paths, and every input is preceded by `-i` or `--`), killed with SIGKILL when it exceeds its
 * time, its address space bounded by `prlimit` where util-linux provides it, its threads limited, and its
 * output to us capped. The binaries are looked up once; without them only images are accepted.
 */
export interface FfmpegSettings {
  ffmpeg: string;
  ffprobe: string;
  timeoutMs: number;
}

/** The address space one ffmpeg run may use: a 4K frame pipeline with two threads fits well within it. */
const MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;
const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
/** What we read from a run's standard output (ffprobe's JSON) and error (the reason of a failure). */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export class MediaToolFailed extends Error {}

export function runTool(binary: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const [file, argv] = PRLIMIT
    ? [PRLIMIT, [`--as=${MEMORY_LIMIT_BYTES}`, '--', binary, ...args]]
    : [binary, [...args]];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT_BYTES,
        windowsHide: true,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const killed = (err as { killed?: boolean }).killed;
        const reason = killed
          ? `took longer than ${timeoutMs} ms`
          : stderr.trim().split('\n').slice(-3).join(' ') || err.message;
        reject(new MediaToolFailed(`${binary.split('/').pop()} failed: ${reason}`));
      },
    );
  });
}

/** Whether both binaries answer; checked once per process at start. */
export async function ffmpegAvailable(settings: FfmpegSettings): Promise<boolean> {
  try {
    await runTool(settings.ffmpeg, ['-hide_banner', '-version'], 10_000);
    await runTool(settings.ffprobe, ['-hide_banner', '-version'], 10_000);
    return true;
  } catch {
    return false;
  }
}

/** What ffprobe tells about a file (only the fields we read). */
export interface ProbedMedia {
  formatName: string;
  duration: number | null;
  bitrate: number | null;
  video: {
    codec: string;
    width: number;
    height: number;
    pixelFormat: string | null;
    frameRate: string;
    frames: number | null;
  } | null;
  audio: { codec: string } | null;
}

type ProbeJson = {
  format?: { format_name?: string; duration?: string; bit_rate?: string };
  streams?: {
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    pix_fmt?: string;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    nb_frames?: string;
    disposition?: { attached_pic?: number };
  }[];
};

export async function probe(settings: FfmpegSettings, path: string): Promise<ProbedMedia> {
  const out = await runTool(
    settings.ffprobe,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', path],
    Math.min(settings.timeoutMs, 60_000),
  );
  let json: ProbeJson;
  try {
    json = JSON.parse(out) as ProbeJson;
  } catch {
    throw new MediaToolFailed('ffprobe answered no JSON');
  }
  const streams = json.streams ?? [];
  // Cover art in audio files is a "video" stream with the attached_pic disposition: not a video.
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.find((s) => s.codec_type === 'audio');
  const num = (v: string | undefined) => (v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));
  const rate =
    video?.avg_frame_rate && video.avg_frame_rate !== '0/0' ? video.avg_frame_rate : video?.r_frame_rate;
  return {
    formatName: json.format?.format_name ?? '',
    duration: num(json.format?.duration),
    bitrate: num(json.format?.bit_rate),
    video: video
      ? {
          codec: video.codec_name ?? '',
          width: video.width ?? 0,
          height: video.height ?? 0,
          pixelFormat: video.pix_fmt ?? null,
          frameRate: rate ?? '0/1',
          frames: num(video.nb_frames),
        }
      : null,
    audio: audio ? { codec: audio.codec_name ?? '' } : null,
  };
}

/** A frame rate as ffprobe writes it ("30000/1001") as a number. */
export function frameRateValue(rate: string): number {
  const [n, d] = rate.split('/').map(Number);
  return d ? n / d : n || 0;
}
