/**
 * npm run bench:idle -- [--rounds 3] [--settle 10]
 *
 * What a server costs while nobody renders anything, and how long `npm start` takes to answer on a built checkout.
 *
 * - Idle memory, on Postgres and on the embedded database (PGlite): the compiled server as `npm start` runs it (workers
 *   on, as by default), on a fresh database, after a few API reads and `--settle` seconds of quiet; its RSS is the
 *   median of five samples a second apart. The baseline, in the same run, is the same server with Playwright and
 *   sharp loaded at start (`node --import playwright-core --import sharp`), which is what every server paid before
 *   they were loaded on first use.
 * - Start: `npm start` to the first 200 of /_health, on an existing DATA_DIR (PGlite), with dist/ up to date
 *   against the same with dist/ out of date, which is what every start paid before the build was skipped.
 *
 * Rounds alternate the two sides. Environment (flags win): BENCH_ROUNDS, BENCH_SETTLE, BENCH_ADMIN_URL (a Postgres
 * URL allowed to create and drop databases; default postgres://postgres@127.0.0.1:5432/postgres). Databases and
 * directories it creates are removed at the end, also on failure.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  apiRequest,
  buildServer,
  createDatabase,
  DEFAULT_ADMIN_URL,
  freePort,
  intOption,
  log,
  onCleanUp,
  ROOT,
  runBench,
  SERVER_SCRIPT,
  serverMemory,
  startChild,
  stopChild,
  tempDir,
  waitForHealth,
  writeResults,
} from '../lib/harness.js';
import { alternate, fmt, median, ratio } from '../lib/load.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string' },
    settle: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write('npm run bench:idle -- [--rounds n] [--settle s]\n');
  process.exit(0);
}
const options = {
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 3, 1),
  settle: intOption(flags.settle, 'BENCH_SETTLE', 10, 0),
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Engine = 'postgres' | 'pglite';
type Loading = 'on first use' | 'at start';
const EAGER_FLAGS = ['--import', 'playwright-core', '--import', 'sharp'];

/** One server on a fresh database: a few reads, `settle` seconds of quiet, then the median of five RSS samples (MB). */
async function idleRss(engine: Engine, loading: Loading): Promise<number> {
  const dataDir = await tempDir('burrow-idle-');
  const url = engine === 'postgres' ? (await createDatabase(options.adminUrl)).url : '';
  const child = startChild(
    'burrow',
    SERVER_SCRIPT,
    { DATABASE_URL: url, DATA_DIR: dataDir, BOOTSTRAP: 'true', LOG_LEVEL: 'warn' },
    { port: await freePort(), nodeFlags: loading === 'at start' ? EAGER_FLAGS : [] },
  );
  try {
    await waitForHealth(child);
    const { personal_api_key: key } = JSON.parse(await fs.readFile(path.join(dataDir, 'initial-credentials.json'), 'utf8')) as { personal_api_key: string };
    for (const endpoint of ['/api/users/@me/', '/api/projects/@current/', '/api/projects/@current/persisted_folder/', '/api/projects/@current/file_system/']) {
      const { status } = await apiRequest(child, key, 'GET', endpoint);
      if (status !== 200) throw new Error(`GET ${endpoint} answered ${status}`);
    }
    await sleep(options.settle * 1000);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const memory = await serverMemory(child);
      if (memory === null) throw new Error('no /proc here: this benchmark needs Linux');
      samples.push(memory.rssMb);
      await sleep(1000);
    }
    return median(samples);
  } finally {
    await stopChild(child);
  }
}

type DistState = 'up to date' | 'out of date';

/** `npm start` on an existing DATA_DIR: milliseconds to the first 200 of /_health. */
async function startToFirst200(dataDir: string, dist: DistState): Promise<number> {
  if (dist === 'out of date') await fs.rm(path.join(ROOT, 'dist', '.source-hash'), { force: true });
  const port = await freePort();
  const started = performance.now();
  // Its own process group, so that npm, its shell and the server stop together.
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', WORKERS: 'off', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
    detached: true,
  });
  const stop = async () => {
    if (npm.exitCode !== null || npm.signalCode !== null) return;
    process.kill(-npm.pid!, 'SIGTERM');
    await once(npm, 'exit');
  };
  onCleanUp(stop);
  try {
    for (;;) {
      if (npm.exitCode !== null) throw new Error(`npm start exited with ${npm.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/_health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - started;
      await sleep(25);
    }
  } finally {
    await stop();
  }
}

async function main(): Promise<void> {
  buildServer();
  log(`bench:idle: ${options.rounds} rounds, ${options.settle} s settle`);

  const rss: Record<Engine, Record<Loading, number[]>> = {
    postgres: { 'on first use': [], 'at start': [] },
    pglite: { 'on first use': [], 'at start': [] },
  };
  for (let round = 0; round < options.rounds; round++) {
    for (const engine of ['postgres', 'pglite'] as const) {
      for (const loading of alternate(['on first use', 'at start'] as const, round)) {
        const mb = await idleRss(engine, loading);
        rss[engine][loading].push(mb);
        log(`  round ${round + 1} ${engine.padEnd(8)} Playwright and sharp loaded ${loading.padEnd(12)} ${fmt(mb)} MB`);
      }
    }
  }

  const dataDir = await tempDir('burrow-start-');
  await startToFirst200(dataDir, 'up to date'); // creates the database and the first account
  const start: Record<DistState, number[]> = { 'up to date': [], 'out of date': [] };
  for (let round = 0; round < options.rounds; round++) {
    for (const dist of alternate(['up to date', 'out of date'] as const, round)) {
      const ms = await startToFirst200(dataDir, dist);
      start[dist].push(ms);
      log(`  round ${round + 1} npm start, dist/ ${dist.padEnd(11)} ${fmt(ms)} ms to the first 200`);
    }
  }

  log();
  log('idle RSS (median of rounds)   Burrow   baseline: Playwright + sharp at start   Burrow/baseline');
  for (const engine of ['postgres', 'pglite'] as const) {
    const [lazy, eager] = [median(rss[engine]['on first use']), median(rss[engine]['at start'])];
    log(`  ${engine.padEnd(26)} ${fmt(lazy).padStart(5)} MB  ${fmt(eager).padStart(5)} MB${' '.repeat(32)}${ratio(lazy, eager)}`);
  }
  const [fresh, rebuilt] = [median(start['up to date']), median(start['out of date'])];
  log(`npm start to the first 200      ${fmt(fresh)} ms with dist/ up to date, ${fmt(rebuilt)} ms rebuilding it: ${ratio(fresh, rebuilt)}`);
  log(`  results: ${path.relative(ROOT, await writeResults('idle', { options, rss, start }))}`);
}

await runBench('bench:idle', main);
