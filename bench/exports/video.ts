/**
 * npm run bench:exports-video -- [--seconds 30] [--rounds 2] [--warmup 1]
 *
 * A `--seconds`-long recording (bench/player's busy shop visit: a pointer every 100 ms, a DOM change every 200 ms, a
 * 2,000-node page) sent through /s/, then exported as video/mp4 at 1400 × 600 by the real server's worker: the time
 * from POST …/exports/ to has_content, per second of the video (ffprobe's duration). Real time is the floor: the
 * player plays at 1×. The baseline, in the same run: the same number of frames (the exported video's own, as JPEGs)
 * piped into ffmpeg with the same encoder settings as fast as it takes them, i.e. the encoding alone. Target: at most
 * 1.5 s of work per second of video. Each round also counts the video's distinct frames (a capture that fell behind
 * would repeat frames).
 *
 * Environment (flags win): BENCH_SECONDS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_ADMIN_URL (a Postgres URL allowed to
 * create and drop databases; default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { apiRequest, DEFAULT_ADMIN_URL, intOption, log, ROOT, runBench, scratchDatabase, startBurrow, tempDir, writeResults } from '../lib/harness.js';
import { fmt, median } from '../lib/load.js';
import { longVisit } from '../player/recording.js';

const run = promisify(execFile);
const { values: flags } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' }, warmup: { type: 'string' } } });

const options = {
  seconds: intOption(flags.seconds, 'BENCH_SECONDS', 30, 5),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 2, 1),
  warmup: intOption(flags.warmup, 'BENCH_WARMUP', 1, 0),
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};
const SESSION = 'bench-video-session';
const WIDTH = 1400;
const HEIGHT = 600;
/** The producer's MP4 settings (src/modules/exports/producers/video.ts). */
const ENCODER = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'];

async function duration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);
  const scratch = await tempDir('burrow-bench-video-');
  log(`bench:exports-video  a ${options.seconds}-second recording to MP4 at ${WIDTH}x${HEIGHT}, ${options.rounds} round(s) after ${options.warmup} warm-up round(s)`);
  log(`  database ${dbName}; node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { child: burrow, key } = await startBurrow({ url, dataDir, env: { WORKERS: 'on', JOB_POLL_INTERVAL_MS: '100' } });

  const project = (await apiRequest(burrow, key, 'GET', '/api/projects/@current/')).json as { id: number; api_token: string };
  const blocks = longVisit(Date.now() - 3_600_000, options.seconds / 60);
  for (const events of blocks) {
    const body = gzipSync(JSON.stringify([{ uuid: crypto.randomUUID(), event: '$snapshot', properties: { token: project.api_token, distinct_id: 'visitor', $session_id: SESSION, $window_id: 'window-1', $snapshot_data: events, $lib: 'web' } }]));
    const response = await fetch(`${burrow.base}/s/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    if (!response.ok) throw new Error(`/s/ answered ${response.status}: ${await response.text()}`);
  }
  log(`  sent ${blocks.length} blocks (${blocks.reduce((n, b) => n + b.length, 0)} events) through /s/`);

  /** One export: seconds from the POST to has_content, and the video's duration. */
  async function exportVideo(seconds: number, round: string): Promise<{ workS: number; videoS: number; file: string }> {
    const base = `/api/projects/${project.id}/exports`;
    const started = performance.now();
    const created = await apiRequest(burrow, key, 'POST', `${base}/`, {
      export_format: 'video/mp4',
      export_context: { session_recording_id: SESSION, timestamp: 0, duration: seconds, width: WIDTH, height: HEIGHT },
    });
    if (created.status !== 201) throw new Error(`POST exports answered ${created.status}: ${created.text}`);
    const id = (created.json as { id: number }).id;
    for (;;) {
      const row = (await apiRequest(burrow, key, 'GET', `${base}/${id}/`)).json as { has_content: boolean; exception: string | null };
      if (row.exception) throw new Error(`the export failed: ${row.exception}`);
      if (row.has_content) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const workS = (performance.now() - started) / 1000;
    const content = await fetch(`${burrow.base}${base}/${id}/content/`, { headers: { authorization: `Bearer ${key}` } });
    const file = path.join(scratch, `export-${round}.mp4`);
    await writeFile(file, Buffer.from(await content.arrayBuffer()));
    return { workS, videoS: await duration(file), file };
  }

  /** The baseline: the video's own frames as JPEGs, piped into ffmpeg as the producer does, as fast as it takes them. */
  async function encodeOnly(video: string, round: string): Promise<{ workS: number; videoS: number; frames: number; distinct: number }> {
    const dir = path.join(scratch, `frames-${round}`);
    await mkdir(dir, { recursive: true });
    await run('ffmpeg', ['-v', 'error', '-i', video, '-q:v', '3', path.join(dir, 'f-%05d.jpg')]);
    const names = (await readdir(dir)).sort();
    const frames = await Promise.all(names.map((name) => readFile(path.join(dir, name))));
    const out = path.join(scratch, `baseline-${round}.mp4`);
    const started = performance.now();
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'image2pipe', '-framerate', '25', '-c:v', 'mjpeg', '-i', 'pipe:0', '-vf', `scale=${WIDTH}:${HEIGHT}`, ...ENCODER, '-y', out], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    for (const frame of frames) if (!ffmpeg.stdin.write(frame)) await once(ffmpeg.stdin, 'drain');
    ffmpeg.stdin.end();
    const [code] = (await once(ffmpeg, 'close')) as [number];
    if (code !== 0) throw new Error(`the baseline's ffmpeg exited with ${code}`);
    const distinct = new Set(frames.map((frame) => createHash('sha1').update(frame).digest('hex'))).size;
    return { workS: (performance.now() - started) / 1000, videoS: await duration(out), frames: frames.length, distinct };
  }

  for (let round = 1; round <= options.warmup; round++) await exportVideo(3, `warmup-${round}`);
  const rounds: { round: number; burrow: Awaited<ReturnType<typeof exportVideo>>; baseline: Awaited<ReturnType<typeof encodeOnly>> }[] = [];
  log();
  for (let round = 1; round <= options.rounds; round++) {
    const burrowRun = await exportVideo(options.seconds, String(round));
    const baseline = await encodeOnly(burrowRun.file, String(round));
    rounds.push({ round, burrow: burrowRun, baseline });
    log(
      `  round ${round}  export ${fmt(burrowRun.workS, 1)} s for ${fmt(burrowRun.videoS, 1)} s of video = ${fmt(burrowRun.workS / burrowRun.videoS, 2)} s/s;` +
        `  encoding alone ${fmt(baseline.workS, 1)} s for ${baseline.frames} frames (${baseline.distinct} distinct) = ${fmt(baseline.workS / baseline.videoS, 2)} s/s`,
    );
  }
  const exportRatio = median(rounds.map((r) => r.burrow.workS / r.burrow.videoS));
  const encodeRatio = median(rounds.map((r) => r.baseline.workS / r.baseline.videoS));
  log();
  log(`medians over ${options.rounds} round(s), seconds of work per second of video`);
  log(`  real time (the player plays at 1x)     1.00`);
  log(`  baseline: ffmpeg encoding alone        ${fmt(encodeRatio, 2)}`);
  log(`  export (load, play, capture, encode)   ${fmt(exportRatio, 2)}   ${fmt(exportRatio - 1, 2)} s/s over real time`);
  log(`  target: at most 1.5 s/s: ${exportRatio <= 1.5 ? 'met' : 'NOT met'}`);
  const file = await writeResults('exports-video', { options: { ...options, adminUrl: undefined }, rounds, summary: { exportRatio, encodeRatio } });
  log(`  raw figures: ${path.relative(ROOT, file)}`);
}

await runBench('bench:exports-video', main);
