/**
 * npm run bench:recordings -- [--duration 10] [--connections 10] [--rounds 2] [--warmup 3] [--large 100000] [--small 1000]
 *
 * One project with `--large` recordings (and their sessions, persons and events) and another with `--small`, on
 * Postgres, each read the way the PostHog web app reads them: the default list (limit 50, the last 3 days), a list with
 * an event property filter, and a snapshot fetch of five blocks. The two projects alternate round by round; the
 * large one's figures are quoted next to the small one's from the same run. Targets (issue 12): the large default
 * list within 2x of the small one, and every measured request's p99 under 250 ms at 10 connections.
 *
 * Environment (flags win): BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_ADMIN_URL (a Postgres
 * URL allowed to create and drop databases; default postgres://postgres@127.0.0.1:5432/postgres).
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { apiRequest, DEFAULT_ADMIN_URL, intOption, log, ROOT, runBench, scratchDatabase, serverMemory, startBurrow, writeResults } from '../lib/harness.js';
import { alternate, figures, type Figures, load, median, roundLine } from '../lib/load.js';
import { seedRecordings } from './seed.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    large: { type: 'string' },
    small: { type: 'string' },
  },
});

const options = {
  duration: intOption(flags.duration, 'BENCH_DURATION', 10, 1),
  connections: intOption(flags.connections, 'BENCH_CONNECTIONS', 10, 1),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 2, 1),
  warmup: intOption(flags.warmup, 'BENCH_WARMUP', 3, 0),
  large: intOption(flags.large, 'BENCH_LARGE', 100_000, 1),
  small: intOption(flags.small, 'BENCH_SMALL', 1_000, 1),
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

const PROPERTY_FILTER = JSON.stringify([{ type: 'event', key: 'plan', operator: 'exact', value: ['pro'] }]);

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);
  log(`bench:recordings  ${options.large} and ${options.small} recordings in two projects; ${options.connections} connections, ${options.duration} s x ${options.rounds} round(s)`);
  log(`  database ${dbName}; node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const { child: burrow, key } = await startBurrow({ url, dataDir });
  const current = (await apiRequest(burrow, key, 'GET', '/api/projects/@current/')).json as { id: number; organization: string };
  const created = await apiRequest(burrow, key, 'POST', '/api/projects/', { name: 'Small' });
  if (created.status !== 201) throw new Error(`could not create the second project: ${created.text}`);
  const teams = { large: current.id, small: (created.json as { id: number }).id };
  const seededAt = Date.now();
  await seedRecordings(url, teams.large, options.large);
  await seedRecordings(url, teams.small, options.small);
  log(`  seeded in ${((Date.now() - seededAt) / 1000).toFixed(0)} s`);

  const newest = async (team: number) => {
    const listed = (await apiRequest(burrow, key, 'GET', `/api/projects/${team}/session_recordings/?limit=1`)).json as { results: { id: string }[] };
    return listed.results[0]!.id;
  };
  const endpoints = await Promise.all(
    (['large', 'small'] as const).map(async (size) => {
      const base = `/api/projects/${teams[size]}/session_recordings/`;
      return [
        { id: 'default list', size, url: base },
        { id: 'event property', size, url: `${base}?properties=${encodeURIComponent(PROPERTY_FILTER)}` },
        { id: 'snapshots', size, url: `${base}${await newest(teams[size])}/snapshots/?source=blob_v2&start_blob_key=0&end_blob_key=4` },
      ];
    }),
  );
  for (const endpoint of endpoints.flat()) {
    const response = await apiRequest(burrow, key, 'GET', endpoint.url);
    if (response.status !== 200) throw new Error(`${endpoint.url} answered ${response.status}: ${response.text.slice(0, 300)}`);
    const results = (response.json as { results?: unknown[] } | null)?.results;
    log(`  ${endpoint.size.padEnd(6)} ${endpoint.id.padEnd(15)} ${Buffer.byteLength(response.text)} bytes${results ? `, ${results.length} results` : ''}`);
  }
  log();

  const runs: (Figures & { endpoint: string })[] = [];
  for (const id of ['default list', 'event property', 'snapshots']) {
    const bySize = Object.fromEntries(endpoints.flat().filter((e) => e.id === id).map((e) => [e.size, e.url])) as Record<'large' | 'small', string>;
    log(id);
    const hit = (size: 'large' | 'small', duration: number) =>
      load({ url: `${burrow.base}${bySize[size]}`, connections: options.connections, duration, headers: { authorization: `Bearer ${key}` } });
    if (options.warmup > 0) for (const size of ['small', 'large'] as const) await hit(size, options.warmup);
    for (let round = 1; round <= options.rounds; round++) {
      for (const size of alternate(['small', 'large'] as const, round)) {
        const f = figures(size, round, await hit(size, options.duration));
        runs.push({ ...f, endpoint: id });
        log(roundLine(f));
      }
    }
  }

  log();
  log(`medians (${options.connections} connections)`);
  log(`  ${'request'.padEnd(16)}${'small req/s'.padStart(12)}${'p50'.padStart(6)}${'p99'.padStart(6)}${'large req/s'.padStart(13)}${'p50'.padStart(6)}${'p99'.padStart(6)}${'large/small'.padStart(13)}`);
  const summary: Record<string, Record<string, { rps: number; p50: number; p99: number }>> = {};
  for (const id of ['default list', 'event property', 'snapshots']) {
    const of = (size: string) => {
      const these = runs.filter((r) => r.endpoint === id && r.target === size);
      return { rps: median(these.map((r) => r.rps)), p50: median(these.map((r) => r.p50)), p99: median(these.map((r) => r.p99)) };
    };
    const [small, large] = [of('small'), of('large')];
    summary[id] = { small, large };
    log(`  ${id.padEnd(16)}${small.rps.toFixed(0).padStart(12)}${String(small.p50).padStart(6)}${String(small.p99).padStart(6)}${large.rps.toFixed(0).padStart(13)}${String(large.p50).padStart(6)}${String(large.p99).padStart(6)}${`${(large.rps / small.rps).toFixed(2)}x`.padStart(13)}`);
  }
  const listRatio = summary['default list']!.small!.rps / summary['default list']!.large!.rps;
  const worstP99 = Math.max(...Object.values(summary).flatMap((s) => Object.values(s).map((f) => f.p99)));
  log(`  target: the ${options.large} default list within 2x of the ${options.small} one: ${listRatio <= 2 ? 'met' : 'NOT met'} (the small one is ${listRatio.toFixed(2)}x as fast)`);
  log(`  target: every p99 under 250 ms: ${worstP99 < 250 ? 'met' : 'NOT met'} (worst ${worstP99} ms)`);
  const memory = await serverMemory(burrow);
  log(`  peak RSS: ${memory ? `${memory.peakRssMb.toFixed(0)} MB` : '-'}`);
  const file = await writeResults('recordings', { options: { ...options, adminUrl: undefined }, runs, summary });
  log(`  raw figures: ${path.relative(ROOT, file)}`);
}

await runBench('bench:recordings', main);
