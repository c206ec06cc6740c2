import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ExportError } from '../errors.js';
import { startFfmpeg } from './ffmpeg.js';
import { clamp, numberOf, openPlayer, playerPage, type RecordingDeps, type RecordingTarget, selectorOf } from './recording.js';

export type VideoFormat = 'video/mp4' | 'video/webm' | 'image/gif';

/** PostHog's ReplayInactivityPeriod, as written back into export_context.inactivity_periods. */
export interface InactivityPeriod {
  ts_from_s: number;
  ts_to_s: number;
  active: boolean;
  /** The second of the video this period starts at; only periods the video reached. */
  recording_ts_from_s?: number;
}

export interface VideoDeps extends RecordingDeps {
  /** FFMPEG_PATH; unset, `ffmpeg` on PATH. */
  ffmpegPath: string | undefined;
}

/** §3.4: a larger file is an error. */
export const MAX_VIDEO_BYTES = 100 * 1024 * 1024;
/** Neither side of a video exceeds this (PostHog scales larger sizes down, keeping the aspect ratio). */
const MAX_SIDE = 1400;
/** Frames per second of MP4 and WebM; GIFs are 12 (PostHog's fps filter). */
const VIDEO_FPS = 25;
const GIF_FPS = 12;
/** The screencast's JPEG quality: frames are encoded again by ffmpeg. */
const FRAME_QUALITY = 85;
/** Frames waiting for ffmpeg beyond this (about 10 s of busy 1400 × 600 video) fail the export rather than grow memory. */
const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

/** The clamped inputs of §3.4. */
export interface VideoSettings {
  startSeconds: number;
  /** Seconds of the recording the video plays (inactive periods skipped), at `speed`. */
  durationSeconds: number;
  speed: number;
  width: number;
  height: number;
  selector: string;
}

/**
 * §3.4's inputs: the start is start_offset_s, else timestamp (≥ 0); the duration is end_offset_s − start when
 * end_offset_s is after the start, else duration (default 5), clamped to 1–3600 s; playback_speed 1–360; width
 * 400–3840 and height 300–2160 (default 1400 × 600), then scaled down so that neither side exceeds 1400, and to even
 * sizes (yuv420p needs them).
 */
export function videoSettings(context: Record<string, unknown>): VideoSettings {
  const startSeconds = Math.max(0, numberOf(context.start_offset_s) ?? numberOf(context.timestamp) ?? 0);
  const end = numberOf(context.end_offset_s);
  const durationSeconds = clamp(end !== undefined && end > startSeconds ? end - startSeconds : (numberOf(context.duration) ?? 5), 1, 3600);
  const speed = clamp(numberOf(context.playback_speed) ?? 1, 1, 360);
  let width = clamp(Math.round(numberOf(context.width) ?? 1400), 400, 3840);
  let height = clamp(Math.round(numberOf(context.height) ?? 600), 300, 2160);
  if (width > MAX_SIDE || height > MAX_SIDE) {
    const scale = MAX_SIDE / Math.max(width, height);
    width = Math.floor(width * scale);
    height = Math.floor(height * scale);
  }
  return { startSeconds, durationSeconds, speed, width: width - (width % 2), height: height - (height % 2), selector: selectorOf(context.css_selector) };
}

/** JPEG frames at `fps`, from stdin or a file of them. */
const framesInput = (fps: number, from = 'pipe:0') => ['-f', 'image2pipe', '-framerate', String(fps), '-c:v', 'mjpeg', '-i', from];

/** ffmpeg's arguments for an MP4 or WebM from JPEG frames at `fps` on stdin, encoded as §3.4 says. */
function encoderArgs(format: Exclude<VideoFormat, 'image/gif'>, fps: number, size: { width: number; height: number }, file: string): string[] {
  const input = framesInput(fps);
  const scale = `scale=${size.width}:${size.height}`;
  if (format === 'video/webm') return [...input, '-vf', scale, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-crf', '10', '-b:v', '2M', '-pix_fmt', 'yuv420p', '-y', file];
  return [...input, '-vf', scale, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-y', file];
}

/**
 * Turns frames that arrive when the page changes into a constant frame rate: each tick from `start` on repeats the
 * newest frame shown by then. Frames go to ffmpeg's stdin as they come, so encoding runs beside the capture; when
 * more than `maxBuffered` bytes wait for it (ffmpeg far slower than real time), `onOverflow` is called once.
 */
export function constantRate(out: Writable, fps: number, maxBuffered = Number.POSITIVE_INFINITY, onOverflow: () => void = () => undefined) {
  const step = 1000 / fps;
  let last: Buffer | undefined;
  let next = Number.NaN;
  let written = 0;
  let done = false;
  let overflowed = false;
  const emitUntil = (time: number) => {
    while (last && next < time) {
      out.write(last);
      written++;
      next += step;
    }
    if (!overflowed && out.writableLength > maxBuffered) {
      overflowed = true;
      onOverflow();
    }
  };
  return {
    /** A frame shown from `time` (ms since the epoch) on. */
    frame(jpeg: Buffer, time: number): void {
      if (done) return;
      if (!Number.isNaN(next)) emitUntil(time);
      last = jpeg;
    },
    /** The video's first tick. */
    start(time: number): void {
      next = time;
    },
    /** Fills the ticks up to `time` with the newest frame; answers how many frames were written. */
    finish(time: number): number {
      emitUntil(time);
      if (written === 0 && last) {
        out.write(last);
        written++;
      }
      done = true;
      return written;
    },
  };
}

/** Runs ffmpeg to the end with nothing on its stdin. */
async function runFfmpeg(configured: string | undefined, args: string[], signal: AbortSignal): Promise<void> {
  const ffmpeg = startFfmpeg(configured, args, signal);
  ffmpeg.stdin.end();
  await ffmpeg.done;
}

/**
 * A GIF from the captured frames (a file of JPEGs at 12 fps): PostHog's palettegen/paletteuse and loop forever, in two
 * passes over the file, because one pass (split) would hold every frame in memory until the palette is made.
 */
async function encodeGif(configured: string | undefined, frames: string, size: { width: number; height: number }, file: string, signal: AbortSignal): Promise<void> {
  const palette = path.join(path.dirname(file), 'palette.png');
  const scale = `scale=${size.width}:${size.height},fps=${GIF_FPS}`;
  await runFfmpeg(configured, [...framesInput(GIF_FPS, frames), '-vf', `${scale},palettegen`, '-y', palette], signal);
  await runFfmpeg(configured, [...framesInput(GIF_FPS, frames), '-i', palette, '-lavfi', `${scale}[v];[v][1:v]paletteuse`, '-loop', '0', '-y', file], signal);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * video/mp4, video/webm or image/gif of a recording: the player (export mode) plays in Chromium at playback_speed
 * from the start, skipping inactive periods outright, while a CDP screencast sends its frames; they are piped into
 * ffmpeg at a constant frame rate (each repeated until the next) and encoded as §3.4 says. The video lasts
 * duration / playback_speed seconds, or less when the recording ends first. Writes the file in dir; answers it and
 * the recording's inactivity periods.
 */
export async function produceRecordingVideo(
  deps: VideoDeps,
  target: RecordingTarget,
  context: Record<string, unknown>,
  format: VideoFormat,
  dir: string,
): Promise<{ file: string; inactivityPeriods: InactivityPeriod[] }> {
  const settings = videoSettings(context);
  const file = path.join(dir, `recording.${format === 'image/gif' ? 'gif' : format === 'video/webm' ? 'webm' : 'mp4'}`);
  const fps = format === 'image/gif' ? GIF_FPS : VIDEO_FPS;
  const wallMs = (settings.durationSeconds * 1000) / settings.speed;
  const { signal } = target;
  const html = await playerPage(deps, target, context);
  const inactivityPeriods = await deps.browser.withPage(
    { viewport: { width: settings.width, height: settings.height } },
    async (page) => {
      await openPlayer(deps, page, target, html, settings.startSeconds, settings.selector);
      await page
        .waitForFunction('document.body.dataset.loadedBlocks === document.body.dataset.totalBlocks', undefined, { timeout: 60_000, polling: 100 })
        .catch((error: unknown) => {
          if (signal.aborted) throw error;
          throw new ExportError(`Timeout while loading recording ${target.recordingId}`);
        });
      // MP4 and WebM are encoded while the capture runs; a GIF's frames go to a file, encoded once the page is closed
      // (see encodeGif). A missing
      // ffmpeg fails at once, not after the capture (for a GIF, `-version` tells).
      const gifFrames = format === 'image/gif' ? path.join(dir, 'frames.mjpeg') : undefined;
      const ffmpeg = gifFrames ? startFfmpeg(deps.ffmpegPath, ['-version'], signal) : startFfmpeg(deps.ffmpegPath, encoderArgs(format as Exclude<VideoFormat, 'image/gif'>, fps, settings, file), signal);
      const sink = gifFrames ? createWriteStream(gifFrames) : ffmpeg.stdin;
      // A write that fails is reported by `finished` (a GIF's file) or `failed` (ffmpeg), not as an unhandled error.
      sink.on('error', () => undefined);
      const failed = ffmpeg.done.then(
        () => undefined,
        (error: unknown) => error,
      );
      if (gifFrames) {
        const error = await failed;
        if (error) throw error;
      }
      let overflow: (error: Error) => void = () => undefined;
      const overflowed = new Promise<never>((_, reject) => (overflow = reject));
      overflowed.catch(() => undefined);
      try {
        const frames = constantRate(sink, fps, MAX_BUFFERED_BYTES, () =>
          overflow(new ExportError('ffmpeg could not keep up with the capture (more than 256 MB of frames waiting): export a smaller size or a shorter part')),
        );
        frames.frame(await page.screenshot({ type: 'jpeg', quality: FRAME_QUALITY }), 0);
        const cdp = await page.context().newCDPSession(page);
        cdp.on('Page.screencastFrame', ({ data, metadata, sessionId }) => {
          void cdp.send('Page.screencastFrameAck', { sessionId }).catch(() => undefined);
          frames.frame(Buffer.from(data, 'base64'), metadata.timestamp !== undefined ? metadata.timestamp * 1000 : Date.now());
        });
        await cdp.send('Page.startScreencast', { format: 'jpeg', quality: FRAME_QUALITY, maxWidth: settings.width, maxHeight: settings.height, everyNthFrame: 1 });
        const started = (await page.evaluate(`burrowExport.play(${settings.speed})`)) as number;
        frames.start(started);
        const ended = page
          .waitForSelector('body[data-ended="true"]', { state: 'attached', timeout: wallMs + 60_000 })
          .then(() => 'ended' as const, () => 'ended' as const);
        const stopped = gifFrames ? new Promise<never>(() => {}) : failed.then((error) => Promise.reject(error ?? new ExportError('ffmpeg exited before the video was done')));
        stopped.catch(() => undefined);
        await Promise.race([ended, sleep(started + wallMs - Date.now()), stopped, overflowed]);
        const endedAt = (await page.evaluate('burrowExport.ended()')) as number | undefined;
        const end = Math.min(started + wallMs, endedAt ?? Number.POSITIVE_INFINITY);
        await cdp.send('Page.stopScreencast').catch(() => undefined);
        const periods = await page.evaluate('burrowExport.periods()');
        frames.finish(end);
        sink.end();
        if (gifFrames) {
          await finished(sink);
        } else {
          const error = await failed;
          if (error) throw error;
        }
        return periods as InactivityPeriod[];
      } finally {
        ffmpeg.kill();
        sink.destroy();
      }
    },
    signal,
  );
  // The page is closed by now: a GIF is encoded without holding a browser slot.
  if (format === 'image/gif') await encodeGif(deps.ffmpegPath, path.join(dir, 'frames.mjpeg'), settings, file, signal);
  const { size } = await stat(file);
  if (size > MAX_VIDEO_BYTES) throw new ExportError(`The video is ${Math.round(size / 1024 / 1024)} MB, more than the ${MAX_VIDEO_BYTES / 1024 / 1024} MB an export may be: export a shorter part or a smaller size`);
  return { file, inactivityPeriods };
}
