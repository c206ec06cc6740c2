/**
 * npm run bench:screenshots -- [--heatmaps 4] [--rounds 2] [--lanes 2] [--target both|burrow|baseline]
 *                              [--db postgres|pglite] [--latency 0] [--save-images] [--serve]
 *
 * Screenshot heatmaps of one fixed local page (bench/screenshots/page/, served by this process on 127.0.0.1) at the
 * seven default widths, made by the real Burrow server and, in the same run, by a naive baseline that launches a
 * fresh Chromium for every screenshot (bench/screenshots/baseline.ts). Prints ms per width, total per heatmap,
 * peak memory of each side (its process plus its Chromium processes) and the baseline/Burrow ratios.
 *
 * Burrow side: the server as `npm start` runs it (built, then `node dist/server.js`) with its defaults (WORKERS=on,
 * WORKER_CONCURRENCY=2, RENDER_CONCURRENCY=2, RENDER_RECYCLE_AFTER=200, 30 s / 10 s timeouts, JPEG q70) plus
 * RENDER_ALLOWED_HOSTS=127.0.0.1 so the SSRF guard lets the local page through. Heatmaps are created through the
 * REST API (POST .../saved/) and polled until completed, `lanes` at a time, so the job worker renders `lanes`
 * heatmaps at once, as it does for users (each heatmap: one page per device kind, the two kinds at once, each kind's
 * widths one after the other on its page). Per-width times and phases come from the server's own log
 * (LOG_LEVEL=debug).
 *
 * Baseline side: the same heatmaps, `lanes` at a time, each width a fresh Chromium (see baseline.ts).
 *
 * The sides alternate (baseline, burrow, burrow, baseline, ...) for `rounds` rounds of `heatmaps` heatmaps each.
 * The machine is noisy: quote the ratios. Environment (flags win): BENCH_HEATMAPS, BENCH_ROUNDS, BENCH_LANES,
 * BENCH_DB, BENCH_LATENCY_MS, BENCH_ADMIN_URL (a Postgres URL allowed to create and drop databases; default
 * postgres://postgres@127.0.0.1:5432/postgres). Other variables pass through to the server (RENDER_CONCURRENCY=4,
 * RENDER_SETTLE_TIMEOUT_SECONDS=5, ...), except those set below.
 *
 * It creates a database burrow_bench_<random> (or a PGlite directory) and a temporary DATA_DIR, and removes both at
 * the end; every process it started (server, baseline, their Chromiums) is stopped, also on failure and Ctrl-C.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../../src/config.js';
import { findChromium } from '../../src/browser/chromium.js';
import { DEFAULT_TARGET_WIDTHS } from '../../src/modules/heatmaps/contract.js';
import {
  apiRequest,
  createDatabase,
  DEFAULT_ADMIN_URL,
  intOption,
  log,
  onCleanUp,
  RESULTS_DIR,
  ROOT,
  runBench,
  type ServerChild,
  stamp,
  startBurrow,
  startChild,
  type Target,
  targetOption,
  tempDir,
  writeResults,
} from '../lib/harness.js';
import { fmt, median } from '../lib/load.js';
import type { BaselineHeatmap, BaselineJob, BaselineShot } from './baseline.js';
import { type MemoryPeak, sampleTree, stillRunning, type TreeSampler } from './memory.js';
import { type PageServer, startPageServer } from './page-server.js';

const WIDTHS = [...DEFAULT_TARGET_WIDTHS];
const API = '/api/projects/@current';
const MEMORY_TARGET_MIB = 1024;
const SPEED_TARGET = 3;

type Side = Target;

const { values: flags } = parseArgs({
  options: {
    heatmaps: { type: 'string' },
    rounds: { type: 'string' },
    lanes: { type: 'string' },
    target: { type: 'string' },
    db: { type: 'string' },
    latency: { type: 'string' },
    'save-images': { type: 'boolean', default: false },
    serve: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  process.stdout.write(
    'npm run bench:screenshots -- [--heatmaps n] [--rounds n] [--lanes n] [--target both|burrow|baseline] [--db postgres|pglite] [--latency ms] [--save-images] [--serve]\n',
  );
  process.exit(0);
}

// The server's defaults, as it will run (pass-through variables included).
const serverConfig = loadConfig({ ...process.env, RENDER_ALLOWED_HOSTS: '127.0.0.1' });

const options = {
  heatmaps: intOption(flags.heatmaps, 'BENCH_HEATMAPS', 4, 1),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 2, 1),
  // One lane per job the worker runs at once: WORKER_CONCURRENCY (2 by default).
  lanes: intOption(flags.lanes, 'BENCH_LANES', serverConfig.workers.concurrency, 1),
  sides: targetOption(flags.target),
  db: (() => {
    const d = flags.db ?? process.env.BENCH_DB ?? 'postgres';
    if (d !== 'postgres' && d !== 'pglite') throw new Error(`--db must be postgres or pglite, got ${d}`);
    return d;
  })(),
  latencyMs: intOption(flags.latency, 'BENCH_LATENCY_MS', 0, 0),
  saveImages: flags['save-images'] ?? false,
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

/** The raw figures and the saved images of one run are named after its start. */
const runStamp = stamp();

// ---------------------------------------------------------------------------------------------------------------
// Chromium processes left over.

/** Chromium processes seen under our children, stopped by pid at the end if they outlived their parent. */
const chromiumSeen = new Map<number, string>();
function remember(sampler: TreeSampler): void {
  for (const [pid, cmdline] of sampler.seen) if (/chrom/i.test(cmdline)) chromiumSeen.set(pid, cmdline);
}
onCleanUp(async () => {
  await new Promise((r) => setTimeout(r, 500));
  const left = [...chromiumSeen].filter(([pid, cmdline]) => stillRunning(pid, cmdline));
  for (const [pid] of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (left.length > 0) log(`  stopped ${left.length} leftover Chromium process(es)`);
});

// ---------------------------------------------------------------------------------------------------------------
// Burrow: the real server, driven through its REST API.

interface LogLine {
  time: number;
  level: number;
  msg: string;
  heatmapId?: string;
  width?: number;
  durationMs?: number;
  bytes?: number;
  ms?: number;
  height?: number;
  pageHeight?: number;
  requests?: number;
  settled?: boolean;
  scrollSkipped?: boolean;
  timings?: Record<string, number>;
}

interface BurrowServer {
  child: ServerChild;
  key: string;
  lines: LogLine[];
  /** The server's warnings and errors, whole (they are shown cut short during the run). */
  problems: string[];
}

/**
 * The server with the bench's settings over its defaults, in a temporary DATA_DIR, on burrow_bench_<random> or on
 * PGlite (DATABASE_URL='': the database lives in DATA_DIR).
 */
async function startBurrowSide(): Promise<BurrowServer> {
  const dataDir = await tempDir('burrow-bench-shots-');
  const url = options.db === 'postgres' ? (await createDatabase(options.adminUrl)).url : '';
  const lines: LogLine[] = [];
  const problems: string[] = [];
  const keep = new Set(['screenshot rendered', 'stored screenshot', 'Chromium started', 'recycling Chromium after this render']);
  const { child, key } = await startBurrow({
    url,
    dataDir,
    // startBurrow also sets RATE_LIMIT_ENABLED=false: the bench polls each heatmap twice a second, and with several
    // lanes and long runs the per-key throttle must stay out of it.
    env: {
      WORKERS: 'on',
      WORKER_CONCURRENCY: String(options.lanes),
      LOG_LEVEL: 'debug',
      RENDER_ALLOWED_HOSTS: '127.0.0.1',
    },
    onLine: (line) => {
      if (!line.startsWith('{')) return;
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      if (keep.has(parsed.msg)) lines.push(parsed);
      else if (parsed.level >= 40) {
        problems.push(line);
        log(`  [burrow] ${line.slice(0, 400)}`);
      }
    },
  });
  return { child, key, lines, problems };
}

interface SavedHeatmap {
  id: string;
  short_id: string;
  status: 'processing' | 'completed' | 'failed';
  exception: string | null;
  created_at: string;
  updated_at: string;
}

/** A request under /api/projects/@current; throws on an error status. */
async function api<T>(server: BurrowServer, method: string, url: string, body?: unknown): Promise<T> {
  const response = await apiRequest(server.child, server.key, method, `${API}${url}`, body);
  if (response.status >= 400) throw new Error(`${method} ${url} answered ${response.status}: ${response.text.slice(0, 300)}`);
  return response.json as T;
}

interface BurrowHeatmap {
  index: number;
  lane: number;
  id: string;
  /** Server side: created_at to the updated_at of completion. */
  serverMs: number;
  /** Client side: POST sent to the first poll that saw it completed (polls every POLL_MS). */
  clientMs: number;
  createdAt: number;
}

const HEATMAP_TIMEOUT_MS = 10 * 60_000;
/**
 * How often a lane asks for its heatmap's status. The figures use the server's own timestamps (created_at to the
 * updated_at of completion), so this only bounds the client-side figure; polling faster would load the server.
 */
const POLL_MS = 500;

async function burrowPhase(server: BurrowServer, pageUrl: string, count: number, firstIndex: number): Promise<BurrowHeatmap[]> {
  const done: BurrowHeatmap[] = [];
  let next = 0;
  const lane = async (laneNo: number) => {
    for (;;) {
      const index = firstIndex + next++;
      if (index >= firstIndex + count) return;
      const sent = Date.now();
      let heatmap = await api<SavedHeatmap>(server, 'POST', '/saved/', { name: `bench ${index}`, url: pageUrl, type: 'screenshot' });
      while (heatmap.status === 'processing') {
        if (Date.now() - sent > HEATMAP_TIMEOUT_MS) throw new Error(`heatmap ${heatmap.short_id} still processing after ${HEATMAP_TIMEOUT_MS / 1000} s`);
        if (server.child.exited) throw new Error(`the server exited:\n${server.child.tail.join('\n')}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
        heatmap = await api<SavedHeatmap>(server, 'GET', `/saved/${heatmap.short_id}/`);
      }
      const clientMs = Date.now() - sent;
      if (heatmap.status !== 'completed') throw new Error(`heatmap ${heatmap.short_id} ${heatmap.status}: ${heatmap.exception}`);
      done.push({
        index,
        lane: laneNo,
        id: heatmap.id,
        serverMs: Date.parse(heatmap.updated_at) - Date.parse(heatmap.created_at),
        clientMs,
        createdAt: Date.parse(heatmap.created_at),
      });
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, i) => lane(i + 1)));
  return done.sort((a, b) => a.index - b.index);
}

interface BurrowShot {
  heatmapId: string;
  width: number;
  /** The job handler's time for this width: render (context open to close) and storing the JPEG. */
  ms: number;
  startedAt: number;
  cold: boolean;
  timings: Record<string, number>;
  /** ms minus the phases: SSRF check, slot wait, context and route set-up, context close, storing. */
  other: number;
  height: number;
  pageHeight: number;
  requests: number;
  settled: boolean;
  /** Rendered after a resize without a scroll pass: nothing left that scrolling could load (the renderer's rule). */
  scrollSkipped: boolean;
  bytes: number;
}

/** The first width of a device kind: the one that opened the context and loaded the page (the others resize it). */
const firstOfKind = (s: BurrowShot): boolean => (s.timings.open ?? 0) > 0 || (s.timings.wait ?? 0) > 0 || (s.timings.navigate ?? 0) > 0;

function burrowShots(lines: LogLine[]): BurrowShot[] {
  const rendered = new Map<string, LogLine>();
  for (const l of lines) if (l.msg === 'screenshot rendered') rendered.set(`${l.heatmapId}/${l.width}`, l);
  const launches = lines.filter((l) => l.msg === 'Chromium started');
  const shots: BurrowShot[] = [];
  for (const l of lines) {
    if (l.msg !== 'stored screenshot' || l.heatmapId === undefined || l.width === undefined) continue;
    const r = rendered.get(`${l.heatmapId}/${l.width}`);
    const timings = r?.timings ?? {};
    const ms = l.durationMs ?? 0;
    const startedAt = l.time - ms;
    shots.push({
      heatmapId: l.heatmapId,
      width: l.width,
      ms,
      startedAt,
      // Waited for a Chromium launch: started before a launch finished, and ended after it.
      cold: launches.some((launch) => startedAt <= launch.time && l.time >= launch.time),
      timings,
      other: ms - Object.values(timings).reduce((a, b) => a + b, 0),
      height: r?.height ?? 0,
      pageHeight: r?.pageHeight ?? 0,
      requests: r?.requests ?? 0,
      settled: r?.settled ?? false,
      scrollSkipped: r?.scrollSkipped === true,
      bytes: l.bytes ?? 0,
    });
  }
  return shots;
}

// ---------------------------------------------------------------------------------------------------------------
// Baseline: bench/screenshots/baseline.ts in its own process.

async function baselinePhase(
  pageUrl: string,
  chromiumPath: string,
  count: number,
  firstIndex: number,
  imageDir: string | undefined,
): Promise<{ shots: BaselineShot[]; heatmaps: BaselineHeatmap[]; memory: MemoryPeak }> {
  const job: BaselineJob = {
    url: pageUrl,
    widths: WIDTHS,
    heatmaps: count,
    firstHeatmap: firstIndex,
    lanes: options.lanes,
    chromiumPath,
    heightCapPx: serverConfig.render.heightCapPx,
    jpegQuality: serverConfig.render.jpegQuality,
    ...(imageDir && { imageDir }),
  };
  const shots: BaselineShot[] = [];
  const heatmaps: BaselineHeatmap[] = [];
  const child = startChild(
    'baseline',
    'bench/screenshots/baseline.ts',
    { BENCH_BASELINE: JSON.stringify(job) },
    {
      onLine: (line) => {
        if (!line.startsWith('{')) {
          log(`  [baseline] ${line.slice(0, 400)}`);
          return;
        }
        const parsed = JSON.parse(line) as BaselineShot | BaselineHeatmap;
        if (parsed.type === 'shot') shots.push(parsed);
        else heatmaps.push(parsed);
      },
    },
  );
  const sampler = sampleTree(child.pid);
  const code = await child.exit;
  const memory = sampler.stop();
  remember(sampler);
  if (code !== 0) throw new Error(`the baseline exited with ${code}:\n${child.tail.join('\n')}`);
  return { shots, heatmaps, memory };
}

// ---------------------------------------------------------------------------------------------------------------
// Figures.

/** Nearest-rank percentile. */
const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);

/** Compares two JPEGs of the same width: heights, and the mean absolute grey difference over the part both cover. */
async function compareImages(a: Buffer, b: Buffer): Promise<{ heightA: number; heightB: number; meanAbsDiff: number }> {
  const [ma, mb] = await Promise.all([sharp(a).metadata(), sharp(b).metadata()]);
  const width = Math.min(ma.width ?? 0, mb.width ?? 0);
  const height = Math.min(ma.height ?? 0, mb.height ?? 0);
  const small = { width: Math.max(1, Math.round(width / 4)), height: Math.max(1, Math.round(height / 4)) };
  const grey = (img: Buffer) =>
    sharp(img).extract({ left: 0, top: 0, width, height }).greyscale().resize({ ...small, fit: 'fill' }).raw().toBuffer();
  const [ga, gb] = await Promise.all([grey(a), grey(b)]);
  let sum = 0;
  for (let i = 0; i < ga.length; i++) sum += Math.abs(ga[i]! - gb[i]!);
  return { heightA: ma.height ?? 0, heightB: mb.height ?? 0, meanAbsDiff: sum / ga.length };
}

// ---------------------------------------------------------------------------------------------------------------

async function serveOnly(): Promise<void> {
  const page = await startPageServer({ latencyMs: options.latencyMs });
  log(`bench page at ${page.url} (${(page.pageBytes / 1024).toFixed(0)} kB in all); Ctrl-C to stop`);
  onCleanUp(() => page.close());
  await new Promise(() => undefined);
}

async function main(): Promise<void> {
  const location = findChromium(serverConfig.render.chromiumPath);
  if (!location.found) throw new Error(location.problem);

  const page: PageServer = await startPageServer({ latencyMs: options.latencyMs });
  onCleanUp(() => page.close());
  const pageUrl = page.url;

  log(`bench:screenshots  ${pageUrl} at ${WIDTHS.join(', ')} px; ${options.rounds} round(s) x ${options.heatmaps} heatmap(s) per side, ${options.lanes} at a time`);
  log(
    `  page: ${(page.pageBytes / 1024).toFixed(0)} kB in ${page.resources} resources (eager, loading=lazy and IntersectionObserver images, a fetched section)${options.latencyMs ? `, ${options.latencyMs} ms added to each response` : ''}`,
  );
  log(
    `  Burrow: the real server (${options.db}), WORKER_CONCURRENCY=${options.lanes}, RENDER_CONCURRENCY=${serverConfig.render.concurrency}, RENDER_RECYCLE_AFTER=${serverConfig.render.recycleAfter}, settle ${serverConfig.render.settleTimeoutMs / 1000} s, q${serverConfig.render.jpegQuality}; heatmaps created and polled through the REST API`,
  );
  log(`  baseline: a fresh Chromium per screenshot (${location.path}), waitUntil load, Burrow's first scroll pass (0.7 viewport steps 100 ms apart), q${serverConfig.render.jpegQuality}`);
  log(`  node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log();

  const imageDir = path.join(RESULTS_DIR, `screenshots-${runStamp}-images`);
  const tmpImageDir = await tempDir('burrow-bench-shots-img-');

  let server: BurrowServer | undefined;
  let serverIdleMib = NaN;
  if (options.sides.includes('burrow')) {
    server = await startBurrowSide();
    const idle = sampleTree(server.child.pid);
    await new Promise((r) => setTimeout(r, 300));
    serverIdleMib = idle.stop().peakRssMib;
    log(`  Burrow server up (pid ${server.child.pid}, ${fmt(serverIdleMib)} MiB RSS before any render; Chromium starts with the first render)`);
  }

  const burrowHeatmaps: BurrowHeatmap[] = [];
  const baselineShots: BaselineShot[] = [];
  const baselineHeatmaps: BaselineHeatmap[] = [];
  const memory: Record<Side, MemoryPeak[]> = { burrow: [], baseline: [] };
  const wall: Record<Side, number> = { burrow: 0, baseline: 0 };
  const requests: Record<Side, number> = { burrow: 0, baseline: 0 };
  let firstBurrowHeatmap: string | undefined;
  let baselineImagesAt: string | undefined;

  const order = (['baseline', 'burrow'] as const).filter((s) => options.sides.includes(s));
  for (let round = 1; round <= options.rounds; round++) {
    const sequence = round % 2 === 1 ? order : [...order].reverse();
    for (const side of sequence) {
      const firstIndex = (round - 1) * options.heatmaps;
      page.reset();
      const started = Date.now();
      if (side === 'burrow') {
        const sampler = sampleTree(server!.child.pid);
        let done: BurrowHeatmap[];
        try {
          done = await burrowPhase(server!, pageUrl, options.heatmaps, firstIndex);
        } finally {
          memory.burrow.push(sampler.stop());
          remember(sampler);
        }
        burrowHeatmaps.push(...done);
        firstBurrowHeatmap ??= done[0]?.id;
      } else {
        const dir = baselineImagesAt === undefined ? tmpImageDir : undefined;
        const result = await baselinePhase(pageUrl, location.path, options.heatmaps, firstIndex, dir);
        if (dir) baselineImagesAt = dir;
        baselineShots.push(...result.shots);
        baselineHeatmaps.push(...result.heatmaps);
        memory.baseline.push(result.memory);
      }
      const ms = Date.now() - started;
      wall[side] += ms;
      requests[side] += page.counts().total;
      const peak = memory[side].at(-1)!;
      log(
        `  round ${round} ${side.padEnd(8)} ${options.heatmaps} heatmap(s) in ${fmt(ms / 1000, 1)} s, peak ${fmt(peak.peakRssMib)} MiB RSS (sum) / ${fmt(peak.peakPssMib)} MiB PSS, ${peak.maxProcesses} processes at most`,
      );
      const list = (values: Record<string, number>, digits: number) => Object.entries(values).map(([kind, n]) => `${kind} ${fmt(n, digits)}`).join(', ');
      log(`    PSS at its peak, MiB: ${list(peak.pssAtPeakByKind, 0)}`);
      log(`    CPU s: ${list(peak.cpuByKind, 1)}`);
    }
  }
  log();

  // ------------------------------------------------------------------------------------------------- figures
  const shots = server ? burrowShots(server.lines) : [];
  const ourIds = new Set(burrowHeatmaps.map((h) => h.id));
  const burrowShotsAll = shots.filter((s) => ourIds.has(s.heatmapId));
  const burrowWarm = burrowShotsAll.filter((s) => !s.cold);
  const launches = server ? server.lines.filter((l) => l.msg === 'Chromium started') : [];

  interface SideSummary {
    perWidth: Record<number, { n: number; median: number; p90: number }>;
    heatmapMedian: number;
    heatmapP90: number;
    heatmaps: number;
    screenshots: number;
    peakRssMib: number;
    peakPssMib: number;
    rootRssAtPeakMib: number;
    requestsPerScreenshot: number;
    /** Screenshots whose page requested fewer resources than a full load (lazy content missed). */
    incomplete: number;
    screenshotsPerMinute: number;
    /** CPU seconds of the side's processes (its node process and its Chromiums) per screenshot. */
    cpuPerScreenshot: number;
    /** The Node process's part of cpuPerScreenshot (the rest is Chromium's). */
    nodeCpuPerScreenshot: number;
    /** Average cores busy with the side's processes during its phases. */
    coresBusy: number;
    phases: Record<string, number>;
  }
  const summarize = (
    side: Side,
    byWidth: (w: number) => number[],
    totals: number[],
    count: number,
    incomplete: number,
    phases: Record<string, number>,
  ): SideSummary => {
    const peaks = memory[side];
    const top = peaks.reduce<MemoryPeak | undefined>((a, b) => (a === undefined || b.peakRssMib > a.peakRssMib ? b : a), undefined);
    return {
      perWidth: Object.fromEntries(WIDTHS.map((w) => [w, { n: byWidth(w).length, median: median(byWidth(w)), p90: percentile(byWidth(w), 90) }])),
      heatmapMedian: median(totals),
      heatmapP90: percentile(totals, 90),
      heatmaps: totals.length,
      screenshots: count,
      peakRssMib: top?.peakRssMib ?? NaN,
      peakPssMib: peaks.length > 0 ? Math.max(...peaks.map((p) => p.peakPssMib)) : NaN,
      rootRssAtPeakMib: top?.rootRssAtPeakMib ?? NaN,
      requestsPerScreenshot: count > 0 ? requests[side] / count : NaN,
      incomplete,
      screenshotsPerMinute: wall[side] > 0 ? (count / wall[side]) * 60_000 : NaN,
      cpuPerScreenshot: count > 0 ? peaks.reduce((n, p) => n + p.cpuSeconds, 0) / count : NaN,
      nodeCpuPerScreenshot: count > 0 ? peaks.reduce((n, p) => n + p.rootCpuSeconds, 0) / count : NaN,
      coresBusy: wall[side] > 0 ? peaks.reduce((n, p) => n + p.cpuSeconds, 0) / (wall[side] / 1000) : NaN,
      phases,
    };
  };
  const phaseMedians = <T>(items: T[], get: (t: T) => Record<string, number>): Record<string, number> => {
    const names = [...new Set(items.flatMap((i) => Object.keys(get(i))))];
    return Object.fromEntries(names.map((n) => [n, median(items.map((i) => get(i)[n] ?? 0))]));
  };

  const summary: Partial<Record<Side, SideSummary>> = {};
  if (options.sides.includes('baseline')) {
    summary.baseline = summarize(
      'baseline',
      (w) => baselineShots.filter((s) => s.width === w).map((s) => s.ms),
      baselineHeatmaps.map((h) => h.ms),
      baselineShots.length,
      baselineShots.filter((s) => s.requests < page.resources).length,
      phaseMedians(baselineShots, (s) => s.phases),
    );
  }
  if (options.sides.includes('burrow')) {
    summary.burrow = summarize(
      'burrow',
      (w) => burrowWarm.filter((s) => s.width === w).map((s) => s.ms),
      burrowHeatmaps.map((h) => h.serverMs),
      burrowShotsAll.length,
      burrowShotsAll.filter((s) => s.requests < page.resources).length,
      phaseMedians(burrowWarm, (s) => ({ ...s.timings, other: s.other })),
    );
    delete summary.burrow.phases.consent; // no consent banners asked for
  }

  // ------------------------------------------------------------------------------------------------- check
  const comparisons: Array<{ width: number; heightBurrow: number; heightBaseline: number; meanAbsDiff: number }> = [];
  if (server && firstBurrowHeatmap && baselineImagesAt) {
    if (options.saveImages) await fs.mkdir(imageDir, { recursive: true });
    for (const width of WIDTHS) {
      const response = await fetch(`${server.child.base}${API}/heatmap_screenshots/${firstBurrowHeatmap}/content/?width=${width}`, {
        headers: { authorization: `Bearer ${server.key}` },
      });
      if (response.status !== 200) throw new Error(`content at ${width} px answered ${response.status}`);
      const burrowJpeg = Buffer.from(await response.arrayBuffer());
      const baselineJpeg = await fs.readFile(path.join(baselineImagesAt, `baseline-${width}.jpg`));
      const c = await compareImages(burrowJpeg, baselineJpeg);
      comparisons.push({ width, heightBurrow: c.heightA, heightBaseline: c.heightB, meanAbsDiff: c.meanAbsDiff });
      if (options.saveImages) {
        await fs.writeFile(path.join(imageDir, `burrow-${width}.jpg`), burrowJpeg);
        await fs.writeFile(path.join(imageDir, `baseline-${width}.jpg`), baselineJpeg);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------- print
  const b = summary.burrow;
  const a = summary.baseline;
  log(`ms per width (median / p90, nearest rank; Burrow: warm renders, as the job handler timed them, storing included)`);
  log(`  ${'width'.padEnd(8)}${'baseline'.padStart(18)}${'Burrow'.padStart(18)}${'baseline/Burrow'.padStart(18)}`);
  for (const w of WIDTHS) {
    const pa = a?.perWidth[w];
    const pb = b?.perWidth[w];
    log(
      `  ${String(w).padEnd(8)}${(pa ? `${fmt(pa.median)} / ${fmt(pa.p90)}` : '-').padStart(18)}${(pb ? `${fmt(pb.median)} / ${fmt(pb.p90)}` : '-').padStart(18)}${(pa && pb ? `${fmt(ratio(pa.median, pb.median), 2)}x` : '-').padStart(18)}`,
    );
  }
  log();
  log(`per side (a heatmap is 7 widths; Burrow: created_at to completion, queue pick-up included)`);
  // The last column is "how much better Burrow does": baseline/Burrow for times, CPU and memory, Burrow/baseline for
  // throughput. Above 1.00x, Burrow does better.
  log(`  ${''.padEnd(30)}${'baseline'.padStart(10)}${'Burrow'.padStart(10)}${'Burrow gain'.padStart(14)}`);
  const line = (label: string, get: (s: SideSummary) => number, digits: number, gain: 'lower' | 'higher' | null) =>
    log(
      `  ${label.padEnd(30)}${(a ? fmt(get(a), digits) : '-').padStart(10)}${(b ? fmt(get(b), digits) : '-').padStart(10)}${(a && b && gain ? `${fmt(gain === 'lower' ? ratio(get(a), get(b)) : ratio(get(b), get(a)), 2)}x` : '').padStart(14)}`,
    );
  line('heatmaps', (s) => s.heatmaps, 0, null);
  line('heatmap median, s', (s) => s.heatmapMedian / 1000, 2, 'lower');
  line('heatmap p90, s', (s) => s.heatmapP90 / 1000, 2, 'lower');
  line('screenshots per minute', (s) => s.screenshotsPerMinute, 1, 'higher');
  line('CPU s per screenshot', (s) => s.cpuPerScreenshot, 2, 'lower');
  line('  of which the node process', (s) => s.nodeCpuPerScreenshot, 2, 'lower');
  line('cores busy (of the machine)', (s) => s.coresBusy, 2, null);
  line('peak RSS sum, MiB', (s) => s.peakRssMib, 0, 'lower');
  line('  node process at that peak', (s) => s.rootRssAtPeakMib, 0, null);
  line('peak PSS sum, MiB', (s) => s.peakPssMib, 0, 'lower');
  line('page requests per screenshot', (s) => s.requestsPerScreenshot, 1, null);
  if (b && burrowHeatmaps.length > 0) log(`  Burrow heatmap totals in order (s): ${burrowHeatmaps.map((h) => fmt(h.serverMs / 1000, 1)).join(', ')}`);
  if (a && baselineHeatmaps.length > 0) log(`  baseline heatmap totals in order (s): ${baselineHeatmaps.sort((x, y) => x.heatmap - y.heatmap).map((h) => fmt(h.ms / 1000, 1)).join(', ')}`);
  log();
  const phaseLine = (label: string, s: SideSummary | undefined) =>
    s && log(`  ${label.padEnd(10)} ${Object.entries(s.phases).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`);
  log('phases, median ms per screenshot');
  phaseLine('baseline', a);
  phaseLine('Burrow', b);
  if (b) {
    // Burrow renders each device kind's widths on one page: the first width of a kind loads it, the others resize it.
    const kindLine = (label: string, shots: BurrowShot[]) => {
      const phases = phaseMedians(shots, (s) => ({ ...s.timings, other: s.other }));
      delete phases.consent;
      log(`  ${label.padEnd(10)} ${Object.entries(phases).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}  (${shots.length} screenshots)`);
    };
    kindLine('  1st/kind', burrowWarm.filter(firstOfKind));
    kindLine('  resized', burrowWarm.filter((s) => !firstOfKind(s)));
    const resized = burrowShotsAll.filter((s) => !firstOfKind(s));
    log(`  scroll pass left out after a resize: ${resized.filter((s) => s.scrollSkipped).length} of ${resized.length} resized widths`);
  }
  if (b) {
    const cold = burrowShotsAll.filter((s) => s.cold);
    log(
      `  Burrow cold renders (waited for the Chromium launch): ${cold.map((s) => `${s.width} px ${s.ms} ms`).join(', ') || 'none'}; warm median at 320 px ${fmt(b.perWidth[320]?.median ?? NaN)} ms; launch ${launches.map((l) => `${l.ms} ms`).join(', ')}`,
    );
    const pickups = burrowHeatmaps
      .map((h) => Math.min(...burrowShotsAll.filter((s) => s.heatmapId === h.id).map((s) => s.startedAt)) - h.createdAt)
      .filter(Number.isFinite);
    // The two device kinds render at the same time: what is outside the span from the first render's start to the
    // last width's store.
    const outside = burrowHeatmaps.map((h) => {
      const mine = burrowShotsAll.filter((s) => s.heatmapId === h.id);
      return h.serverMs - (Math.max(...mine.map((s) => s.startedAt + s.ms)) - Math.min(...mine.map((s) => s.startedAt)));
    });
    log(`  Burrow job pick-up (created to first render), median ${fmt(median(pickups))} ms; time outside the renders per heatmap, median ${fmt(median(outside))} ms`);
    const unsettled = burrowShotsAll.filter((s) => !s.settled).length;
    if (unsettled > 0) log(`  WARNING: ${unsettled} Burrow render(s) hit the settle timeout`);
  }
  for (const [label, s] of [['baseline', a], ['Burrow', b]] as const) {
    if (s && s.incomplete > 0) {
      log(`  WARNING: ${s.incomplete} of ${s.screenshots} ${label} screenshot(s) were taken before all ${page.resources} resources were requested (lazy content missed)`);
    }
  }
  log();
  if (comparisons.length > 0) {
    log('same picture? first heatmap of each side (height in px; mean absolute grey difference 0-255 over the common part)');
    for (const c of comparisons) {
      const warn = c.heightBurrow !== c.heightBaseline || c.meanAbsDiff > 3 ? '  <- differs' : '';
      log(`  ${String(c.width).padEnd(6)} Burrow ${c.heightBurrow}  baseline ${c.heightBaseline}  diff ${fmt(c.meanAbsDiff, 2)}${warn}`);
    }
    if (options.saveImages) log(`  images: ${path.relative(ROOT, imageDir)}`);
    log();
  }

  let speedRatio = NaN;
  if (a && b) {
    speedRatio = ratio(a.heatmapMedian, b.heatmapMedian);
    const perShot = ratio(median(baselineShots.map((s) => s.ms)), median(burrowWarm.map((s) => s.ms)));
    const throughput = ratio(b.screenshotsPerMinute, a.screenshotsPerMinute);
    log(`  speed ratio baseline/Burrow, median heatmap: ${fmt(speedRatio, 2)}x  (target >= ${SPEED_TARGET}x: ${speedRatio >= SPEED_TARGET ? 'met' : 'NOT met'})`);
    log(
      `  per screenshot (all widths, medians) baseline/Burrow: ${fmt(perShot, 2)}x; throughput Burrow/baseline: ${fmt(throughput, 2)}x; CPU per screenshot baseline/Burrow: ${fmt(ratio(a.cpuPerScreenshot, b.cpuPerScreenshot), 2)}x`,
    );
  }
  if (b) {
    log(
      `  Burrow peak memory: ${fmt(b.peakRssMib)} MiB RSS (sum over the server and its Chromium processes), ${fmt(b.peakPssMib)} MiB PSS; target < ${MEMORY_TARGET_MIB} MiB: ${b.peakRssMib < MEMORY_TARGET_MIB ? 'met' : b.peakPssMib < MEMORY_TARGET_MIB ? 'met on PSS, not on the RSS sum' : 'NOT met'}`,
    );
  }
  if (a) log(`  baseline peak memory: ${fmt(a.peakRssMib)} MiB RSS (sum), ${fmt(a.peakPssMib)} MiB PSS`);

  const file = await writeResults(
    'screenshots',
    {
      options: { ...options, adminUrl: undefined, widths: WIDTHS, render: { ...serverConfig.render, allowedHosts: undefined } },
      machine: { node: process.version, cpus: os.cpus().length, loadavgAtEnd: os.loadavg() },
      summary,
      speedRatio,
      serverIdleMib,
      memory,
      wallMs: wall,
      launches: launches.map((l) => ({ time: l.time, ms: l.ms })),
      comparisons,
      burrow: { heatmaps: burrowHeatmaps, shots: burrowShotsAll, problems: server?.problems ?? [] },
      baseline: { heatmaps: baselineHeatmaps, shots: baselineShots },
    },
    runStamp,
  );
  log(`  raw figures: ${path.relative(ROOT, file)}`);
}

await runBench('bench:screenshots', flags.serve ? serveOnly : main);
