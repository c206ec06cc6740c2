/**
 * npm run bench:exports-csv -- [--small 30000] [--large 330000] [--rounds 1]
 *
 * A CSV export of a Burrow list at 30,000 rows and at 300,000 rows, in the same run and database: two teams with
 * `--small` and `--large` captured events (seed.ts), each exported through the real API (POST …/exports/ with
 * export_context.source an EventsQuery of PostHog's events table columns) and produced by a worker process of its own
 * (dist/worker.js, as `npm run worker`), started fresh for each export. The worker's memory is read every 50 ms from
 * inside (memory-probe.mjs: RSS and V8 heap) and its peak RSS from the kernel (VmHWM, reset before the export), next
 * to its idle figures measured just before. The large team has more than 300,000 events, so its file must stop at
 * 300,000 data rows and end with PostHog's note row: checked on the downloaded file. Target (issue 15): the peak
 * memory of the 300,000-row export within 1.2x of the 30,000-row one's.
 *
 * Environment (flags win): BENCH_SMALL, BENCH_LARGE, BENCH_ROUNDS, BENCH_ADMIN_URL (a Postgres URL allowed to create
 * and drop databases; default postgres://postgres@127.0.0.1:5432/postgres).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ROW_LIMIT } from '../../src/modules/exports/rules.js';
import { LIMIT_NOTE } from '../../src/modules/exports/producers/tabular.js';
import {
  apiRequest,
  type Child,
  DEFAULT_ADMIN_URL,
  intOption,
  log,
  ROOT,
  runBench,
  scratchDatabase,
  SERVER_SCRIPT,
  type ServerChild,
  startBurrow,
  startChild,
  stopChild,
  writeResults,
} from '../lib/harness.js';
import { alternate, fmt, median } from '../lib/load.js';
import { seedEvents } from './seed.js';

const { values: flags } = parseArgs({
  options: {
    small: { type: 'string' },
    large: { type: 'string' },
    rounds: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write('npm run bench:exports-csv -- [--small n] [--large n] [--rounds n]\n');
  process.exit(0);
}
const options = {
  small: intOption(flags.small, 'BENCH_SMALL', 30_000, 1),
  large: intOption(flags.large, 'BENCH_LARGE', 330_000, 1),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 1, 1),
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
};

const WORKER_SCRIPT = SERVER_SCRIPT.replace('server.js', 'worker.js');
const PROBE = path.join(ROOT, 'bench', 'exports', 'memory-probe.mjs');
const MB = 1024 * 1024;
/** PostHog's events table columns (its "Export" button sends them as the EventsQuery's select). */
const SELECT = ['*', 'event', 'person', 'properties.$current_url', 'properties.$lib', 'timestamp'];

type Size = 'small' | 'large';

interface Sample {
  at: number;
  rss: number;
  heap: number;
}

interface Run {
  size: Size;
  round: number;
  events: number;
  dataRows: number;
  note: boolean;
  csvMb: number;
  seconds: number;
  rowsPerSecond: number;
  idleRssMb: number;
  idleHeapMb: number;
  peakRssMb: number;
  peakHeapMb: number;
  /** The kernel's peak RSS (VmHWM) over the export, reset just before it. */
  hwmMb: number;
  samples: number;
  /** [ms since the POST, RSS MB, heap MB] of every sample during the export (in the results file). */
  series: [number, number, number][];
}

/** The process's peak RSS from the kernel, and a reset of it (writing 5 to clear_refs; Linux 4.0 and later). */
async function highWaterMb(pid: number): Promise<number | null> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const kb = status && /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : null;
}
const resetHighWater = (pid: number) => fs.writeFile(`/proc/${pid}/clear_refs`, '5').then(() => true, () => false);

/** A worker process of its own, with the memory probe; answers once it is ready, with its samples as they come. */
async function startWorker(url: string, dataDir: string): Promise<{ child: Child; samples: Sample[] }> {
  const samples: Sample[] = [];
  let ready = false;
  const child = startChild(
    'worker',
    WORKER_SCRIPT,
    { DATABASE_URL: url, DATA_DIR: dataDir, BOOTSTRAP: 'false', LOG_LEVEL: 'info', WORKER_CONCURRENCY: '1' },
    {
      nodeFlags: ['--import', PROBE],
      onLine: (line) => {
        if (line.startsWith('bench-memory ')) {
          const [, at, rss, heap] = line.split(' ').map(Number);
          samples.push({ at: at!, rss: rss!, heap: heap! });
        } else if (line.includes('Burrow worker is ready')) {
          ready = true;
        } else if (/"level":(4|5|6)0/.test(line)) {
          log(`  [worker] ${line.slice(0, 400)}`);
        }
      },
    },
  );
  const deadline = Date.now() + 60_000;
  while (!ready) {
    if (child.exited) throw new Error(`the worker exited during start-up:\n${child.tail.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`the worker was not ready within 60 s:\n${child.tail.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, samples };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function exportOnce(burrow: ServerChild, key: string, url: string, dataDir: string, teamId: number, size: Size, round: number, events: number): Promise<Run> {
  const { child, samples } = await startWorker(url, dataDir);
  try {
    // Idle: what the worker holds once started (the app built, the pool open), over the second before the export.
    await sleep(2500);
    const idleFrom = Date.now() - 1000;
    const idle = samples.filter((s) => s.at >= idleFrom);
    const idleRss = median(idle.map((s) => s.rss));
    const idleHeap = median(idle.map((s) => s.heap));
    const hwmReset = await resetHighWater(child.pid);

    const base = `/api/projects/${teamId}/exports`;
    const started = Date.now();
    const created = await apiRequest(burrow, key, 'POST', `${base}/`, {
      export_format: 'text/csv',
      export_context: { source: { kind: 'EventsQuery', select: SELECT } },
    });
    if (created.status !== 201) throw new Error(`POST exports answered ${created.status}: ${created.text}`);
    const id = (created.json as { id: number }).id;
    let body: { has_content: boolean; exception: string | null };
    for (;;) {
      body = (await apiRequest(burrow, key, 'GET', `${base}/${id}/`)).json as typeof body;
      if (body.has_content || body.exception) break;
      if (child.exited) throw new Error(`the worker exited during the export:\n${child.tail.join('\n')}`);
      await sleep(100);
    }
    const finished = Date.now();
    if (body.exception) throw new Error(`the ${size} export failed: ${body.exception}`);
    // The last samples of the export may still be on their way.
    await sleep(200);
    const during = samples.filter((s) => s.at >= started && s.at <= finished + 100);
    const hwm = hwmReset ? await highWaterMb(child.pid) : null;

    const content = await fetch(`${burrow.base}${base}/${id}/content/`, { headers: { authorization: `Bearer ${key}` } });
    if (content.status !== 200) throw new Error(`content answered ${content.status}`);
    const csv = await content.text();
    const lines = csv.split('\r\n');
    if (lines.at(-1) === '') lines.pop();
    const note = lines.at(-1)?.split(',')[0] === LIMIT_NOTE;
    const dataRows = lines.length - 1 - (note ? 1 : 0);
    const seconds = (finished - started) / 1000;
    return {
      size,
      round,
      events,
      dataRows,
      note,
      csvMb: Buffer.byteLength(csv) / MB,
      seconds,
      rowsPerSecond: dataRows / seconds,
      idleRssMb: idleRss / MB,
      idleHeapMb: idleHeap / MB,
      peakRssMb: Math.max(idleRss, ...during.map((s) => s.rss)) / MB,
      peakHeapMb: Math.max(idleHeap, ...during.map((s) => s.heap)) / MB,
      hwmMb: hwm ?? NaN,
      samples: during.length,
      series: during.map((s) => [s.at - started, Math.round(s.rss / MB), Math.round(s.heap / MB)]),
    };
  } finally {
    await stopChild(child);
  }
}

async function main(): Promise<void> {
  const { name: dbName, url, dataDir } = await scratchDatabase(options.adminUrl);
  log(`bench:exports-csv  a CSV export of an EventsQuery over ${options.small} and ${options.large} captured events; ${options.rounds} round(s)`);
  log(`  database ${dbName}; node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const { child: burrow, key } = await startBurrow({ url, dataDir, env: { EXPORT_CREATE_WAIT_SECONDS: '0' } });
  const current = (await apiRequest(burrow, key, 'GET', '/api/projects/@current/')).json as { id: number };
  const second = await apiRequest(burrow, key, 'POST', '/api/projects/', { name: 'Small' });
  if (second.status !== 201) throw new Error(`could not create the second project: ${second.text}`);
  const teams: Record<Size, number> = { large: current.id, small: (second.json as { id: number }).id };
  const counts: Record<Size, number> = { small: options.small, large: options.large };

  let started = Date.now();
  await seedEvents(url, teams.large, options.large);
  await seedEvents(url, teams.small, options.small);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('vacuum (analyze) events');
  await admin.query('vacuum (analyze) persons');
  await admin.query('vacuum (analyze) person_distinct_ids');
  const { rows } = await admin.query<{ size: string }>(`select pg_size_pretty(pg_table_size('events')) as size`);
  await admin.end();
  log(`  seeded and analyzed in ${((Date.now() - started) / 1000).toFixed(0)} s; events ${rows[0]!.size}`);
  log(`  source: EventsQuery select ${JSON.stringify(SELECT)} (every event of the team)`);
  log();

  const runs: Run[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const size of alternate(['small', 'large'] as const, round)) {
      started = Date.now();
      const run = await exportOnce(burrow, key, url, dataDir, teams[size], size, round, counts[size]);
      runs.push(run);
      log(
        `  round ${round} ${size.padEnd(5)} ${String(run.dataRows).padStart(7)} rows${run.note ? ' + note' : ''}  ${fmt(run.csvMb, 1).padStart(6)} MB CSV  ${fmt(run.seconds, 1).padStart(5)} s  ${fmt(run.rowsPerSecond).padStart(6)} rows/s  ` +
          `RSS idle ${fmt(run.idleRssMb)} peak ${fmt(run.peakRssMb)} (kernel ${fmt(run.hwmMb)}) MB  heap idle ${fmt(run.idleHeapMb)} peak ${fmt(run.peakHeapMb)} MB  (${run.samples} samples)`,
      );
    }
  }

  const of = (size: Size) => runs.filter((r) => r.size === size);
  const med = (size: Size, pick: (r: Run) => number) => median(of(size).map(pick));
  const peak = (size: Size) => med(size, (r) => (Number.isFinite(r.hwmMb) ? Math.max(r.hwmMb, r.peakRssMb) : r.peakRssMb));
  const above = (size: Size) => peak(size) - med(size, (r) => r.idleRssMb);
  const heapAbove = (size: Size) => med(size, (r) => r.peakHeapMb - r.idleHeapMb);
  log();
  log(`${''.padEnd(30)}${`${options.small} events`.padStart(16)}${`${options.large} events`.padStart(16)}${'ratio'.padStart(9)}`);
  const line = (label: string, small: number, large: number, digits = 0) =>
    log(`  ${label.padEnd(28)}${fmt(small, digits).padStart(16)}${fmt(large, digits).padStart(16)}${`${(large / small).toFixed(2)}x`.padStart(9)}`);
  line('data rows', med('small', (r) => r.dataRows), med('large', (r) => r.dataRows));
  line('rows/s', med('small', (r) => r.rowsPerSecond), med('large', (r) => r.rowsPerSecond));
  line('peak RSS (MB)', peak('small'), peak('large'));
  line('peak RSS above idle (MB)', above('small'), above('large'));
  line('peak heap above idle (MB)', heapAbove('small'), heapAbove('large'));

  // The cap, on the real run: 300,000 data rows and the note when the team has more events; all of them otherwise.
  const capOk = runs.every((r) => (r.events > ROW_LIMIT ? r.dataRows === ROW_LIMIT && r.note : r.dataRows === r.events && !r.note));
  log();
  log(`  check: ${options.large > ROW_LIMIT ? `the large export stops at ${ROW_LIMIT} data rows and ends with the note row` : 'every event exported'}, the small one has all ${options.small}: ${capOk ? 'ok' : 'FAILED'}`);
  const memoryRatio = peak('large') / peak('small');
  log(`  target: peak memory of the large export within 1.2x of the small one's: ${memoryRatio <= 1.2 ? 'met' : 'NOT met'} (${memoryRatio.toFixed(2)}x peak RSS; ${(above('large') / above('small')).toFixed(2)}x above idle)`);
  log(`  load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const file = await writeResults('exports-csv', { options, runs });
  log(`  raw figures: ${path.relative(ROOT, file)}`);
  if (!capOk) throw new Error('the row cap check failed');
}

await runBench('bench:exports-csv', main);
