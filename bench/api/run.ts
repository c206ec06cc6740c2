/**
 * npm run bench:api -- [--duration 15] [--connections 50] [--rounds 3] [--warmup 5] [--pool 10]
 *                      [--endpoint current,persisted_folder,file_system,saved_heatmaps] [--target both|burrow|baseline] [--cpu-prof]
 *
 * Drives authenticated reads with a personal API key (GET /api/projects/@current/ and three team-scoped lists on
 * seeded data: persisted folders, a file_system folder listing with parent and depth, saved heatmaps) with
 * autocannon, against the real Burrow server on Postgres and, in the same run and on the same database, against
 * bench/api/baseline.ts (a lean hand-written server: bare Fastify + node-postgres with prepared statements, the key
 * lookup with the team access in one statement, then the list, no cache). Before measuring, both sides must answer
 * each endpoint with the same body. Per endpoint the two alternate (baseline, burrow, burrow, baseline, ...) and the
 * medians are compared; the machine is noisy, so quote the ratios, not the absolute figures.
 *
 * Environment (flags win): BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_POOL,
 * BENCH_ADMIN_URL (a Postgres URL allowed to create and drop databases; default postgres://postgres@127.0.0.1:5432/postgres).
 * Anything else Burrow reads passes through to the server, except the variables set below; for instance
 * `AUTH_CACHE_SECONDS=0 npm run bench:api` measures Burrow with its key and team caches off. --cpu-prof writes the
 * Burrow server's CPU profile (of all the endpoints run) under bench/results/.
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
  processCpuMs,
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
import { alternate, type Figures, figures, fmt, load as loadUrl, median, ratio as x, roundLine, type Summary, summarize } from '../lib/load.js';
import { LISTED_FOLDER, seed } from './seed.js';

const ENDPOINTS = [
  { id: 'current', path: () => '/api/projects/@current/' },
  { id: 'persisted_folder', path: (team: number) => `/api/projects/${team}/persisted_folder/` },
  { id: 'file_system', path: (team: number) => `/api/projects/${team}/file_system/?depth=2&parent=${LISTED_FOLDER}` },
  { id: 'saved_heatmaps', path: (team: number) => `/api/projects/${team}/saved/` },
] as const;
type EndpointId = (typeof ENDPOINTS)[number]['id'];

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    pool: { type: 'string' },
    endpoint: { type: 'string' },
    target: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  process.stdout.write(
    'npm run bench:api -- [--duration s] [--connections n] [--rounds n] [--warmup s] [--pool n]\n' +
      `                     [--endpoint ${ENDPOINTS.map((e) => e.id).join(',')}] [--target both|burrow|baseline] [--cpu-prof]\n`,
  );
  process.exit(0);
}

function endpointOption(flag: string | undefined): EndpointId[] {
  const all = ENDPOINTS.map((e) => e.id);
  if (flag === undefined) return all;
  const chosen = flag.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of chosen) if (!(all as string[]).includes(id)) throw new Error(`--endpoint takes ${all.join(', ')}; got ${id}`);
  return chosen as EndpointId[];
}

const options = {
  duration: intOption(flags.duration, 'BENCH_DURATION', 15, 1),
  connections: intOption(flags.connections, 'BENCH_CONNECTIONS', 50, 1),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 3, 1),
  warmup: intOption(flags.warmup, 'BENCH_WARMUP', 5, 0),
  pool: intOption(flags.pool, 'BENCH_POOL', 10, 1),
  endpoints: endpointOption(flags.endpoint),
  targets: targetOption(flags.target),
  cpuProf: flags['cpu-prof'] ?? false,
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

/** The body with the server's own origin taken out of its links, so that both sides' bodies compare. */
async function bodyOf(child: ServerChild, key: string, url: string): Promise<string> {
  const response = await fetch(`${child.base}${url}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${child.name} answered ${response.status} to ${url}: ${text.slice(0, 300)}`);
  return text.replaceAll(child.base, '');
}

/** Throws unless every side answers the same body: the comparison means nothing otherwise. */
async function checkSameBodies(children: Map<Target, ServerChild>, key: string, url: string): Promise<void> {
  const bodies = new Map<Target, string>();
  for (const [name, child] of children) bodies.set(name, await bodyOf(child, key, url));
  const [a, b] = [bodies.get('burrow'), bodies.get('baseline')];
  const any = a ?? b ?? '';
  const results = (JSON.parse(any) as { results?: unknown[] }).results;
  log(`  GET ${url}: ${Buffer.byteLength(any)} bytes${results ? `, ${results.length} results` : ''}${a && b ? ', the same on both sides' : ''}`);
  if (a === undefined || b === undefined || a === b) return;
  let at = 0;
  while (a[at] === b[at]) at++;
  throw new Error(`the bodies differ at character ${at}:\n  burrow   ...${a.slice(Math.max(0, at - 80), at + 120)}\n  baseline ...${b.slice(Math.max(0, at - 80), at + 120)}`);
}

async function load(child: ServerChild, key: string, url: string, duration: number) {
  return loadUrl({ url: `${child.base}${url}`, connections: options.connections, duration, headers: { authorization: `Bearer ${key}` } });
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);

  const profileDir = path.join(ROOT, 'bench', 'results', `cpu-prof-${stamp()}`);
  if (options.cpuProf) await fs.mkdir(profileDir, { recursive: true });

  log(`bench:api  authenticated reads with a personal API key (Bearer): ${options.endpoints.join(', ')}`);
  log(`  database ${dbName}; ${options.connections} connections, ${options.duration} s per run, ${options.rounds} round(s), ${options.warmup} s warm-up; pool ${options.pool} on both sides`);
  log(`  Burrow runs with RATE_LIMIT_ENABLED=false (the per-key throttle would answer 429 after 480 requests), WORKERS=off, LOG_LEVEL=warn,`);
  log(`  AUTH_CACHE_SECONDS=${process.env.AUTH_CACHE_SECONDS ?? '5 (default)'}; the baseline caches nothing: one statement for the key and the team, then the list.`);
  log(`  node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log();

  // Burrow first: it migrates the database and bootstraps the account the key belongs to.
  const children = new Map<Target, ServerChild>();
  const { child: burrow, key } = await startBurrow({ url, dataDir, pool: options.pool, cpuProfDir: options.cpuProf ? profileDir : null });
  if (options.targets.includes('burrow')) children.set('burrow', burrow);
  const seeded = await seed(burrow, key, url);
  log(`  seeded team ${seeded.teamId}: 3 persisted folders, ${seeded.treeRows} file_system rows, ${seeded.heatmaps} saved heatmaps (3 deleted)`);

  if (options.targets.includes('baseline')) {
    const baseline = startChild('baseline', 'bench/api/baseline.ts', { DATABASE_URL: url, DATABASE_POOL_SIZE: String(options.pool) }, { port: await freePort() });
    await waitForHealth(baseline);
    children.set('baseline', baseline);
  }

  const endpoints = ENDPOINTS.filter((e) => options.endpoints.includes(e.id)).map((e) => ({ id: e.id, url: e.path(seeded.teamId) }));
  for (const endpoint of endpoints) await checkSameBodies(children, key, endpoint.url);
  log();

  const order = (['baseline', 'burrow'] as const).filter((t) => children.has(t));
  const results: (Figures & { endpoint: EndpointId; cpuUsPerRequest: number | null })[] = [];
  const summaries = new Map<EndpointId, Map<Target, Summary & { cpuUsPerRequest: number }>>();
  for (const endpoint of endpoints) {
    log(`GET ${endpoint.url}`);
    if (options.warmup > 0) for (const name of order) await load(children.get(name)!, key, endpoint.url, options.warmup);
    for (let round = 1; round <= options.rounds; round++) {
      for (const name of alternate(order, round)) {
        const child = children.get(name)!;
        const cpuBefore = await processCpuMs(child);
        const f = figures(name, round, await load(child, key, endpoint.url, options.duration));
        const cpuAfter = await processCpuMs(child);
        // load() waits for the requests autocannon abandoned at the end (one per connection): count them too.
        const cpuUsPerRequest = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / (f.requests + options.connections);
        results.push({ ...f, endpoint: endpoint.id, cpuUsPerRequest });
        log(`${roundLine(f)}${cpuUsPerRequest === null ? '' : `  server CPU ${cpuUsPerRequest.toFixed(0)} µs/req`}`);
      }
    }
    summaries.set(
      endpoint.id,
      new Map(
        order.map((name) => {
          const runs = results.filter((r) => r.endpoint === endpoint.id && r.target === name);
          return [name, { ...summarize(runs), cpuUsPerRequest: median(runs.flatMap((r) => (r.cpuUsPerRequest === null ? [] : [r.cpuUsPerRequest]))) }];
        }),
      ),
    );
  }

  log();
  log(`${options.connections} connections, ${options.duration} s x ${options.rounds} round(s), medians (req/s: 2xx only)`);
  log(
    `  ${'endpoint'.padEnd(18)}${'baseline req/s'.padStart(15)}${'p50'.padStart(6)}${'p99'.padStart(6)}${'burrow req/s'.padStart(14)}${'p50'.padStart(6)}${'p99'.padStart(6)}${'ratio'.padStart(8)}` +
      `${'CPU µs/req (baseline, burrow)'.padStart(31)}${'non-2xx/errors'.padStart(16)}`,
  );
  const ratios: Partial<Record<EndpointId, number>> = {};
  for (const [id, byTarget] of summaries) {
    const [sa, sb] = [byTarget.get('baseline'), byTarget.get('burrow')];
    const cells = (s: Summary | undefined) => (s ? `${s.rps.toFixed(0).padStart(15)}${String(s.p50).padStart(6)}${String(s.p99).padStart(6)}` : `${'-'.padStart(15)}${'-'.padStart(6)}${'-'.padStart(6)}`);
    const failures = [...byTarget.values()].map((s) => `${s.non2xx}/${s.errors}`).join(' ');
    const cpu = [sa, sb].map((s) => fmt(s?.cpuUsPerRequest ?? null)).join(', ');
    if (sa && sb) ratios[id] = sb.rps / sa.rps;
    log(`  ${id.padEnd(18)}${cells(sa)}${cells(sb).slice(1)}${(sa && sb ? x(sb.rps, sa.rps) : '-').padStart(8)}${cpu.padStart(31)}${failures.padStart(16)}`);
  }
  const memory = new Map<Target, Awaited<ReturnType<typeof serverMemory>>>();
  for (const [name, child] of children) memory.set(name, await serverMemory(child));
  log(`  peak RSS: ${[...memory].map(([name, m]) => `${name} ${m ? `${m.peakRssMb.toFixed(0)} MB` : '-'}`).join(', ')}`);
  const missed = Object.entries(ratios).filter(([, r]) => r < 1);
  if (Object.keys(ratios).length > 0) log(`  target burrow/baseline >= 1.00x on every endpoint: ${missed.length === 0 ? 'met' : `NOT met (${missed.map(([id]) => id).join(', ')})`}`);

  const summary = Object.fromEntries([...summaries].map(([id, byTarget]) => [id, Object.fromEntries(byTarget)]));
  const file = await writeResults('api', { endpoints, options: { ...options, adminUrl: undefined }, runs: results, summary, ratios, memory: Object.fromEntries(memory) });
  log(`  raw figures: ${path.relative(ROOT, file)}`);

  // The profile is written when the server exits, so stop it now.
  if (options.cpuProf) await collectProfiles(burrow, profileDir);
}

await runBench('bench:api', main);
