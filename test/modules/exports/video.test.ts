import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJwt, JwtAudience } from '../../../src/lib/jwt.js';
import { checkFfmpeg } from '../../../src/modules/exports/index.js';
import { constantRate, produceRecordingVideo, videoSettings } from '../../../src/modules/exports/producers/video.js';
import { ok } from '../../helpers/api.js';
import type { TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { decodeRgb, rgbAt } from '../../helpers/images.js';
import { capturingLogger, waitFor } from '../../helpers/jobs.js';
import { BLUE, contentOf, contextWithWorker, exportAndWait, footerInk, GREEN, RED, replayEvents, sendReplay } from './replay-fixtures.js';

const run = promisify(execFile);
const COLOURS = { red: RED, green: GREEN, blue: BLUE } as const;

/** Which of the test colours a pixel is (within a video codec's error), or undefined. */
const colourOf = (pixel: number[]) =>
  (Object.keys(COLOURS) as (keyof typeof COLOURS)[]).find((name) => COLOURS[name].every((c, i) => Math.abs(pixel[i]! - c) <= 30));

async function probe(file: string) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height,pix_fmt:format=duration', '-of', 'json', file]);
  const parsed = JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number; pix_fmt: string }[]; format: { duration: string } };
  return { ...parsed.streams[0]!, duration: Number(parsed.format.duration) };
}

/** The colour at the middle of the video's frames, `fps` of them a second, in order. */
async function colourSequence(video: Buffer, extension: string, fps: number, size: { width: number; height: number }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'burrow-video-test-'));
  try {
    const file = path.join(dir, `video.${extension}`);
    await writeFile(file, video);
    await run('ffmpeg', ['-v', 'error', '-i', file, '-vf', `fps=${fps}`, path.join(dir, 'frame-%04d.png')]);
    const frames = (await readdir(dir)).filter((name) => name.startsWith('frame-')).sort();
    const colours: (string | undefined)[] = [];
    for (const name of frames) colours.push(colourOf(rgbAt(await decodeRgb(await sharp(path.join(dir, name)).toBuffer()), size.width / 2, size.height / 2)));
    return colours;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs of equal values: [red, red, green] -> [red, green]. */
const runs = <T>(values: T[]) => values.filter((value, i) => i === 0 || value !== values[i - 1]);

describe('a constant frame rate from frames that come when the page changes (constantRate)', () => {
  const frame = (name: string) => Buffer.from(name);

  it('repeats the newest frame at every tick from the start to the end, and takes the one shown before the start', () => {
    const written: string[] = [];
    const out = new Writable({ write: (chunk: Buffer, _encoding, done) => (written.push(chunk.toString()), done()) });
    const frames = constantRate(out, 10);
    frames.frame(frame('early'), 0);
    frames.frame(frame('A'), 900);
    frames.start(1000);
    frames.frame(frame('B'), 1100);
    frames.frame(frame('C'), 1250);
    expect(frames.finish(1400)).toBe(4);
    frames.frame(frame('late'), 1500);
    expect(written).toEqual(['A', 'B', 'B', 'C']);
  });

  it('calls onOverflow once when more than the limit waits to be written', () => {
    const out = new Writable({ highWaterMark: 1, write: () => undefined });
    let overflows = 0;
    const frames = constantRate(out, 10, 25, () => overflows++);
    frames.start(0);
    frames.frame(frame('x'.repeat(10)), 0);
    frames.frame(frame('y'.repeat(10)), 500);
    frames.finish(1000);
    expect(overflows).toBe(1);
  });

  it("clamps the inputs as PostHog does and scales the size so neither side exceeds 1400", () => {
    expect(videoSettings({})).toEqual({ startSeconds: 0, durationSeconds: 5, speed: 1, width: 1400, height: 600, selector: '.replayer-wrapper' });
    expect(videoSettings({ timestamp: -3, duration: 99_999, playback_speed: 1000, width: 3840, height: 2160, css_selector: 'x'.repeat(101) })).toEqual({
      startSeconds: 0,
      durationSeconds: 3600,
      speed: 360,
      width: 1400,
      height: 786,
      selector: '.replayer-wrapper',
    });
    expect(videoSettings({ start_offset_s: 10, timestamp: 3, end_offset_s: 25, duration: 2, width: 100, height: 100, playback_speed: 0 })).toMatchObject({
      startSeconds: 10,
      durationSeconds: 15,
      speed: 1,
      width: 400,
      height: 300,
    });
  });
});

/**
 * video/mp4, video/webm and image/gif of a session recording: the player (export mode) played in real Chromium and
 * captured with a CDP screencast, encoded by the machine's ffmpeg, through a real worker. The recording's page is red,
 * green from 1 s and blue from 3 s, with mouse activity throughout; a second one is idle for 37 s in the middle.
 */
describe('recording video exports', { timeout: 300_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let other: Tenant;
  let close: () => Promise<void>;
  const SESSION = 'video-session-1';
  const IDLE = 'video-session-idle';

  beforeAll(async () => {
    ({ ctx, close } = await contextWithWorker({}, 1));
    const make = factories(ctx);
    owner = await make.tenant();
    other = await make.tenant();
    const start = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const token = await make.projectToken(owner);
    await sendReplay(ctx, token, SESSION, replayEvents(start, { colours: [RED, [1, GREEN], [3, BLUE]], activity: [[0, 6]], endSeconds: 6 }), 2);
    await sendReplay(ctx, token, IDLE, replayEvents(start, { colours: [RED, [1, GREEN], [41, BLUE]], activity: [[0, 3], [40, 43]], endSeconds: 43 }), 3);
  }, 120_000);

  afterAll(() => close?.());

  it('encodes an MP4 (H.264, yuv420p) of `duration` seconds from the timestamp, with the page changing as recorded', async () => {
    const row = await exportAndWait(owner, 'video/mp4', { session_recording_id: SESSION, timestamp: 0, duration: 5, width: 800, height: 400 });
    expect(row).toMatchObject({ has_content: true, exception: null, export_format: 'video/mp4' });
    expect(row.filename).toMatch(/\.mp4$/);
    const video = await contentOf(owner, row.id);
    const dir = await mkdtemp(path.join(tmpdir(), 'burrow-video-test-'));
    try {
      await writeFile(path.join(dir, 'v.mp4'), video);
      const info = await probe(path.join(dir, 'v.mp4'));
      expect(info).toMatchObject({ codec_name: 'h264', width: 800, height: 400, pix_fmt: 'yuv420p' });
      expect(info.duration).toBeGreaterThan(4.5);
      expect(info.duration).toBeLessThan(5.6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // Four frames a second: red, then green, then blue, in that order.
    const colours = await colourSequence(video, 'mp4', 4, { width: 800, height: 400 });
    expect(colours.length).toBeGreaterThanOrEqual(18);
    expect(runs(colours)).toEqual(['red', 'green', 'blue']);
    // The changes at 1 s and 3 s (a frame's error either side).
    expect(colours.indexOf('green') / 4).toBeGreaterThanOrEqual(0.75);
    expect(colours.indexOf('green') / 4).toBeLessThanOrEqual(1.5);
    expect(colours.indexOf('blue') / 4).toBeGreaterThanOrEqual(2.75);
    expect(colours.indexOf('blue') / 4).toBeLessThanOrEqual(3.5);
    // Every period of the recording was active.
    expect(row.export_context.inactivity_periods).toEqual([{ ts_from_s: 0, ts_to_s: 6, active: true, recording_ts_from_s: 0 }]);
  });

  it("films PostHog's metadata footer under the replay with show_metadata_footer", async () => {
    const row = await exportAndWait(owner, 'video/mp4', { session_recording_id: SESSION, timestamp: 0, duration: 2, width: 640, height: 360, show_metadata_footer: true });
    expect(row).toMatchObject({ has_content: true, exception: null });
    const dir = await mkdtemp(path.join(tmpdir(), 'burrow-video-test-'));
    try {
      await writeFile(path.join(dir, 'v.mp4'), await contentOf(owner, row.id));
      await run('ffmpeg', ['-v', 'error', '-i', path.join(dir, 'v.mp4'), '-frames:v', '1', path.join(dir, 'first.png')]);
      const frame = await decodeRgb(await sharp(path.join(dir, 'first.png')).toBuffer());
      const ink = footerInk(frame, 20);
      expect(ink.black + ink.white).toBeGreaterThan(0.85);
      expect(ink.white).toBeGreaterThan(0.01);
      expect(colourOf(rgbAt(frame, 320, 160))).toBe('red');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('encodes a WebM (VP8) from start_offset_s to end_offset_s, at playback_speed', async () => {
    const row = await exportAndWait(owner, 'video/webm', { session_recording_id: SESSION, start_offset_s: 2, end_offset_s: 6, playback_speed: 2, width: 640, height: 360 });
    expect(row).toMatchObject({ has_content: true, exception: null, export_format: 'video/webm' });
    const video = await contentOf(owner, row.id);
    const dir = await mkdtemp(path.join(tmpdir(), 'burrow-video-test-'));
    try {
      await writeFile(path.join(dir, 'v.webm'), video);
      const info = await probe(path.join(dir, 'v.webm'));
      expect(info).toMatchObject({ codec_name: 'vp8', width: 640, height: 360 });
      // 4 s of the recording at 2×.
      expect(info.duration).toBeGreaterThan(1.5);
      expect(info.duration).toBeLessThan(2.6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(runs(await colourSequence(video, 'webm', 8, { width: 640, height: 360 }))).toEqual(['green', 'blue']);
  });

  it('encodes a GIF that loops forever, 12 frames a second, with the recorded changes', async () => {
    const row = await exportAndWait(owner, 'image/gif', { session_recording_id: SESSION, timestamp: 0.5, duration: 3, width: 400, height: 300 });
    expect(row).toMatchObject({ has_content: true, exception: null, export_format: 'image/gif' });
    const gif = await contentOf(owner, row.id);
    const meta = await sharp(gif, { animated: true }).metadata();
    expect(meta.format).toBe('gif');
    expect(meta.loop).toBe(0);
    expect(meta.pages).toBeGreaterThanOrEqual(30);
    expect(meta.pages).toBeLessThanOrEqual(42);
    expect(meta.pageHeight).toBe(300);
    const colours: (string | undefined)[] = [];
    for (let page = 0; page < meta.pages!; page++) colours.push(colourOf(rgbAt(await decodeRgb(await sharp(gif, { page }).png().toBuffer()), 200, 150)));
    expect(runs(colours)).toEqual(['red', 'green', 'blue']);
  });

  it('skips a long idle gap outright and writes the inactivity periods back into export_context', async () => {
    const row = await exportAndWait(owner, 'video/mp4', { session_recording_id: IDLE, timestamp: 0, duration: 60, width: 640, height: 360 });
    expect(row).toMatchObject({ has_content: true, exception: null });
    const periods = row.export_context.inactivity_periods as { ts_from_s: number; ts_to_s: number; active: boolean; recording_ts_from_s?: number }[];
    expect(periods.map(({ ts_from_s, ts_to_s, active }) => ({ ts_from_s, ts_to_s, active }))).toEqual([
      { ts_from_s: 0, ts_to_s: 3, active: true },
      { ts_from_s: 3, ts_to_s: 40, active: false },
      { ts_from_s: 40, ts_to_s: 43, active: true },
    ]);
    // The second active period starts about 3 s into the video, not 40 s.
    expect(periods[0]!.recording_ts_from_s).toBe(0);
    expect(periods[2]!.recording_ts_from_s).toBeGreaterThanOrEqual(2);
    expect(periods[2]!.recording_ts_from_s).toBeLessThanOrEqual(4);
    // The rest of the context is kept.
    expect(row.export_context).toMatchObject({ session_recording_id: IDLE, duration: 60 });
    const video = await contentOf(owner, row.id);
    const colours = await colourSequence(video, 'mp4', 2, { width: 640, height: 360 });
    // About 6 s of video for 43 s of recording (it ends with the recording, before `duration`).
    expect(colours.length).toBeGreaterThanOrEqual(10);
    expect(colours.length).toBeLessThanOrEqual(16);
    expect(runs(colours)).toEqual(['red', 'green', 'blue']);
  });

  it('fails with a clear exception for a recording that does not exist', async () => {
    const row = await exportAndWait(other, 'video/mp4', { session_recording_id: SESSION, duration: 2 });
    expect(row).toMatchObject({ has_content: false, exception: `Session recording ${SESSION} does not exist in this project` });
  });

  it('kills ffmpeg and closes the page when the job is aborted mid-capture', async () => {
    const ffmpegChildren = async () => (await run('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).catch(() => ({ stdout: '' }))).stdout.trim();
    const controller = new AbortController();
    const dir = await mkdtemp(path.join(tmpdir(), 'burrow-video-test-'));
    try {
      const key = await ctx.services.instance.secretKey();
      const target = { teamId: owner.teamId, recordingId: IDLE, token: async () => encodeJwt(key, { user_id: owner.user.id }, 900, JwtAudience.exportInternal), signal: controller.signal };
      const producing = produceRecordingVideo({ browser: ctx.services.browser, api: ctx.services.internalApi, ffmpegPath: undefined }, target, { duration: 60 }, 'video/mp4', dir);
      producing.catch(() => undefined);
      await waitFor(async () => ((await ffmpegChildren()) ? true : undefined), 60_000);
      expect(ctx.services.browser.stats().active).toBe(1);
      controller.abort(new Error('lease lost'));
      await expect(producing).rejects.toThrow('lease lost');
      await waitFor(async () => ((await ffmpegChildren()) === '' && ctx.services.browser.stats().active === 0 ? true : undefined), 10_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says at start which ffmpeg it found, or warns what to install', async () => {
    const found = capturingLogger();
    expect(await checkFfmpeg(undefined, found.log)).toBe(true);
    expect(found.lines.find((line) => line.msg === 'recording videos encode with this ffmpeg')).toMatchObject({ ffmpeg: 'ffmpeg' });
    const missing = capturingLogger();
    expect(await checkFfmpeg('/nonexistent/ffmpeg', missing.log)).toBe(false);
    expect(missing.lines.map((line) => line.msg)).toContain(
      'No ffmpeg to encode videos with: FFMPEG_PATH=/nonexistent/ffmpeg cannot be run. Install ffmpeg (Debian/Ubuntu: apt-get install -y ffmpeg) or set FFMPEG_PATH to an ffmpeg executable. Video and GIF exports of recordings will fail until then.',
    );
  });
});

describe('recording video exports without ffmpeg', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ ctx, close } = await contextWithWorker({ FFMPEG_PATH: '/nonexistent/ffmpeg' }, 1));
  }, 60_000);

  afterAll(() => close?.());

  it('fails the export saying what to install', async () => {
    const make = factories(ctx);
    const owner = await make.tenant();
    const start = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    await sendReplay(ctx, await make.projectToken(owner), 'no-ffmpeg', replayEvents(start, { colours: [RED], activity: [[0, 2]], endSeconds: 2 }));
    const row = await exportAndWait(owner, 'video/mp4', { session_recording_id: 'no-ffmpeg', duration: 2 });
    expect(row).toMatchObject({ has_content: false });
    expect(row.exception).toBe(
      'No ffmpeg to encode videos with: FFMPEG_PATH=/nonexistent/ffmpeg cannot be run. Install ffmpeg (Debian/Ubuntu: apt-get install -y ffmpeg) or set FFMPEG_PATH to an ffmpeg executable.',
    );
    ok(await owner.call('GET', `/api/projects/${owner.teamId}/exports/${row.id}/`));
  });
});
