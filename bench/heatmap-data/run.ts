/**
 * npm run bench:heatmap-data -- [--large 5000000] [--small 50000] [--requests 200] [--overlays 40] [--patterns 10] [--explain]
 *
 * One team with `--large` heatmap points over 200 pages and 30 days and another with `--small`, the same shape, in one
 * Postgres database (seed.ts). Measured for each team, one request at a time, the two teams alternating in blocks:
 * the query PostHog's web app sends for one page over 7 days (GET /heatmaps/?type=click&date_from=-7d&url_exact=…
 * &aggregation=total_count) over HTTP, and the same service call in this process on the server's SQL without HTTP;
 * the overlay of a saved heatmap of that page at 1024 px (a synthetic 1024 x 3000 JPEG screenshot stored as a
 * rendered one would be); and, fewer times, the same query by url_pattern. Targets (issue 14): the large team's query
 * within 3x of the small one's and its p99 under 300 ms; the overlay under 500 ms.
 *
 * Environment (flags win): BENCH_LARGE, BENCH_SMALL, BENCH_REQUESTS, BENCH_OVERLAYS, BENCH_PATTERNS, BENCH_ADMIN_URL (a
 * Postgres URL allowed to create and drop databases; default postgres://postgres@127.0.0.1:5432/postgres).
 * --explain prints EXPLAIN (ANALYZE, BUFFERS) of the large team's queries.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import sharp from 'sharp';
import { type Db, openDatabase, queryRows } from '../../src/db/client.js';
import { teams as teamsTable } from '../../src/db/schema/index.js';
import { HeatmapsQuery } from '../../src/modules/heatmap-data/contract.js';
import { composeOverlay, heatmapLayer } from '../../src/modules/heatmap-data/overlay.js';
import { createHeatmapDataRepository, type PointFilter } from '../../src/modules/heatmap-data/repository.js';
import { createHeatmapDataService, heatmapDay } from '../../src/modules/heatmap-data/service.js';
import { apiRequest, DEFAULT_ADMIN_URL, intOption, log, ROOT, runBench, scratchDatabase, serverMemory, startBurrow, writeResults } from '../lib/harness.js';
import { alternate, fmt, median } from '../lib/load.js';
import { pageUrl, seedPoints } from './seed.js';

const { values: flags } = parseArgs({
  options: {
    large: { type: 'string' },
    small: { type: 'string' },
    requests: { type: 'string' },
    overlays: { type: 'string' },
    patterns: { type: 'string' },
    explain: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write('npm run bench:heatmap-data -- [--large n] [--small n] [--requests n] [--overlays n] [--patterns n] [--explain]\n');
  process.exit(0);
}
const options = {
  large: intOption(flags.large, 'BENCH_LARGE', 5_000_000, 1),
  small: intOption(flags.small, 'BENCH_SMALL', 50_000, 1),
  requests: intOption(flags.requests, 'BENCH_REQUESTS', 200, 1),
  overlays: intOption(flags.overlays, 'BENCH_OVERLAYS', 40, 1),
  patterns: intOption(flags.patterns, 'BENCH_PATTERNS', 10, 0),
  explain: flags.explain ?? false,
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

/** The page measured: one of the 200, with a tenth of its points reported with a trailing slash. */
const PAGE = pageUrl(7);
const SIZES = ['small', 'large'] as const;
type Size = (typeof SIZES)[number];
/** Requests are sent in blocks of this many per team, the teams alternating (A B B A ...). */
const BLOCK = 20;

/** p50 and p99 of latencies in ms (nearest rank). */
function percentiles(ms: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return { n: s.length, p50: at(50), p99: at(99), max: s[s.length - 1]! };
}

/** Runs `once` for each team `count` times (after `warmup` untimed), in alternating blocks; the latencies in ms. */
async function measure(count: number, warmup: number, once: (size: Size) => Promise<void>): Promise<Record<Size, number[]>> {
  for (const size of SIZES) for (let i = 0; i < warmup; i++) await once(size);
  const ms: Record<Size, number[]> = { small: [], large: [] };
  const block = Math.min(BLOCK, count);
  for (let round = 1; ms.large.length < count; round++) {
    for (const size of alternate(SIZES, round)) {
      for (let i = 0; i < block && ms[size].length < count; i++) {
        const started = performance.now();
        await once(size);
        ms[size].push(performance.now() - started);
      }
    }
  }
  return ms;
}

/** A stand-in screenshot: a long page of white, a header band, grey cards and text lines, as a 1024-px JPEG. */
async function syntheticScreenshot(width: number, height: number): Promise<Buffer> {
  const cards = Array.from({ length: 24 }, (_, i) => {
    const [col, row] = [i % 3, Math.floor(i / 3)];
    return `<rect x="${40 + col * 320}" y="${200 + row * 340}" width="300" height="300" rx="8" fill="#eef0f3"/><rect x="${60 + col * 320}" y="${440 + row * 340}" width="200" height="14" fill="#9aa3ad"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#ffffff"/><rect width="100%" height="80" fill="#1d4aff"/>${cards}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
}

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);
  log(`bench:heatmap-data  ${options.large} and ${options.small} heatmap points in two teams; ${options.requests} requests per team and figure`);
  log(`  database ${dbName}; node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const { child: burrow, key } = await startBurrow({ url, dataDir });
  const current = (await apiRequest(burrow, key, 'GET', '/api/projects/@current/')).json as { id: number };
  const created = await apiRequest(burrow, key, 'POST', '/api/projects/', { name: 'Small' });
  if (created.status !== 201) throw new Error(`could not create the second project: ${created.text}`);
  const teams: Record<Size, number> = { large: current.id, small: (created.json as { id: number }).id };

  const database = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
  const db = database.db;
  try {
    let started = Date.now();
    await seedPoints(url, teams.large, options.large);
    await seedPoints(url, teams.small, options.small);
    const seeded = (Date.now() - started) / 1000;
    started = Date.now();
    // As autovacuum would leave a table that has settled: statistics, and a visibility map for index-only scans.
    await queryRows(db, sql`vacuum (analyze) heatmap_points`);
    const [size] = await queryRows<{ table: string; indexes: string }>(
      db,
      sql`select pg_size_pretty(pg_table_size('heatmap_points')) as table,
            (select string_agg(indexrelname || ' ' || pg_size_pretty(pg_relation_size(indexrelid)), ', ' order by indexrelname)
             from pg_stat_user_indexes where relname = 'heatmap_points') as indexes`,
    );
    log(`  seeded in ${seeded.toFixed(0)} s, vacuum analyze ${((Date.now() - started) / 1000).toFixed(0)} s; heatmap_points ${size!.table}; indexes: ${size!.indexes}`);

    // A saved heatmap of the page for each team, with a stored 1024-px screenshot (no render: WORKERS=off).
    const screenshot = await syntheticScreenshot(1024, 3000);
    const shortIds = {} as Record<Size, string>;
    for (const s of SIZES) {
      const saved = await apiRequest(burrow, key, 'POST', `/api/projects/${teams[s]}/saved/`, { url: PAGE, widths: [1024] });
      if (saved.status !== 201) throw new Error(`could not save a heatmap: ${saved.text}`);
      const { id, short_id } = saved.json as { id: string; short_id: string };
      shortIds[s] = short_id;
      await queryRows(db, sql`insert into heatmap_snapshots (id, heatmap_id, width, content) values (gen_random_uuid(), ${id}, 1024, ${screenshot})`);
      await queryRows(db, sql`update saved_heatmaps set status = 'completed' where id = ${id}`);
    }

    const query = `?type=click&date_from=-7d&url_exact=${encodeURIComponent(PAGE)}&aggregation=total_count`;
    const patternQuery = `?type=click&date_from=-7d&url_pattern=${encodeURIComponent(`${PAGE}*`)}&aggregation=total_count`;
    const overlayQuery = '?width=1024&type=click&date_from=-7d';
    const urls = (s: Size) => ({
      query: `/api/projects/${teams[s]}/heatmaps/${query}`,
      pattern: `/api/projects/${teams[s]}/heatmaps/${patternQuery}`,
      overlay: `/api/projects/${teams[s]}/saved/${shortIds[s]}/overlay/${overlayQuery}`,
    });
    const get = async (path: string) => {
      const response = await fetch(`${burrow.base}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${body.toString().slice(0, 300)}`);
      return body;
    };
    const shape: Record<string, unknown> = {};
    for (const s of SIZES) {
      const answer = JSON.parse((await get(urls(s).query)).toString()) as { results: unknown[]; fold: { total_count: number }; has_more: boolean };
      const pattern = JSON.parse((await get(urls(s).pattern)).toString()) as { fold: { total_count: number } };
      const overlay = await get(urls(s).overlay);
      shape[s] = { cells: answer.results.length, hasMore: answer.has_more, points: answer.fold.total_count, patternPoints: pattern.fold.total_count, overlayBytes: overlay.length };
      log(
        `  ${s.padEnd(6)} team ${teams[s]}: the page's 7-day clicks ${answer.fold.total_count} (not fixed) in ${answer.results.length} cells${answer.has_more ? ' (more)' : ''}; ` +
          `by pattern ${pattern.fold.total_count}; overlay ${(overlay.length / 1024).toFixed(0)} KB`,
      );
    }

    // The same service call as the route, in this process on the same database: the SQL without HTTP.
    const repository = createHeatmapDataRepository(db);
    const service = createHeatmapDataService({ heatmapData: repository, screenshots: { screenshot: () => Promise.reject(new Error('unused')), screenshotOfPage: () => Promise.reject(new Error('unused')) }, log: pino({ level: 'silent' }) });
    const teamRows = {} as Record<Size, typeof teamsTable.$inferSelect>;
    for (const s of SIZES) teamRows[s] = (await db.select().from(teamsTable).where(eq(teamsTable.id, teams[s])))[0]!;
    // Parsed by the route's own schema, so the defaults are the route's.
    const serviceQuery = HeatmapsQuery.parse({ type: 'click', date_from: '-7d', url_exact: PAGE, aggregation: 'total_count' });

    if (options.explain) {
      const explaining = new Proxy(db, {
        get: (target, property, receiver) =>
          property === 'execute' ? (q: Parameters<Db['execute']>[0]) => target.execute(sql`explain (analyze, buffers) ${q}`) : Reflect.get(target, property, receiver),
      });
      const plans: string[] = [];
      const logging = new Proxy(explaining, {
        get: (target, property, receiver) =>
          property === 'execute'
            ? async (q: Parameters<Db['execute']>[0]) => {
                const result = (await target.execute(q)) as unknown as { rows: { 'QUERY PLAN': string }[] };
                plans.push(result.rows.map((r) => r['QUERY PLAN']).join('\n'));
                return { rows: [{ total: 0, below: 0, median: 0, count: null }] };
              }
            : Reflect.get(target, property, receiver),
      }) as Db;
      const explained = createHeatmapDataService({ heatmapData: createHeatmapDataRepository(logging), screenshots: { screenshot: () => Promise.reject(new Error('unused')), screenshotOfPage: () => Promise.reject(new Error('unused')) }, log: pino({ level: 'silent' }) });
      await explained.points({ team: teamRows.large }, serviceQuery);
      log();
      log(`EXPLAIN (ANALYZE, BUFFERS) of the large team's query:`);
      for (const plan of plans) log(plan.replace(/^/gm, '    '));
    }

    log();
    log(`the web app's query for one page over 7 days, one request at a time (${options.requests} per team, after 10 untimed)`);
    const http = await measure(options.requests, 10, async (s) => void (await get(urls(s).query)));
    const direct = await measure(options.requests, 10, async (s) => void (await service.points({ team: teamRows[s] }, serviceQuery)));

    // The overlay's steps for the large team, in this process: the points query, drawing the layer, composing.
    log(`the overlay at 1024 px, one request at a time (${options.overlays} per team, after 3 untimed)`);
    const overlay = await measure(options.overlays, 3, async (s) => void (await get(urls(s).overlay)));
    const steps: Record<'query' | 'layer' | 'compose', number[]> = { query: [], layer: [], compose: [] };
    const now = new Date();
    const overlayFilter: PointFilter = {
      type: 'click',
      from: heatmapDay('-7d', now, 'UTC'),
      to: now.toISOString().slice(0, 10),
      timeZone: 'UTC',
      url: { exact: PAGE },
      viewportWidthMin: Math.round(1024 * 0.9),
      viewportWidthMax: Math.round(1024 * 1.1),
      testAccounts: null,
      hideZeroCoordinates: true,
    };
    const { height = 3000 } = await sharp(screenshot).metadata();
    for (let i = 0; i < Math.min(10, options.overlays); i++) {
      let t = performance.now();
      const rows = await repository.points(teams.large, overlayFilter, 'total_count', { limit: 1_000_000, offset: 0 });
      steps.query.push(performance.now() - t);
      t = performance.now();
      const layer = heatmapLayer(1024, height, rows.map((row) => ({ x: Math.round(row.pointer_relative_x * 1024), y: row.pointer_y, value: row.count })), rows[0]?.count ?? 0);
      steps.layer.push(performance.now() - t);
      t = performance.now();
      await composeOverlay(screenshot, { rgba: layer, width: 1024, height }, { format: 'png', label: 'clicks', max: rows[0]?.count ?? 0 });
      steps.compose.push(performance.now() - t);
    }

    const patterns = options.patterns > 0 ? await measure(options.patterns, 1, async (s) => void (await get(urls(s).pattern))) : null;

    log();
    log(`${''.padEnd(34)}${'small p50'.padStart(10)}${'p99'.padStart(8)}${'large p50'.padStart(11)}${'p99'.padStart(8)}${'large/small p50'.padStart(17)}`);
    const summary: Record<string, Record<Size, ReturnType<typeof percentiles>> & { ratio: number }> = {};
    const line = (label: string, ms: Record<Size, number[]>) => {
      const [small, large] = [percentiles(ms.small), percentiles(ms.large)];
      summary[label] = { small, large, ratio: large.p50 / small.p50 };
      log(`  ${label.padEnd(32)}${fmt(small.p50, 1).padStart(10)}${fmt(small.p99, 1).padStart(8)}${fmt(large.p50, 1).padStart(11)}${fmt(large.p99, 1).padStart(8)}${`${(large.p50 / small.p50).toFixed(2)}x`.padStart(17)}`);
    };
    line('url_exact, 7 days (HTTP)', http);
    line('url_exact, 7 days (in process)', direct);
    line('overlay at 1024 px (HTTP)', overlay);
    if (patterns) line('url_pattern, 7 days (HTTP)', patterns);
    log(`  the large team's overlay in process: points query ${fmt(median(steps.query), 1)} ms, layer ${fmt(median(steps.layer), 1)} ms, PNG ${fmt(median(steps.compose), 1)} ms (medians)`);

    const q = summary['url_exact, 7 days (HTTP)']!;
    const o = summary['overlay at 1024 px (HTTP)']!;
    log();
    log(`  target: the ${options.large} team's query within 3x of the ${options.small} one's: ${q.ratio <= 3 ? 'met' : 'NOT met'} (${q.ratio.toFixed(2)}x at p50, ${(q.large.p99 / q.small.p99).toFixed(2)}x at p99)`);
    log(`  target: its p99 under 300 ms: ${q.large.p99 < 300 ? 'met' : 'NOT met'} (${fmt(q.large.p99, 1)} ms)`);
    log(`  target: the overlay under 500 ms: ${o.large.p99 < 500 ? 'met' : 'NOT met'} (large p50 ${fmt(o.large.p50, 0)} / p99 ${fmt(o.large.p99, 0)} ms)`);
    const memory = await serverMemory(burrow);
    log(`  peak RSS of the server: ${memory ? `${memory.peakRssMb.toFixed(0)} MB` : '-'}; load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const file = await writeResults('heatmap-data', {
      options: { ...options, adminUrl: undefined },
      loadAverage: os.loadavg(),
      shape,
      summary,
      overlaySteps: steps,
      raw: { http, direct, overlay, patterns },
    });
    log(`  raw figures: ${path.relative(ROOT, file)}`);
  } finally {
    await database.close();
  }
}

await runBench('bench:heatmap-data', main);
