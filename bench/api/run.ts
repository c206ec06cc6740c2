/**
 * npm run bench:api -- [--duration 15] [--connections 50] [--rounds 3] [--warmup 5] [--pool 10]
 *                      [--target both|burrow|baseline] [--cpu-prof]
 *
 * Drives an authenticated read endpoint (GET /api/projects/@current/ with a personal API key) with autocannon,
 * against the real Burrow server on Postgres and, in the same run and on the same database, against
 * bench/api/baseline.ts (bare Fastify + node-postgres doing the same work by hand). The two alternate
 * (baseline, burrow, burrow, baseline, ...) and the medians are compared; the machine is noisy, so quote the
 * ratio, not the absolute figures.
 *
 * Environment (flags win): BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_POOL,
 * BENCH_ADMIN_URL (a Postgres URL allowed to create and drop databases; default postgres://postgres@127.0.0.1:5432/postgres).
 * Anything else Burrow reads passes through to the server, except the variables set below; for instance
 * `AUTH_CACHE_SECONDS=0 npm run bench:api` measures Burrow with its key and team caches off, so both sides run the
 * same two queries per request. --cpu-prof writes the Burrow server's CPU profile under bench/results/.
 *
 * It creates a database burrow_bench_<random> and a temporary DATA_DIR, and removes both at the end, also on failure.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  collectProfiles,
  DEFAULT_ADMIN_URL,
  freePort,
  intOption,
  log,
  ROOT,
  runBench,
  type ServerChild,
  scratchDatabase,
  serverMemory,
  startBurrow,
  startChild,
  stamp,
  type Target,
  targetOption,
  waitForHealth,
  writeResults,
} from '../lib/harness.js';
import { alternate, type Figures, figures, load as loadUrl, ratio as x, roundLine, summarize } from '../lib/load.js';

const ENDPOINT = '/api/projects/@current/';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    pool: { type: 'string' },
    target: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  process.stdout.write(
    'npm run bench:api -- [--duration s] [--connections n] [--rounds n] [--warmup s] [--pool n] [--target both|burrow|baseline] [--cpu-prof]\n',
  );
  process.exit(0);
}

const options = {
  duration: intOption(flags.duration, 'BENCH_DURATION', 15, 1),
  connections: intOption(flags.connections, 'BENCH_CONNECTIONS', 50, 1),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 3, 1),
  warmup: intOption(flags.warmup, 'BENCH_WARMUP', 5, 0),
  pool: intOption(flags.pool, 'BENCH_POOL', 10, 1),
  targets: targetOption(flags.target),
  cpuProf: flags['cpu-prof'] ?? false,
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

async function load(child: ServerChild, key: string, duration: number) {
  return loadUrl({ url: `${child.base}${ENDPOINT}`, connections: options.connections, duration, headers: { authorization: `Bearer ${key}` } });
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);

  const profileDir = path.join(ROOT, 'bench', 'results', `cpu-prof-${stamp()}`);
  if (options.cpuProf) await fs.mkdir(profileDir, { recursive: true });

  log(`bench:api  GET ${ENDPOINT} with a personal API key (Bearer)`);
  log(`  database ${dbName}; ${options.connections} connections, ${options.duration} s per run, ${options.rounds} round(s), ${options.warmup} s warm-up; pool ${options.pool} on both sides`);
  log(`  Burrow runs with RATE_LIMIT_ENABLED=false (the per-key throttle would answer 429 after 480 requests), WORKERS=off, LOG_LEVEL=warn,`);
  log(`  AUTH_CACHE_SECONDS=${process.env.AUTH_CACHE_SECONDS ?? '5 (default)'}; the baseline caches nothing and queries Postgres twice per request.`);
  log(`  node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log();

  // Burrow first: it migrates the database and bootstraps the account the key belongs to.
  const children = new Map<Target, ServerChild>();
  const { child: burrow, key } = await startBurrow({ url, dataDir, pool: options.pool, cpuProfDir: options.cpuProf ? profileDir : null });
  if (options.targets.includes('burrow')) children.set('burrow', burrow);

  if (options.targets.includes('baseline')) {
    const baseline = startChild('baseline', 'bench/api/baseline.ts', { DATABASE_URL: url, DATABASE_POOL_SIZE: String(options.pool) }, { port: await freePort() });
    await waitForHealth(baseline);
    children.set('baseline', baseline);
  }

  // One request each: both must answer 200, and with the same fields, or the comparison means nothing.
  const bodies = new Map<Target, Record<string, unknown>>();
  for (const [name, child] of children) {
    const response = await fetch(`${child.base}${ENDPOINT}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${name} answered ${response.status}: ${text.slice(0, 300)}`);
    bodies.set(name, JSON.parse(text) as Record<string, unknown>);
    log(`  ${name.padEnd(8)} answers 200, ${Buffer.byteLength(text)} bytes, ${Object.keys(JSON.parse(text)).length} fields`);
  }
  const [a, b] = [bodies.get('burrow'), bodies.get('baseline')];
  if (a && b) {
    const onlyA = Object.keys(a).filter((k) => !(k in b));
    const onlyB = Object.keys(b).filter((k) => !(k in a));
    if (onlyA.length || onlyB.length) log(`  WARNING: fields differ (burrow only: ${onlyA.join(', ') || '-'}; baseline only: ${onlyB.join(', ') || '-'})`);
  }
  log();

  if (options.warmup > 0) {
    for (const [name, child] of children) {
      log(`  warm-up ${name} (${options.warmup} s)`);
      await load(child, key, options.warmup);
    }
    log();
  }

  const results: Figures[] = [];
  const order = (['baseline', 'burrow'] as const).filter((t) => children.has(t));
  for (let round = 1; round <= options.rounds; round++) {
    for (const name of alternate(order, round)) {
      const f = figures(name, round, await load(children.get(name)!, key, options.duration));
      results.push(f);
      log(roundLine(f));
    }
  }

  const memory = new Map<Target, Awaited<ReturnType<typeof serverMemory>>>();
  for (const [name, child] of children) memory.set(name, await serverMemory(child));

  const summary = new Map<Target, ReturnType<typeof summarize> & { peakRssMb: number | null }>();
  for (const name of order) {
    summary.set(name, { ...summarize(results.filter((r) => r.target === name)), peakRssMb: memory.get(name)?.peakRssMb ?? null });
  }

  log();
  log(`GET ${ENDPOINT}  ${options.connections} connections, ${options.duration} s x ${options.rounds} round(s), medians`);
  log(`  ${''.padEnd(16)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'non-2xx'.padStart(9)}${'errors'.padStart(8)}${'peak RSS'.padStart(11)}`);
  for (const [name, s] of summary) {
    log(
      `  ${name.padEnd(16)}${s.rps.toFixed(0).padStart(9)}${String(s.p50).padStart(9)}${String(s.p99).padStart(9)}${String(s.non2xx).padStart(9)}${String(s.errors).padStart(8)}${(s.peakRssMb === null ? '-' : `${s.peakRssMb.toFixed(0)} MB`).padStart(11)}`,
    );
  }
  const sb = summary.get('burrow');
  const sa = summary.get('baseline');
  let ratio: number | null = null;
  if (sb && sa) {
    ratio = sb.rps / sa.rps;
    log(`  ${'burrow/baseline'.padEnd(16)}${x(sb.rps, sa.rps).padStart(9)}${x(sb.p50, sa.p50).padStart(9)}${x(sb.p99, sa.p99).padStart(9)}`);
    log();
    log(`  requests/s ratio burrow/baseline: ${ratio.toFixed(2)}x  (target >= 1.00x: ${ratio >= 1 ? 'met' : 'NOT met'})`);
  }

  const file = await writeResults('api', { endpoint: ENDPOINT, options: { ...options, adminUrl: undefined }, runs: results, summary: Object.fromEntries(summary), ratio });
  log(`  raw figures: ${path.relative(ROOT, file)}`);

  // The profile is written when the server exits, so stop it now.
  if (options.cpuProf) await collectProfiles(burrow, profileDir);
}

await runBench('bench:api', main);
