/**
 * npm run bench:capture -- [--connections 10,50] [--duration 10] [--rounds 2] [--warmup 3] [--pool 10] [--events-only] [--cpu-prof]
 *
 * posthog-js traffic (stream.ts: gzip /e/ batches of 10 events and /s/ recording batches of 40 rrweb events, three to
 * one) against the real Burrow server on Postgres and, in the same run and database, against baseline.ts (bare
 * Fastify + node-postgres that only decompresses and inserts). Every request carries new uuids. Throughput is counted
 * in the database: analytics events stored per second on both sides, and Burrow's recording MB (uncompressed JSONL)
 * per second.
 * Rounds alternate the sides (A B B A); quote the ratios. Environment: BENCH_* for each flag, BENCH_ADMIN_URL.
 * --events-only sends the stream's /e/ bodies alone (the events path without the recordings beside it); --cpu-prof
 * writes Burrow's CPU profile under bench/results/.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  apiRequest,
  collectProfiles,
  DEFAULT_ADMIN_URL,
  freePort,
  intOption,
  log,
  processCpuMs,
  ROOT,
  runBench,
  scratchDatabase,
  serverMemory,
  type ServerChild,
  startBurrow,
  stamp,
  startChild,
  waitForHealth,
  writeResults,
} from '../lib/harness.js';
import { alternate, fmt, median, ratio } from '../lib/load.js';
import { streamBody } from './stream.js';


const { values: flags } = parseArgs({
  options: {
    connections: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    pool: { type: 'string' },
    'events-only': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write('npm run bench:capture -- [--connections 10,50] [--duration s] [--rounds n] [--warmup s] [--pool n] [--events-only] [--cpu-prof]\n');
  process.exit(0);
}
const options = {
  connections: (flags.connections ?? process.env.BENCH_CONNECTIONS ?? '10,50').split(',').map((n) => Number(n.trim())),
  duration: intOption(flags.duration, 'BENCH_DURATION', 10, 1),
  rounds: intOption(flags.rounds, 'BENCH_ROUNDS', 2, 1),
  warmup: intOption(flags.warmup, 'BENCH_WARMUP', 3, 0),
  pool: intOption(flags.pool, 'BENCH_POOL', 10, 1),
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
  eventsOnly: flags['events-only'] ?? false,
  cpuProf: flags['cpu-prof'] ?? false,
};

/** The n-th body sent: the stream's n-th, or with --events-only its n-th /e/ body (every fourth is /s/). */
const bodyAt = (token: string, n: number) => streamBody(token, options.eventsOnly ? n + Math.floor(n / 3) : n);

type Side = 'burrow' | 'baseline';

/** Rows stored so far on a side: analytics events, and (Burrow) recording bytes as uncompressed JSONL. */
async function stored(db: pg.Pool, side: Side): Promise<{ events: number; bytes: number }> {
  const sql =
    side === 'burrow'
      ? 'select (select count(*) from events) as events, (select coalesce(sum(size), 0) from recording_blocks) as bytes'
      : 'select (select count(*) from baseline_events) as events, 0 as bytes';
  const { rows } = await db.query<{ events: string; bytes: string }>(sql);
  return { events: Number(rows[0]!.events), bytes: Number(rows[0]!.bytes) };
}

/** Sends the stream's bodies from `from` on; answers the results and how many bodies were used. */
async function drive(child: ServerChild, token: string, from: number, connections: number, duration: number) {
  let next = from;
  const result = await autocannon({
    url: child.base,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const body = bodyAt(token, next++);
          return { ...request, method: 'POST', path: body.path, headers: { 'content-type': 'text/plain' }, body: body.body };
        },
      },
    ],
  });
  await new Promise((r) => setTimeout(r, 1000));
  return { result, used: next - from };
}

/**
 * CPU time (ms) a side uses over a round: its server process and the Postgres backends it is connected through (each
 * side's pool names itself with PGAPPNAME). Per event, it is the side's cost with the machine's noise mostly left out;
 * Postgres's shared processes (WAL writer, checkpointer) are left out on both sides. Pools close idle connections
 * and open new ones, so the backends are read every second and each one counts from its first reading (0 for one
 * that started during the round) to its last: a backend that exits loses at most its last second.
 */
function cpuMeter(db: pg.Pool, side: Side, child: ServerChild) {
  const backends = new Map<number, { first: number; last: number }>();
  const read = async (started: boolean) => {
    const { rows } = await db.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [`bench-${side}`]);
    for (const { pid } of rows) {
      const ms = await processCpuMs({ pid });
      if (ms === null) continue;
      const seen = backends.get(pid);
      if (seen) seen.last = ms;
      else backends.set(pid, { first: started ? 0 : ms, last: ms });
    }
  };
  return {
    async start() {
      const serverBefore = (await processCpuMs(child)) ?? 0;
      await read(false);
      const timer = setInterval(() => void read(true), 1000);
      return async () => {
        clearInterval(timer);
        await read(true);
        let database = 0;
        for (const { first, last } of backends.values()) database += last - first;
        return { server: ((await processCpuMs(child)) ?? 0) - serverBefore, database };
      };
    },
  };
}

async function main(): Promise<void> {
  const { url, dataDir } = await scratchDatabase(options.adminUrl);
  log(`bench:capture  posthog-js-like traffic; connections ${options.connections.join(', ')}; ${options.duration} s x ${options.rounds} round(s)`);
  log(`  node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const profileDir = path.join(ROOT, 'bench', 'results', `cpu-prof-${stamp()}`);
  if (options.cpuProf) await fs.mkdir(profileDir, { recursive: true });
  const { child: burrow, key } = await startBurrow({ url, dataDir, pool: options.pool, cpuProfDir: options.cpuProf ? profileDir : null, env: { PGAPPNAME: 'bench-burrow' } });
  const project = (await apiRequest(burrow, key, 'GET', '/api/projects/@current/')).json as { api_token: string; id: number };
  await apiRequest(burrow, key, 'PATCH', `/api/projects/${project.id}/`, { session_recording_opt_in: true, heatmaps_opt_in: true });
  const baseline = startChild('baseline', 'bench/capture/baseline.ts', { DATABASE_URL: url, DATABASE_POOL_SIZE: String(options.pool), PGAPPNAME: 'bench-baseline' }, { port: await freePort() });
  await waitForHealth(baseline);
  const children: Record<Side, ServerChild> = { burrow, baseline };
  const db = new pg.Pool({ connectionString: url, max: 2 });

  const token = project.api_token;
  log(
    options.eventsOnly
      ? '  stream: /e/ bodies only (10 events), made as they are sent (the same for both sides)'
      : '  stream: 3 in 4 bodies /e/ (10 events), the rest /s/ (40 rrweb events), made as they are sent (the same for both sides)',
  );
  for (const side of ['burrow', 'baseline'] as const) {
    const probe = bodyAt(token, 0);
    const response = await fetch(`${children[side].base}${probe.path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: probe.body });
    if (response.status !== 200) throw new Error(`${side} answered ${response.status}: ${await response.text()}`);
  }

  let cursor = 1;
  const rows: Record<string, unknown>[] = [];
  for (const connections of options.connections) {
    log();
    log(`${connections} connections`);
    if (options.warmup > 0) for (const side of ['baseline', 'burrow'] as const) cursor += (await drive(children[side], token, cursor, connections, options.warmup)).used;
    const perSide: Record<Side, { eventsPerSecond: number[]; mbPerSecond: number[]; cpuPerThousand: number[]; p50: number[]; p99: number[]; errors: number }> = {
      burrow: { eventsPerSecond: [], mbPerSecond: [], cpuPerThousand: [], p50: [], p99: [], errors: 0 },
      baseline: { eventsPerSecond: [], mbPerSecond: [], cpuPerThousand: [], p50: [], p99: [], errors: 0 },
    };
    for (let round = 1; round <= options.rounds; round++) {
      for (const side of alternate(['baseline', 'burrow'] as const, round)) {
        const before = await stored(db, side);
        const stopMeter = await cpuMeter(db, side, children[side]).start();
        const { result, used } = await drive(children[side], token, cursor, connections, options.duration);
        cursor += used;
        const [after, cpu] = [await stored(db, side), await stopMeter()];
        // Analytics events stored per second; both sides also take the stream's /s/ batches meanwhile.
        const events = after.events - before.events;
        const eventsPerSecond = events / options.duration;
        const mbPerSecond = (after.bytes - before.bytes) / 1e6 / options.duration;
        const perThousand = (ms: number) => (events > 0 ? (ms / events) * 1000 : 0);
        const serverCpu = perThousand(cpu.server);
        const cpuPerThousand = serverCpu + perThousand(cpu.database);
        perSide[side].cpuPerThousand.push(cpuPerThousand);
        perSide[side].eventsPerSecond.push(eventsPerSecond);
        perSide[side].mbPerSecond.push(mbPerSecond);
        perSide[side].p50.push(result.latency.p50);
        perSide[side].p99.push(result.latency.p99);
        perSide[side].errors += result.errors + result.non2xx;
        log(`  round ${round} ${side.padEnd(8)} ${fmt(eventsPerSecond).padStart(6)} events/s  ${fmt(result['2xx'] / options.duration).padStart(5)} req/s  p50 ${fmt(result.latency.p50)} ms  p99 ${fmt(result.latency.p99)} ms  CPU ${fmt(cpuPerThousand)} ms/1000 ev (server ${fmt(serverCpu)})  non-2xx/errors ${result.non2xx}/${result.errors}${side === 'burrow' ? `  recordings ${fmt(mbPerSecond, 2)} MB/s` : ''}`);
      }
    }
    const [b, s] = [perSide.burrow, perSide.baseline];
    const row = {
      connections,
      burrowEventsPerSecond: median(b.eventsPerSecond),
      baselineEventsPerSecond: median(s.eventsPerSecond),
      burrowRecordingMbPerSecond: median(b.mbPerSecond),
      burrowCpuMsPerThousandEvents: median(b.cpuPerThousand),
      baselineCpuMsPerThousandEvents: median(s.cpuPerThousand),
      burrow: { p50: median(b.p50), p99: median(b.p99), errors: b.errors },
      baseline: { p50: median(s.p50), p99: median(s.p99), errors: s.errors },
    };
    rows.push(row);
    log(`  medians: Burrow ${fmt(row.burrowEventsPerSecond)} events/s, baseline ${fmt(row.baselineEventsPerSecond)}: ${ratio(row.burrowEventsPerSecond, row.baselineEventsPerSecond)}; Burrow p50 ${fmt(row.burrow.p50)} / p99 ${fmt(row.burrow.p99)} ms, baseline ${fmt(row.baseline.p50)} / ${fmt(row.baseline.p99)} ms`);
    log(`  CPU per 1000 events (server and its Postgres backends): Burrow ${fmt(row.burrowCpuMsPerThousandEvents)} ms, baseline ${fmt(row.baselineCpuMsPerThousandEvents)} ms: ${ratio(row.baselineCpuMsPerThousandEvents, row.burrowCpuMsPerThousandEvents)} the baseline's events per CPU second`);
  }
  const memory = { burrow: await serverMemory(burrow), baseline: await serverMemory(baseline) };
  log();
  log(`peak RSS: Burrow ${fmt(memory.burrow?.peakRssMb ?? null)} MB, baseline ${fmt(memory.baseline?.peakRssMb ?? null)} MB`);
  log(`results: ${await writeResults('capture', { options, rows, memory })}`);
  await db.end();
  if (options.cpuProf) await collectProfiles(burrow, profileDir);
}

await runBench('bench:capture', main);
