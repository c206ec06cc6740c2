/**
 * npm run bench:tree -- [--duration 10] [--connections 50] [--rounds 3] [--warmup 3] [--pool 10]
 *                       [--rows 100000] [--small-rows 1000] [--scenario listing,root,search,unfiled,persisted] [--seed 1]
 *                       [--cpu-prof | --explain]
 *
 * The project tree at scale. One Burrow server on a fresh Postgres database serves two teams (in two projects): a
 * large one whose tree holds --rows rows and a small one with --small-rows rows, both filled straight into
 * file_system by bulk SQL in the same realistic shape (bench/tree/shape.ts). autocannon then drives, alternating
 * small and large (A B B A ...), each of:
 *
 *   listing    the folder listing the frontend sends when a folder is opened: GET file_system/?parent=<folder>&depth=2
 *              &limit=101, for the first top-level folder, which has the same 120 items (plus its subfolders) in both
 *              trees, so both answer a full page of 101 rows. Target: large req/s >= 0.5 x small req/s (within 2x).
 *   root       the root listing: ?parent=&depth=1&limit=101 (the 12 top-level folders, in both trees). No target.
 *   search     ?search=funnel&limit=100: a word in ~2.5% of item names (never in folder names). No target.
 *   unfiled    GET file_system/unfiled/: files objects without a row and repairs depths and parents. No target.
 *   persisted  GET persisted_folder/ (the caller's three sidebar folders), Burrow against bench/tree/baseline.ts
 *              (bare Fastify + node-postgres: key lookup, team membership, the folders, by hand and uncached), in the
 *              bench/api way. Target: Burrow req/s >= 1.0 x baseline req/s.
 *
 * It prints requests/s (2xx only), p50 and p99 per target (medians of the rounds), the ratios, the peak RSS of the
 * servers, and writes the raw figures to bench/results/. Two figures are steadier on a noisy machine than requests/s:
 * the server process's CPU time per request (from /proc, over each run) and the median latency of 20 requests sent
 * one at a time on one connection (which also shows an endpoint so slow that nothing completes within a 50-connection
 * run). After each run it waits until the server has served the requests autocannon abandoned. Quote the ratios.
 *
 * Environment (flags win): BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_POOL, BENCH_ROWS,
 * BENCH_SMALL_ROWS, BENCH_SEED, BENCH_ADMIN_URL (a Postgres URL allowed to create and drop databases; default
 * postgres://postgres@127.0.0.1:5432/postgres). Anything else Burrow reads passes through to the server
 * (AUTH_CACHE_SECONDS=0, for instance). --cpu-prof writes the Burrow server's CPU profile under bench/results/.
 * --explain fills the same database and, instead of the load runs, prints for every target the statements Burrow's
 * services send with EXPLAIN (ANALYZE, BUFFERS) and the service call's time (bench/tree/explain.ts).
 *
 * It creates a database burrow_bench_<random> and a temporary DATA_DIR, and removes both at the end, also on failure
 * and on Ctrl-C.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { joinPath } from '../../src/modules/file-system/paths.js';
import {
  apiRequest,
  collectProfiles,
  DEFAULT_ADMIN_URL,
  freePort,
  intOption,
  log,
  onCleanUp,
  processCpuMs,
  ROOT,
  runBench,
  type ServerChild,
  scratchDatabase,
  serverMemory,
  startBurrow,
  startChild,
  stamp,
  waitForHealth,
  waitUntilIdle,
  writeResults,
} from '../lib/harness.js';
import { alternate, type Figures, figures, fmt, load, median, ratio, roundLine, type Summary, summarize } from '../lib/load.js';
import { explainTargets, printExplained } from './explain.js';
import { insertTree } from './fill.js';
import { describeTree, generateTree, MAIN_FOLDER, SEARCH_WORD, type TreeStats } from './shape.js';

/** Seconds autocannon waits for an answer: the large tree's search can take longer than autocannon's default 10 s. */
const REQUEST_TIMEOUT = 60;
/** Requests sent one at a time on each target (after a few unmeasured ones), for the latency of a request alone. */
const SINGLE_REQUESTS = 20;
const SINGLE_WARMUP = 3;

const SCENARIOS = ['listing', 'root', 'search', 'unfiled', 'persisted'] as const;
type ScenarioId = (typeof SCENARIOS)[number];

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    pool: { type: 'string' },
    rows: { type: 'string' },
    'small-rows': { type: 'string' },
    scenario: { type: 'string' },
    seed: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  process.stdout.write(
    'npm run bench:tree -- [--duration s] [--connections n] [--rounds n] [--warmup s] [--pool n] [--rows n] [--small-rows n]\n' +
      '                      [--scenario listing,root,search,unfiled,persisted] [--seed n] [--cpu-prof | --explain]\n',
  );
  process.exit(0);
}

const options = {
  duration: intOption(flags.duration, 'BENCH_DURATION', 10, 1),
  connections: intOption(flags.connections, 'BENCH_CONNECTIONS', 50, 1),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 3, 1),
  warmup: intOption(flags.warmup, 'BENCH_WARMUP', 3, 0),
  pool: intOption(flags.pool, 'BENCH_POOL', 10, 1),
  rows: intOption(flags.rows, 'BENCH_ROWS', 100_000, 200),
  smallRows: intOption(flags['small-rows'], 'BENCH_SMALL_ROWS', 1_000, 200),
  seed: intOption(flags.seed, 'BENCH_SEED', 1, 0),
  scenarios: (() => {
    const list = (flags.scenario ?? SCENARIOS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of list) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--scenario takes ${SCENARIOS.join(', ')}; got ${s}`);
    return list as ScenarioId[];
  })(),
  cpuProf: flags['cpu-prof'] ?? false,
  explain: flags.explain ?? false,
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

if (options.rows === options.smallRows) throw new Error('--rows and --small-rows must differ');

const kRows = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

// ---------------------------------------------------------------------------------------------------------------
// Filling the trees.

interface Team {
  label: string;
  teamId: number;
  projectId: number;
  stats: TreeStats;
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios.

interface Side {
  name: string;
  child: ServerChild;
  url: string;
}

interface Scenario {
  id: ScenarioId;
  title: string;
  /** [reference, measured]: the ratio printed is measured/reference (requests/s). */
  sides: [Side, Side];
  /** Requests/s of the measured side must be at least this times the reference's; null: no target. */
  target: { min: number; text: string } | null;
}

function describe(stats: TreeStats): string {
  const depths = Object.entries(stats.byDepth)
    .map(([d, n]) => `${d}:${n}`)
    .join(' ');
  const types = Object.entries(stats.byType)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  return [
    `${stats.rows} rows (${types})`,
    `    rows by depth ${depths}; at most ${stats.maxChildren} children in a folder; main folder: ${stats.mainChildren} children`,
    `    names ${stats.nameLength.min}-${stats.nameLength.max} chars; paths ${stats.pathLength.avg} chars on average (max ${stats.pathLength.max}); ${stats.pathsWithEscapedSlash} paths hold "\\/"; "${SEARCH_WORD}" in ${stats.searchMatches}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);

  const profileDir = path.join(ROOT, 'bench', 'results', `cpu-prof-tree-${stamp()}`);
  if (options.cpuProf) await fs.mkdir(profileDir, { recursive: true });

  log(`bench:tree  the project tree of a ${kRows(options.rows)}-row team against a ${kRows(options.smallRows)}-row team; persisted folders against a bare baseline`);
  log(`  database ${dbName}; ${options.connections} connections, ${options.duration} s per run, ${options.rounds} round(s), ${options.warmup} s warm-up; pool ${options.pool}`);
  log(`  scenarios: ${options.scenarios.join(', ')}`);
  log(`  Burrow runs with RATE_LIMIT_ENABLED=false, WORKERS=off, LOG_LEVEL=warn, AUTH_CACHE_SECONDS=${process.env.AUTH_CACHE_SECONDS ?? '5 (default)'}`);
  log(`  node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log();

  const { child: burrow, key } = await startBurrow({ url, dataDir, pool: options.pool, cpuProfDir: options.cpuProf ? profileDir : null });

  const db = new pg.Pool({ connectionString: url, max: 2 });
  onCleanUp(() => db.end());

  // The bootstrap team takes the large tree; a second project (created as the admin, an organization owner) the small one.
  const created = await apiRequest(burrow, key, 'POST', '/api/projects/', { name: 'Small tree' });
  if (created.status !== 201) throw new Error(`POST /api/projects/ answered ${created.status}: ${created.text.slice(0, 300)}`);
  const smallTeamId = (created.json as { id: number }).id;
  const { rows: teamRows } = await db.query<{ id: number; project_id: number }>('select id, project_id from teams order by id');
  const { rows: userRows } = await db.query<{ id: number }>('select id from users order by id limit 1');
  const userId = userRows[0]!.id;
  const largeTeam = teamRows.find((t) => t.id !== smallTeamId);
  const smallTeam = teamRows.find((t) => t.id === smallTeamId);
  if (!largeTeam || !smallTeam) throw new Error(`expected two teams, found ${JSON.stringify(teamRows)}`);
  if (largeTeam.project_id === smallTeam.project_id) throw new Error('the two teams share a project: their trees would be one');

  const teams: { small: Team; large: Team } = {} as { small: Team; large: Team };
  for (const [size, team, rows] of [
    ['small', smallTeam, options.smallRows],
    ['large', largeTeam, options.rows],
  ] as const) {
    const started = Date.now();
    const tree = generateTree({ rows, teamId: team.id, userId, seed: options.seed + (size === 'large' ? 1 : 0) });
    const stats = describeTree(tree);
    await insertTree(db, { teamId: team.id, projectId: team.project_id }, userId, tree, options.seed);
    teams[size] = { label: `${kRows(rows)} rows`, teamId: team.id, projectId: team.project_id, stats };
    log(`  team ${team.id} (project ${team.project_id}): ${describe(stats)}`);
    log(`    generated and inserted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  await db.query('vacuum analyze file_system');
  const { rows: sizeRows } = await db.query<{ table: string; indexes: string }>(
    `select pg_size_pretty(pg_table_size('file_system')) as table, pg_size_pretty(pg_indexes_size('file_system')) as indexes`,
  );
  log(`  file_system: ${sizeRows[0]!.table} of table, ${sizeRows[0]!.indexes} of indexes (vacuumed and analyzed)`);

  // The caller's sidebar folders, in the large team.
  for (const [type, folderPath] of [
    ['home', 'Product analytics'],
    ['pinned', ''],
    ['custom_products', 'Growth team'],
  ] as const) {
    const response = await apiRequest(burrow, key, 'POST', `/api/projects/${largeTeam.id}/persisted_folder/`, { type, protocol: 'project://', path: folderPath });
    if (response.status !== 201) throw new Error(`POST persisted_folder answered ${response.status}: ${response.text.slice(0, 300)}`);
  }

  let baseline: ServerChild | null = null;
  if (options.scenarios.includes('persisted')) {
    baseline = startChild('baseline', 'bench/tree/baseline.ts', { DATABASE_URL: url, DATABASE_POOL_SIZE: String(options.pool) }, { port: await freePort() });
    await waitForHealth(baseline);
  }
  log();

  const tree = (team: Team, query: string): Side => ({ name: team.label, child: burrow, url: `/api/projects/${team.teamId}/file_system/?${query}` });
  const mainFolder = joinPath([MAIN_FOLDER]);
  const listing = `parent=${encodeURIComponent(mainFolder)}&depth=2&limit=101`;
  const scenarios: Scenario[] = [];
  for (const id of options.scenarios) {
    if (id === 'listing') {
      scenarios.push({
        id,
        title: `GET file_system/?parent=<main folder>&depth=2&limit=101`,
        sides: [tree(teams.small, listing), tree(teams.large, listing)],
        target: { min: 0.5, text: `${teams.large.label} listing within 2x of the ${teams.small.label} one (req/s ratio >= 0.50x)` },
      });
    } else if (id === 'root') {
      const query = 'parent=&depth=1&limit=101';
      scenarios.push({ id, title: `GET file_system/?${query}`, sides: [tree(teams.small, query), tree(teams.large, query)], target: null });
    } else if (id === 'search') {
      const query = `search=${SEARCH_WORD}&limit=100`;
      scenarios.push({ id, title: `GET file_system/?${query}`, sides: [tree(teams.small, query), tree(teams.large, query)], target: null });
    } else if (id === 'unfiled') {
      const unfiled = (team: Team): Side => ({ name: team.label, child: burrow, url: `/api/projects/${team.teamId}/file_system/unfiled/` });
      scenarios.push({ id, title: 'GET file_system/unfiled/ (the web app sends it on every tree load)', sides: [unfiled(teams.small), unfiled(teams.large)], target: null });
    } else {
      const endpoint = `/api/projects/${largeTeam.id}/persisted_folder/`;
      scenarios.push({
        id,
        title: `GET persisted_folder/ (3 folders)`,
        sides: [
          { name: 'baseline', child: baseline!, url: endpoint },
          { name: 'burrow', child: burrow, url: endpoint },
        ],
        target: { min: 1, text: 'Burrow at least as fast as the baseline (req/s ratio >= 1.00x)' },
      });
    }
  }

  // One request each: every side must answer 200; the listing a full page; the two persisted folder lists alike.
  for (const scenario of scenarios) {
    log(`  ${scenario.title}`);
    const bodies: Record<string, unknown>[] = [];
    for (const side of scenario.sides) {
      const response = await fetch(`${side.child.base}${side.url}`, { headers: { authorization: `Bearer ${key}` } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${side.name} ${side.url} answered ${response.status}: ${text.slice(0, 300)}`);
      const body = JSON.parse(text) as { count: number; results?: unknown[] };
      bodies.push(body as unknown as Record<string, unknown>);
      const results = body.results ? `, ${body.results.length} results` : '';
      log(`    ${side.name.padEnd(12)} 200, ${String(Buffer.byteLength(text)).padStart(6)} bytes, count ${String(body.count).padStart(5)}${results}`);
      if (scenario.id === 'listing' && body.results?.length !== 101) throw new Error(`the listing of ${side.name} answered ${body.results?.length} rows, not a full page of 101`);
    }
    if (scenario.id === 'persisted') {
      const [a, b] = bodies.map((body) => JSON.stringify({ ...body, results: (body.results as Record<string, unknown>[]).map((r) => Object.keys(r)) }));
      if (a !== b) log(`    WARNING: the pages differ in shape:\n      ${a}\n      ${b}`);
    }
  }
  log();

  if (options.explain) {
    const explained = await explainTargets({
      url,
      key,
      // unfiled/ is measured under load only: explain.ts replays list requests.
      targets: scenarios
        .filter((scenario) => scenario.id !== 'unfiled')
        .flatMap((scenario) =>
          scenario.sides
            .filter((side) => side.name !== 'baseline')
            .map((side) => {
              const [pathname, query = ''] = side.url.split('?') as [string, string?];
              const teamId = Number(/\/api\/projects\/(\d+)\//.exec(pathname)![1]);
              const label = scenario.id === 'persisted' ? `GET persisted_folder/ (Burrow, the ${teams.large.label} team)` : `GET file_system/ on the ${side.name} team`;
              return { label, kind: scenario.id === 'persisted' ? 'persisted' : 'tree', teamId, query } as const;
            }),
        ),
    });
    log('EXPLAIN (ANALYZE, BUFFERS) of what Burrow\'s services send, and the service call without HTTP');
    printExplained(explained);
    const file = await writeResults('tree-explain', { options: { ...options, adminUrl: undefined }, teams, explained });
    log();
    log(`  raw output: ${path.relative(ROOT, file)}`);
    return;
  }

  if (options.warmup > 0) {
    log(`  warm-up: ${options.warmup} s on each of ${scenarios.length * 2} targets`);
    for (const scenario of scenarios) {
      for (const side of scenario.sides) {
        await load({ url: `${side.child.base}${side.url}`, connections: options.connections, duration: options.warmup, headers: { authorization: `Bearer ${key}` }, timeout: REQUEST_TIMEOUT });
        await waitUntilIdle(side.child);
      }
    }
    log();
  }

  // One connection, one request at a time: the latency of a request on its own, which a run with 50 connections hides
  // when an endpoint is slow (nothing may complete within the run).
  const single = new Map<string, { median: number; max: number }>();
  log(`  one connection: ${SINGLE_REQUESTS} requests in a row on each target (after ${SINGLE_WARMUP} unmeasured)`);
  for (const scenario of scenarios) {
    for (const side of scenario.sides) {
      const times: number[] = [];
      for (let i = 0; i < SINGLE_WARMUP + SINGLE_REQUESTS; i++) {
        const sent = performance.now();
        const response = await fetch(`${side.child.base}${side.url}`, { headers: { authorization: `Bearer ${key}` } });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${side.name} ${side.url} answered ${response.status}`);
        if (i >= SINGLE_WARMUP) times.push(performance.now() - sent);
      }
      single.set(`${scenario.id}/${side.name}`, { median: median(times), max: Math.max(...times) });
    }
  }
  log();

  const runs: (Figures & { scenario: ScenarioId; cpuUsPerRequest: number | null })[] = [];
  for (const scenario of scenarios) {
    log(`  ${scenario.title}`);
    for (let round = 1; round <= options.rounds; round++) {
      for (const side of alternate(scenario.sides, round)) {
        const cpuBefore = await processCpuMs(side.child);
        const result = await load({ url: `${side.child.base}${side.url}`, connections: options.connections, duration: options.duration, headers: { authorization: `Bearer ${key}` }, timeout: REQUEST_TIMEOUT });
        // Requests abandoned at the end (one per connection) and those autocannon timed out are still served: wait
        // for them, and count them in the CPU per request.
        const waited = await waitUntilIdle(side.child);
        const cpuAfter = await processCpuMs(side.child);
        const f = figures(side.name, round, result);
        const served = result['2xx'] + result.non2xx + result.timeouts + options.connections;
        const cpuUsPerRequest = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / served;
        runs.push({ ...f, scenario: scenario.id, cpuUsPerRequest });
        const cpu = cpuUsPerRequest === null ? '' : `  server CPU ${cpuUsPerRequest.toFixed(0)} µs/req`;
        const drained = waited > 2000 ? `  (then ${(waited / 1000).toFixed(0)} s until the server drained)` : '';
        const line = f.requests === 0 ? `  round ${f.round} ${f.target.padEnd(12)}       0 req/s  no request completed within the run  errors ${f.errors}` : roundLine(f, 12);
        log(`${line}${cpu}${drained}`);
      }
    }
  }

  const memory: Record<string, number | null> = {
    burrow: (await serverMemory(burrow))?.peakRssMb ?? null,
    ...(baseline ? { baseline: (await serverMemory(baseline))?.peakRssMb ?? null } : {}),
  };

  log();
  log(`bench:tree  ${options.connections} connections, ${options.duration} s x ${options.rounds} round(s), medians;`);
  log(`  "1-conn ms": median latency of ${SINGLE_REQUESTS} requests in a row on one connection; "CPU µs/req": the server process's CPU time per request`);
  type SideSummary = Summary & { cpuUsPerRequest: number | null; singleMs: number | null; singleMaxMs: number | null };
  const summaries: Record<string, { sides: Record<string, SideSummary>; ratio: number; met: boolean | null }> = {};
  const ratioOf = (n: number | null, d: number | null) => (n === null || d === null || Number.isNaN(n) || Number.isNaN(d) ? '-' : ratio(n, d));
  let missed = false;
  for (const scenario of scenarios) {
    const [reference, measured] = scenario.sides;
    const sides: Record<string, SideSummary> = {};
    log();
    log(`${scenario.title}`);
    log(
      `  ${''.padEnd(20)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'non-2xx'.padStart(9)}${'errors'.padStart(8)}${'1-conn ms'.padStart(11)}${'CPU µs/req'.padStart(12)}`,
    );
    for (const side of scenario.sides) {
      const mine = runs.filter((r) => r.scenario === scenario.id && r.target === side.name);
      // Latencies of runs in which nothing completed are not latencies: leave those runs out of the medians.
      const completed = mine.filter((r) => r.requests > 0);
      const latency = completed.length ? summarize(completed) : { p50: Number.NaN, p99: Number.NaN };
      const cpus = mine.map((r) => r.cpuUsPerRequest).filter((c): c is number => c !== null);
      const one = single.get(`${scenario.id}/${side.name}`);
      const s: SideSummary = {
        ...summarize(mine),
        p50: latency.p50,
        p99: latency.p99,
        cpuUsPerRequest: cpus.length ? median(cpus) : null,
        singleMs: one?.median ?? null,
        singleMaxMs: one?.max ?? null,
      };
      sides[side.name] = s;
      log(
        `  ${side.name.padEnd(20)}${s.rps.toFixed(0).padStart(9)}${fmt(s.p50).padStart(9)}${fmt(s.p99).padStart(9)}${String(s.non2xx).padStart(9)}${String(s.errors).padStart(8)}${fmt(s.singleMs, 1).padStart(11)}${fmt(s.cpuUsPerRequest).padStart(12)}`,
      );
    }
    const [a, b] = [sides[reference.name]!, sides[measured.name]!];
    const r = b.rps / a.rps;
    log(
      `  ${`${measured.name}/${reference.name}`.padEnd(20)}${ratio(b.rps, a.rps).padStart(9)}${ratioOf(b.p50, a.p50).padStart(9)}${ratioOf(b.p99, a.p99).padStart(9)}${''.padStart(17)}${ratioOf(b.singleMs, a.singleMs).padStart(11)}${ratioOf(b.cpuUsPerRequest, a.cpuUsPerRequest).padStart(12)}`,
    );
    const met = scenario.target ? r >= scenario.target.min : null;
    if (met === false) missed = true;
    if (scenario.target) log(`  target: ${scenario.target.text}: ${r.toFixed(2)}x, ${met ? 'met' : 'NOT met'}`);
    summaries[scenario.id] = { sides, ratio: r, met };
  }
  log();
  log(`  peak RSS: ${Object.entries(memory).map(([name, mb]) => `${name} ${mb === null ? '-' : `${mb.toFixed(0)} MB`}`).join(', ')}`);
  if (missed) log('  at least one target was NOT met');

  const file = await writeResults('tree', {
    options: { ...options, adminUrl: undefined },
    teams,
    scenarios: scenarios.map((s) => ({ id: s.id, title: s.title, sides: s.sides.map((side) => ({ name: side.name, url: side.url })) })),
    runs,
    summary: summaries,
    peakRssMb: memory,
  });
  log(`  raw figures: ${path.relative(ROOT, file)}`);

  // The profile is written when the server exits, so stop it now.
  if (options.cpuProf) await collectProfiles(burrow, profileDir);
}

await runBench('bench:tree', main);
