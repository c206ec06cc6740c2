/**
 * npm run bench:subscriptions -- [--subscriptions 10000] [--workers 1,2] [--concurrency n] [--limit 7] [--cpu-prof]
 *
 * 10,000 email subscriptions due at the same instant, delivered to a local SMTP server by real worker processes
 * (`dist/worker.js`, what `npm run worker` runs) on Postgres: first by one worker process, then, on a fresh database,
 * by two. For each: deliveries per minute, the lag from the due time to the SMTP server's receipt of each message
 * (p50, p99, max), the total time and how many subscriptions got more than one message (must be none). Target
 * (issue 16): every subscription delivered within 5 minutes with 2 workers, none twice.
 *
 * Environment (flags win): BENCH_SUBSCRIPTIONS, BENCH_WORKERS, BENCH_CONCURRENCY (WORKER_CONCURRENCY of each
 * worker; Burrow's default when unset), BENCH_LIMIT (minutes from the due time a phase may take before it is given
 * up; 7), BENCH_ADMIN_URL (a Postgres URL allowed to create and drop databases; default
 * postgres://postgres@127.0.0.1:5432/postgres).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  type Child,
  DEFAULT_ADMIN_URL,
  intOption,
  log,
  processCpuMs,
  ROOT,
  runBench,
  scratchDatabase,
  SERVER_SCRIPT,
  startBurrow,
  stamp,
  startChild,
  stopChild,
  writeResults,
} from '../lib/harness.js';
import { fmt, ratio } from '../lib/load.js';
import { seedSubscriptions } from './seed.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';

const { values: flags } = parseArgs({
  options: {
    subscriptions: { type: 'string' },
    workers: { type: 'string' },
    concurrency: { type: 'string' },
    limit: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write('npm run bench:subscriptions -- [--subscriptions 10000] [--workers 1,2] [--concurrency n] [--limit minutes] [--cpu-prof]\n');
  process.exit(0);
}

function workersOption(raw: string | undefined): number[] {
  const list = (raw ?? process.env.BENCH_WORKERS ?? '1,2').split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--workers must be a comma-separated list of integers >= 1, got ${raw}`);
  return list;
}

const options = {
  subscriptions: intOption(flags.subscriptions, 'BENCH_SUBSCRIPTIONS', 10_000, 1),
  workers: workersOption(flags.workers),
  /** 0: Burrow's default WORKER_CONCURRENCY. */
  concurrency: intOption(flags.concurrency, 'BENCH_CONCURRENCY', 0, 0),
  limitMinutes: intOption(flags.limit, 'BENCH_LIMIT', 7, 1),
  adminUrl: process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
  /** Each worker's CPU profile under bench/results/ (written when it stops). */
  cpuProf: flags['cpu-prof'],
};
const PROFILE_DIR = path.join(ROOT, 'bench', 'results', `subscriptions-cpu-prof-${stamp()}`);

const WORKER_SCRIPT = SERVER_SCRIPT.replace('server.js', 'worker.js');
const TARGET_SECONDS = 5 * 60;
const TARGET_WORKERS = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** The nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);

interface PhaseResult {
  workers: number;
  subscriptions: number;
  database: string;
  due: string;
  complete: boolean;
  /** Seconds from spawning the workers to each one's "ready" line. */
  readySeconds: number[];
  delivered: number;
  /** Messages beyond the first one to the same subscription. */
  duplicates: number;
  /** Subscriptions that got more than one message. */
  duplicatedSubscriptions: number;
  /** Messages to an address that is not a bench subscription's. */
  strays: number;
  /** Seconds from the due time. */
  firstSeconds: number;
  lastSeconds: number;
  /** Every subscription's first message: seconds from the due time. */
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
  /** Delivered subscriptions per minute from the due time to the last message. */
  perMinute: number;
  /** Messages per minute from the first message to the last. */
  sendingPerMinute: number;
  smtpConnections: number;
  /** CPU seconds (user + system) of each worker process over the phase. */
  workerCpuSeconds: number[];
  /** CPU seconds of the workers' Postgres backends (sampled every 2 s: a lower bound). */
  postgresCpuSeconds: number;
  /** CPU seconds of this process (the SMTP server, the polling). */
  benchCpuSeconds: number;
  db: {
    deliveries: Record<string, number>;
    deliverJobs: Record<string, number>;
    retriedJobs: number;
    /** Subscriptions whose next_delivery_date is still the due slot. */
    notMovedOn: number;
  };
  /** [seconds from due, delivered so far], every 5 s. */
  progress: [number, number][];
}

async function setUp(): Promise<{ url: string; dataDir: string; name: string; teamId: number; userId: number }> {
  const { name, url, dataDir } = await scratchDatabase(options.adminUrl);
  // The real server migrates the database and makes the first account; it is not needed after that.
  const { child } = await startBurrow({ url, dataDir });
  await stopChild(child);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ team_id: number; user_id: number }>('select t.id as team_id, u.id as user_id from teams t cross join users u order by t.id, u.id limit 1');
    return { url, dataDir, name, teamId: rows[0]!.team_id, userId: rows[0]!.user_id };
  } finally {
    await client.end();
  }
}

function startWorker(workers: number, n: number, url: string, dataDir: string, sink: SmtpSink, onReady: () => void): Child {
  return startChild(
    `worker-${n}`,
    WORKER_SCRIPT,
    {
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      BOOTSTRAP: 'false',
      // Burrow's default level: what an operator's worker writes (a few lines per delivery).
      LOG_LEVEL: 'info',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(sink.port),
      EMAIL_DEFAULT_FROM: 'reports@bench.test',
      ...(options.concurrency > 0 && { WORKER_CONCURRENCY: String(options.concurrency) }),
    },
    {
      nodeFlags: options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${workers}-workers-${n}.cpuprofile`] : [],
      onLine: (line) => {
        if (line.includes('Burrow worker is ready')) onReady();
        else if (/"level":(4|5|6)0/.test(line)) log(`  [worker-${n}] ${line.slice(0, 400)}`);
      },
    },
  );
}

async function dbFigures(client: pg.Client, due: Date): Promise<PhaseResult['db']> {
  const count = async (sql: string, params: unknown[] = []) => {
    const { rows } = await client.query<{ key: string; n: string }>(sql, params);
    return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
  };
  const deliveries = await count(`select trigger_type || ':' || status as key, count(*) as n from subscription_deliveries group by 1 order by 1`);
  const deliverJobs = await count(`select status as key, count(*) as n from jobs where kind = 'subscription.deliver' group by 1 order by 1`);
  const retried = await client.query<{ n: string }>(`select count(*) as n from jobs where kind = 'subscription.deliver' and attempts > 1`);
  const stuck = await client.query<{ n: string }>(`select count(*) as n from subscriptions where next_delivery_date = $1::timestamptz`, [due.toISOString()]);
  return { deliveries, deliverJobs, retriedJobs: Number(retried.rows[0]!.n), notMovedOn: Number(stuck.rows[0]!.n) };
}

async function phase(workers: number): Promise<PhaseResult> {
  log(`${workers} worker process${workers === 1 ? '' : 'es'}`);
  const { url, dataDir, name, teamId, userId } = await setUp();
  const sink = await startSmtpSink();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const children: Child[] = [];
  try {
    // All due at the same instant: now, to the second. The workers start once they are in the table.
    const due = new Date(Math.floor(Date.now() / 1000) * 1000);
    await seedSubscriptions(url, teamId, userId, options.subscriptions, due);
    const { rows: ids } = await client.query<{ id: number }>('select id from subscriptions');
    const expected = new Set(ids.map((r) => r.id));
    log(`  database ${name}; ${expected.size} subscriptions due at ${due.toISOString()}, seeded in ${((Date.now() - due.getTime()) / 1000).toFixed(1)} s; SMTP server on 127.0.0.1:${sink.port}`);

    const spawnedAt = Date.now();
    const readySeconds: number[] = [];
    for (let n = 1; n <= workers; n++) {
      children.push(startWorker(workers, n, url, dataDir, sink, () => readySeconds.push((Date.now() - spawnedAt) / 1000)));
    }
    const cpuAtStart = await Promise.all(children.map((c) => processCpuMs(c)));

    // The CPU the workers' Postgres backends have used (every one started with the workers), sampled every 2 s: a
    // backend that exits between samples takes its last seconds with it.
    const backendCpu = new Map<number, number>();
    const sampleBackends = async () => {
      const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      for (const { pid } of rows) {
        const ms = await processCpuMs({ pid });
        if (ms !== null) backendCpu.set(pid, ms);
      }
    };
    const benchCpuAtStart = process.cpuUsage();
    await sampleBackends();
    let lastSample = Date.now();

    const firstOf = new Map<number, number>();
    let seen = 0;
    const catchUp = () => {
      for (; seen < sink.received.length; seen++) {
        const { at, subscriptionId } = sink.received[seen]!;
        if (subscriptionId !== null && expected.has(subscriptionId) && !firstOf.has(subscriptionId)) firstOf.set(subscriptionId, at);
      }
    };
    const deadline = due.getTime() + options.limitMinutes * 60_000;
    const progress: [number, number][] = [];
    let complete = false;
    let lastPrint = Date.now();
    for (;;) {
      await sleep(250);
      catchUp();
      const now = Date.now();
      if (progress.length === 0 || now - due.getTime() >= progress.length * 5000) progress.push([(now - due.getTime()) / 1000, firstOf.size]);
      if (now - lastSample >= 2000) {
        lastSample = now;
        await sampleBackends();
      }
      if (now - lastPrint >= 15_000) {
        lastPrint = now;
        log(`  ${fmt((now - due.getTime()) / 1000).padStart(4)} s  ${String(firstOf.size).padStart(6)} delivered  (load average ${loadAverage()})`);
      }
      if (children.every((c) => c.exited)) throw new Error(`the workers exited:\n${children.map((c) => c.tail.join('\n')).join('\n')}`);
      if (firstOf.size === expected.size) {
        // Every subscription has its message: wait for the last jobs to finish, so a late second message would count.
        const { rows } = await client.query<{ n: string }>(`select count(*) as n from jobs where kind = 'subscription.deliver' and status in ('queued', 'running')`);
        if (Number(rows[0]!.n) === 0) {
          complete = true;
          break;
        }
      }
      if (now > deadline) {
        log(`  given up after ${options.limitMinutes} minutes with ${firstOf.size} of ${expected.size} delivered`);
        break;
      }
    }
    await sleep(2000);
    catchUp();
    const cpuAtEnd = await Promise.all(children.map((c) => processCpuMs(c)));
    await sampleBackends();
    const benchCpu = process.cpuUsage(benchCpuAtStart);
    const db = await dbFigures(client, due);

    const perSubscription = new Map<number, number>();
    let strays = 0;
    for (const r of sink.received) {
      if (r.subscriptionId === null || !expected.has(r.subscriptionId)) strays += 1;
      else perSubscription.set(r.subscriptionId, (perSubscription.get(r.subscriptionId) ?? 0) + 1);
    }
    const counts = [...perSubscription.values()];
    const lags = [...firstOf.values()].map((at) => (at - due.getTime()) / 1000).sort((a, b) => a - b);
    const first = lags[0] ?? NaN;
    const last = lags.at(-1) ?? NaN;
    const result: PhaseResult = {
      workers,
      subscriptions: expected.size,
      database: name,
      due: due.toISOString(),
      complete,
      readySeconds,
      delivered: firstOf.size,
      duplicates: counts.reduce((n, c) => n + c - 1, 0),
      duplicatedSubscriptions: counts.filter((c) => c > 1).length,
      strays,
      firstSeconds: first,
      lastSeconds: last,
      p50Seconds: percentile(lags, 50),
      p99Seconds: percentile(lags, 99),
      maxSeconds: last,
      perMinute: (firstOf.size / last) * 60,
      sendingPerMinute: ((firstOf.size - 1) / (last - first)) * 60,
      smtpConnections: sink.connections(),
      workerCpuSeconds: cpuAtEnd.map((end, i) => (end === null || cpuAtStart[i] === null ? NaN : (end - cpuAtStart[i]!) / 1000)),
      postgresCpuSeconds: [...backendCpu.values()].reduce((sum, ms) => sum + ms, 0) / 1000,
      benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
      db,
      progress,
    };
    log(
      `  ${complete ? 'all' : 'NOT all:'} ${result.delivered} of ${result.subscriptions} delivered in ${fmt(last, 1)} s (first after ${fmt(first, 1)} s; workers ready after ${readySeconds.map((s) => fmt(s, 1)).join(', ')} s); ` +
        `${fmt(result.perMinute)}/min; lag p50 ${fmt(result.p50Seconds, 1)} s, p99 ${fmt(result.p99Seconds, 1)} s; duplicates ${result.duplicates}`,
    );
    log(`  deliveries ${JSON.stringify(db.deliveries)}; deliver jobs ${JSON.stringify(db.deliverJobs)}, ${db.retriedJobs} retried; not moved on ${db.notMovedOn}; SMTP connections ${result.smtpConnections}; CPU: workers ${result.workerCpuSeconds.map((s) => fmt(s, 1)).join(' + ')} s, Postgres ${fmt(result.postgresCpuSeconds, 1)} s, this process ${fmt(result.benchCpuSeconds, 1)} s`);
    log(`  load average ${loadAverage()}`);
    log();
    return result;
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await client.end();
    await sink.close();
  }
}

async function main(): Promise<void> {
  log(
    `bench:subscriptions  ${options.subscriptions} email subscriptions due at once, to a local SMTP server, by ${options.workers.join(' then ')} worker process(es) ` +
      `(WORKER_CONCURRENCY ${options.concurrency || "Burrow's default"} each), a fresh database each`,
  );
  log(`  node ${process.version}, ${os.cpus().length} CPU(s), load average ${loadAverage()}`);
  if (options.cpuProf) await fs.mkdir(PROFILE_DIR, { recursive: true });
  log();
  const results: PhaseResult[] = [];
  for (const workers of options.workers) results.push(await phase(workers));

  const label = (r: PhaseResult) => `${r.workers} worker${r.workers === 1 ? '' : 's'}`;
  const width = 14;
  log(`${''.padEnd(30)}${results.map((r) => label(r).padStart(width)).join('')}${results.length > 1 ? 'ratio'.padStart(9) : ''}`);
  const line = (name: string, pick: (r: PhaseResult) => number, digits = 0, withRatio = false) => {
    const values = results.map(pick);
    const last = values.at(-1)!;
    log(`  ${name.padEnd(28)}${values.map((v) => fmt(v, digits).padStart(width)).join('')}${withRatio && results.length > 1 ? ratio(last, values[0]!).padStart(9) : ''}`);
  };
  line('delivered', (r) => r.delivered);
  line('subscriptions mailed twice', (r) => r.duplicatedSubscriptions);
  line('deliveries/min', (r) => r.perMinute, 0, true);
  line('sending rate/min', (r) => r.sendingPerMinute, 0, true);
  line('total time (s)', (r) => r.lastSeconds, 1, true);
  line('lag p50 (s)', (r) => r.p50Seconds, 1, true);
  line('lag p99 (s)', (r) => r.p99Seconds, 1, true);
  line('lag max (s)', (r) => r.maxSeconds, 1, true);
  line('first message after (s)', (r) => r.firstSeconds, 1);
  line('worker CPU (s, all)', (r) => r.workerCpuSeconds.reduce((a, b) => a + b, 0), 1, true);
  line('worker CPU per delivery (ms)', (r) => (r.workerCpuSeconds.reduce((a, b) => a + b, 0) / r.delivered) * 1000, 1, true);
  line('Postgres CPU (s)', (r) => r.postgresCpuSeconds, 1, true);
  line('SMTP connections', (r) => r.smtpConnections);
  log();
  if (results.length > 1) {
    const [one, two] = [results[0]!, results.at(-1)!];
    log(`  ratio: ${label(two)} deliver ${ratio(two.perMinute, one.perMinute)} the deliveries per minute of ${label(one)} (total time ${ratio(two.lastSeconds, one.lastSeconds)}, p99 lag ${ratio(two.p99Seconds, one.p99Seconds)})`);
  }
  const target = results.find((r) => r.workers === TARGET_WORKERS);
  if (target) {
    const met = target.complete && target.lastSeconds <= TARGET_SECONDS && target.duplicates === 0 && target.strays === 0;
    log(
      `  target: all ${target.subscriptions} delivered within ${TARGET_SECONDS / 60} minutes with ${TARGET_WORKERS} workers, none twice: ${met ? 'met' : 'NOT met'} ` +
        `(${target.complete ? 'all' : `${target.delivered}`} in ${fmt(target.lastSeconds, 1)} s, ${target.duplicates} duplicate(s))`,
    );
  }
  const file = await writeResults('subscriptions', { options, results });
  log(`  raw figures: ${path.relative(ROOT, file)}`);
  if (options.cpuProf) log(`  workers' CPU profiles (for Chrome DevTools or speedscope): ${path.relative(ROOT, PROFILE_DIR)}/`);
  const twice = results.filter((r) => r.duplicates > 0 || r.strays > 0);
  if (twice.length > 0) throw new Error(`a subscription was mailed more than once (or a message went astray) with ${twice.map(label).join(', ')}`);
}

await runBench('bench:subscriptions', main);
