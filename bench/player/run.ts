/**
 * npm run bench:player -- [--rounds 5] [--warmup 1] [--minutes 30]
 *
 * A `--minutes`-long recording (360 blocks of 5 s for 30 minutes: a pointer every 100 ms, a DOM change every 200 ms,
 * a full snapshot of a 2,000-node page; recording.ts) sent through /s/ as posthog-js sends it, shared, and opened at
 * /shared/<token> in Chromium, a fresh browser context each round: the time from navigation start to
 * body[data-state="playing"] (the first frame's DOM rebuilt; it is painted at the next frame), in the page's own clock.
 * The baseline, in the same browser and run, is the same page with a player that fetches every block before it plays
 * (naive-player.js, served in place of the real one). The two alternate round by round; medians. Target (issue 13):
 * playing within 2 s.
 *
 * Environment (flags win): BENCH_ROUNDS, BENCH_WARMUP, BENCH_MINUTES, BENCH_ADMIN_URL (a Postgres URL allowed to
 * create and drop databases; default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { findChromium } from '../../src/browser/chromium.js';
import { apiRequest, DEFAULT_ADMIN_URL, intOption, log, onCleanUp, ROOT, runBench, scratchDatabase, startBurrow, writeResults } from '../lib/harness.js';
import { alternate, fmt, median, ratio } from '../lib/load.js';
import { longVisit } from './recording.js';

const { values: flags } = parseArgs({ options: { rounds: { type: 'string' }, warmup: { type: 'string' }, minutes: { type: 'string' } } });

const options = {
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 5, 1),
  warmup: intOption(flags.warmup, 'BENCH_WARMUP', 1, 0),
  minutes: intOption(flags.minutes, 'BENCH_MINUTES', 30, 1),
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SESSION = 'bench-player-session';
/**
 * Injected before the page's own scripts (Playwright's init scripts are not subject to the page's CSP): notes, in the
 * page's clock (0 = navigation start), when body[data-state] leaves "loading" and how many blocks the page had then.
 * A MutationObserver runs as the attribute changes; waitForSelector would only see it at its next poll.
 */
const STATE_CLOCK = `new MutationObserver(() => {
  const state = document.body && document.body.dataset.state;
  if (!state || state === 'loading' || globalThis.benchSettled) return;
  globalThis.benchSettled = { state, at: performance.now(), loadedBlocks: document.body.dataset.loadedBlocks };
}).observe(document, { attributes: true, attributeFilter: ['data-state'], subtree: true });`;
type Player = 'streaming' | 'naive';

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);
  log(`bench:player  a ${options.minutes}-minute recording, ${options.rounds} round(s) after ${options.warmup} warm-up round(s)`);
  log(`  database ${dbName}; node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { child: burrow, key } = await startBurrow({ url, dataDir });

  const project = (await apiRequest(burrow, key, 'GET', '/api/projects/@current/')).json as { id: number; api_token: string };
  const start = Date.now() - (options.minutes + 10) * 60_000;
  const blocks = longVisit(start, options.minutes);
  const sentAt = Date.now();
  let bytes = 0;
  let next = 0;
  const send = async () => {
    for (let i = next++; i < blocks.length; i = next++) {
      const body = gzipSync(
        JSON.stringify([
          {
            uuid: crypto.randomUUID(),
            event: '$snapshot',
            properties: { token: project.api_token, distinct_id: 'visitor', $session_id: SESSION, $window_id: 'window-1', $snapshot_data: blocks[i], $lib: 'web' },
          },
        ]),
      );
      bytes += body.length;
      const response = await fetch(`${burrow.base}/s/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      if (!response.ok) throw new Error(`/s/ answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, send));
  const events = blocks.reduce((n, block) => n + block.length, 0);
  log(`  sent ${blocks.length} blocks (${events} events, ${(bytes / 1e6).toFixed(1)} MB gzip) through /s/ in ${((Date.now() - sentAt) / 1000).toFixed(1)} s`);

  const shared = await apiRequest(burrow, key, 'PATCH', `/api/projects/${project.id}/session_recordings/${SESSION}/sharing/`, { enabled: true });
  if (shared.status !== 200) throw new Error(`sharing answered ${shared.status}: ${shared.text}`);
  const pageUrl = `${burrow.base}/shared/${(shared.json as { access_token: string }).access_token}`;

  const location = findChromium();
  if (!location.found) throw new Error(location.problem);
  const browser = await chromium.launch({ executablePath: location.path, args: LAUNCH_ARGS });
  onCleanUp(() => browser.close());
  const naiveScript = await readFile(path.join(ROOT, 'bench/player/naive-player.js'), 'utf8');

  /** Milliseconds from navigation start to the first frame, and how many blocks the page had then. */
  async function open(player: Player): Promise<{ ms: number; loadedBlocks: number; totalBlocks: number }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const tab = await context.newPage();
      await tab.addInitScript(STATE_CLOCK);
      if (player === 'naive') {
        await tab.route('**/static/recording-player.js', (route) => route.fulfill({ contentType: 'application/javascript', body: naiveScript }));
      }
      await tab.goto(pageUrl, { waitUntil: 'commit' });
      await tab.waitForSelector('body[data-state="playing"], body[data-state="failed"]', { timeout: 180_000 });
      const settled = (await tab.evaluate('globalThis.benchSettled')) as { state: string; at: number; loadedBlocks?: string };
      if (settled.state !== 'playing') throw new Error(`the ${player} player failed: ${await tab.locator('body').textContent()}`);
      const total = await tab.locator('body').getAttribute('data-total-blocks');
      return { ms: settled.at, loadedBlocks: Number(settled.loadedBlocks ?? blocks.length), totalBlocks: Number(total ?? blocks.length) };
    } finally {
      await context.close();
    }
  }

  const players: Player[] = ['naive', 'streaming'];
  for (let round = 1; round <= options.warmup; round++) for (const player of players) await open(player);
  const runs: ({ player: Player; round: number } & Awaited<ReturnType<typeof open>>)[] = [];
  log();
  for (let round = 1; round <= options.rounds; round++) {
    for (const player of alternate(players, round)) {
      const run = { player, round, ...(await open(player)) };
      runs.push(run);
      const blocksLine = player === 'streaming' ? `  (${run.loadedBlocks} of ${run.totalBlocks} blocks loaded)` : '';
      log(`  round ${round} ${player.padEnd(9)} playing after ${fmt(run.ms).padStart(6)} ms${blocksLine}`);
    }
  }

  const of = (player: Player) => median(runs.filter((r) => r.player === player).map((r) => r.ms));
  const [naive, streaming] = [of('naive'), of('streaming')];
  log();
  log(`medians over ${options.rounds} round(s), navigation start to the first frame`);
  log(`  naive (every block first)  ${fmt(naive).padStart(6)} ms`);
  log(`  streaming                  ${fmt(streaming).padStart(6)} ms   ${ratio(naive, streaming)} as fast`);
  log(`  target: playing within 2 s: ${streaming <= 2000 ? 'met' : 'NOT met'}`);
  const file = await writeResults('player', { options: { ...options, adminUrl: undefined }, blocks: blocks.length, events, runs, summary: { naive, streaming } });
  log(`  raw figures: ${path.relative(ROOT, file)}`);
}

await runBench('bench:player', main);
