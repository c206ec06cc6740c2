/**
 * The naive baseline of bench/screenshots: a fresh Chromium for every screenshot, as a script written without a
 * browser pool would do it. Started by run.ts as its own process (so its memory, and its Chromiums', is counted
 * apart from the bench's), with its job in BENCH_BASELINE (JSON, see BaselineJob). It prints one JSON line per
 * screenshot and per heatmap on stdout.
 *
 * Per screenshot: launch Chromium (the flags below), a context with the same viewport and user-agent rules as
 * Burrow (contextOptionsFor), goto with waitUntil 'load', the scroll pass Burrow had until it moved to a faster
 * one (steps of 0.7 x the viewport height, 100 ms apart, to the bottom or the height cap: slow enough for
 * scroll listeners that check the position every 125 ms), back to the top, wait for images still loading
 * (at most 3 s), hide scrollbars, full-page JPEG at the same quality, close the browser. Nothing is slowed on
 * purpose: no fixed sleeps, no network-idle wait, no SSRF checks, no re-encoding.
 *
 * A heatmap is the seven widths one after another; `lanes` heatmaps run at once, like Burrow's job worker.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { contextOptionsFor } from '../../src/modules/heatmaps/screenshots/device.js';

export interface BaselineJob {
  url: string;
  widths: number[];
  /** Heatmaps to render, numbered from firstHeatmap. */
  heatmaps: number;
  firstHeatmap: number;
  lanes: number;
  chromiumPath: string;
  heightCapPx: number;
  jpegQuality: number;
  /** Where to write the JPEGs of the first heatmap (for run.ts's comparison); none when unset. */
  imageDir?: string;
}

/** The launch flags of the naive baseline. Playwright adds its own (--headless among them) as usual. */
export const NAIVE_LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface BaselineShot {
  type: 'shot';
  heatmap: number;
  lane: number;
  width: number;
  startedAt: number;
  ms: number;
  phases: { launch: number; open: number; load: number; scroll: number; capture: number; close: number };
  height: number;
  bytes: number;
  /** Requests the page made (the favicon aside), to tell a render that missed lazy content. */
  requests: number;
}

export interface BaselineHeatmap {
  type: 'heatmap';
  heatmap: number;
  lane: number;
  startedAt: number;
  ms: number;
}

// Burrow's first in-page steps (Burrow's renderer has since moved to a faster scroll pass; the baseline keeps
// this one). Strings: the project compiles without DOM types.
const scrollTo = (y: number) => `(() => {
  window.scrollTo({ top: ${y}, left: 0, behavior: 'instant' });
  const d = document.documentElement, b = document.body;
  return { height: Math.max(d ? d.scrollHeight : 0, b ? b.scrollHeight : 0), viewport: window.innerHeight };
})()`;
const waitForImages = (ms: number) => `Promise.race([
  Promise.all(Array.from(document.images).filter((img) => !img.complete && img.currentSrc).map((img) => new Promise((resolve) => {
    img.addEventListener('load', resolve, { once: true });
    img.addEventListener('error', resolve, { once: true });
  }))),
  new Promise((resolve) => setTimeout(resolve, ${ms})),
]).then(() => true)`;
const HIDE_SCROLLBARS_CSS = '*::-webkit-scrollbar { display: none !important; } html, body { scrollbar-width: none !important; }';

const open = new Set<Browser>();
const write = (line: BaselineShot | BaselineHeatmap) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function screenshot(job: BaselineJob, width: number): Promise<{ jpeg: Buffer; phases: BaselineShot['phases']; requests: number }> {
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return Math.round(ms);
  };
  // Playwright's own signal handlers are off: the SIGTERM handler below closes the browsers (run.ts sends it).
  const browser = await chromium.launch({
    executablePath: job.chromiumPath,
    headless: true,
    args: NAIVE_LAUNCH_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  open.add(browser);
  const phases = { launch: lap(), open: 0, load: 0, scroll: 0, capture: 0, close: 0 };
  try {
    const context = await browser.newContext(contextOptionsFor(width, browser.version()));
    const page = await context.newPage();
    let requests = 0;
    page.on('request', (request) => {
      if (!request.url().endsWith('/favicon.ico')) requests++;
    });
    phases.open = lap();
    await page.goto(job.url, { waitUntil: 'load', timeout: 30_000 });
    phases.load = lap();
    for (let y = 0, step = 0; step < 100; step++) {
      const at = (await page.evaluate(scrollTo(y))) as { height: number; viewport: number };
      const last = Math.max(0, Math.min(at.height, job.heightCapPx) - at.viewport);
      if (y >= last) break;
      y = Math.min(last, y + Math.max(100, Math.floor(at.viewport * 0.7)));
      await sleep(100);
    }
    await page.evaluate(`window.scrollTo({ top: 0, left: 0, behavior: 'instant' })`);
    await page.evaluate(waitForImages(3_000));
    phases.scroll = lap();
    await page.addStyleTag({ content: HIDE_SCROLLBARS_CSS });
    const jpeg = await page.screenshot({ type: 'jpeg', quality: job.jpegQuality, fullPage: true, timeout: 30_000 });
    phases.capture = lap();
    return { jpeg, phases, requests };
  } finally {
    await browser.close().catch(() => undefined);
    open.delete(browser);
    phases.close = lap();
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_BASELINE ?? '') as BaselineJob;
  if (job.imageDir) await fs.mkdir(job.imageDir, { recursive: true });
  let next = 0;
  const lane = async (laneNo: number) => {
    for (;;) {
      const index = next++;
      if (index >= job.heatmaps) return;
      const heatmap = job.firstHeatmap + index;
      const heatmapStarted = Date.now();
      for (const width of job.widths) {
        const startedAt = Date.now();
        const t0 = performance.now();
        const { jpeg, phases, requests } = await screenshot(job, width);
        const ms = Math.round(performance.now() - t0);
        const meta = await sharp(jpeg).metadata();
        if (job.imageDir && index === 0) await fs.writeFile(path.join(job.imageDir, `baseline-${width}.jpg`), jpeg);
        write({ type: 'shot', heatmap, lane: laneNo, width, startedAt, ms, phases, height: meta.height ?? 0, bytes: jpeg.length, requests });
      }
      write({ type: 'heatmap', heatmap, lane: laneNo, startedAt: heatmapStarted, ms: Date.now() - heatmapStarted });
    }
  };
  await Promise.all(Array.from({ length: job.lanes }, (_, i) => lane(i + 1)));
}

// run.ts stops this process with SIGTERM on Ctrl-C or failure: close the browsers, quietly.
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
  void Promise.allSettled([...open].map((b) => b.close())).finally(() => process.exit(143));
});

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  if (!stopping) process.stderr.write(`baseline failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
} finally {
  await Promise.allSettled([...open].map((b) => b.close()));
}
