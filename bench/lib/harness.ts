/**
 * What the benchmarks under bench/ share: clean-up that runs however a run ends (failure, Ctrl-C), a scratch
 * Postgres database and temporary directories, free ports, child processes (Burrow itself, hand-written baselines,
 * other scripts) and their memory, requests with a key, option parsing, and where raw figures go.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where raw figures go (not committed). */
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

export const log = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** A non-negative integer option: the flag, else the environment variable, else the fallback. */
export function intOption(flag: string | undefined, env: string, fallback: number, min: number): number {
  const raw = flag ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${env} / --${env.replace('BENCH_', '').toLowerCase()} must be an integer >= ${min}, got ${raw}`);
  return n;
}

export type Target = 'burrow' | 'baseline';

/** --target both|burrow|baseline: the sides to run, the baseline first. */
export function targetOption(flag: string | undefined): Target[] {
  const t = flag ?? 'both';
  if (t === 'both') return ['baseline', 'burrow'];
  if (t === 'burrow' || t === 'baseline') return [t];
  throw new Error(`--target must be both, burrow or baseline, got ${t}`);
}

/** A timestamp usable in a file name. */
export const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

// ---------------------------------------------------------------------------------------------------------------
// Clean-up that runs however the run ends.

const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | null = null;

/** Registers a clean-up step; steps run last-registered first. */
export function onCleanUp(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        process.stderr.write(`clean-up: ${(error as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

// `on`, not `once`: a second signal must not kill the script half-way through its clean-up. Under `npm run`, tsx's
// wrapper sends SIGINT again when this process does not acknowledge the first within 30 ms (a busy event loop), and
// tsx exits a process that has no listener left for it, leaving the server and the database behind. These must be
// the only handlers: another one that exits when its own steps are done would cut this clean-up short.
let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** Runs a benchmark's main function, then the clean-up, also when it fails (exit code 1). */
export async function runBench(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    process.exitCode = 1;
    // After Ctrl-C, requests to the stopping server fail: that is not worth reporting.
    if (!signalled) process.stderr.write(`${name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
  } finally {
    await cleanUp();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Database, directories and ports.

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(admin: string, name: string): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new directory in the system's temporary directory, its name starting with `prefix`; removed at clean-up. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  onCleanUp(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates burrow_bench_<random>, dropped at clean-up. */
export async function createDatabase(adminUrl: string): Promise<{ name: string; url: string }> {
  const name = `burrow_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `create database "${name}"`);
  onCleanUp(async () => {
    await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
    log(`dropped database ${name}`);
  });
  return { name, url: databaseUrl(adminUrl, name) };
}

/** A temporary DATA_DIR, then burrow_bench_<random>: both removed at clean-up. */
export async function scratchDatabase(adminUrl: string): Promise<{ name: string; url: string; dataDir: string }> {
  const dataDir = await tempDir('burrow-bench-');
  const { name, url } = await createDatabase(adminUrl);
  return { name, url, dataDir };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes.

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** The last lines the child wrote, shown when it fails. */
  tail: string[];
  exited: boolean;
  /** Settles when the child has exited, with its exit code (null when a signal ended it). */
  exit: Promise<number | null>;
}

/** A child started with a port: a server at `base`. */
export interface ServerChild extends Child {
  port: number;
  base: string;
}

export interface ChildOptions {
  /** When given, the child gets PORT=<port> and HOST=127.0.0.1: a server at http://127.0.0.1:<port>. */
  port?: number;
  /** Node flags (--cpu-prof, ...), placed as nodeArgs places them. */
  nodeFlags?: string[];
  /**
   * Called with every line the child writes (stdout and stderr), except blank lines and lines that show a secret.
   * Without it, the warnings and errors of Burrow's JSON log are printed.
   */
  onLine?: (line: string) => void;
}

const SECRET_LINE = /personal API key:|password:|"personal_api_key"/;

/** What `npm start` runs: the compiled server, from buildServer(). */
export const SERVER_SCRIPT = 'dist/server.js';
let serverBuilt = false;

/** `npm run build` (src/ compiled to dist/), as `npm start` does before it starts the server; once per run. */
export function buildServer(): void {
  if (serverBuilt) return;
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`npm run build failed (exit ${built.status})`);
  serverBuilt = true;
}

/**
 * Node's arguments for a script: the compiled server as is; a TypeScript script (a baseline) with
 * `node --import tsx <script>`, which is what `tsx <script>` runs minus tsx's wrapper process. Either way signals
 * reach the script's process itself (tsx's wrapper relays SIGTERM and SIGKILLs a child that is slow to acknowledge
 * it, which loses a CPU profile), node flags such as --cpu-prof apply to it, and its memory is the child's own.
 */
export function nodeArgs(script: string, nodeFlags: string[] = []): string[] {
  return script.endsWith('.ts') ? ['--import', 'tsx', ...nodeFlags, script] : [...nodeFlags, script];
}

/** Starts the script (see nodeArgs) from the repository root; the clean-up stops it (stopChild). */
export function startChild(name: string, script: string, env: Record<string, string>, options: ChildOptions & { port: number }): ServerChild;
export function startChild(name: string, script: string, env: Record<string, string>, options?: ChildOptions): Child;
export function startChild(name: string, script: string, env: Record<string, string>, options: ChildOptions = {}): Child {
  const { port, nodeFlags = [] } = options;
  const child = spawn(process.execPath, nodeArgs(script, nodeFlags), {
    cwd: ROOT,
    env: { ...process.env, ...env, ...(port === undefined ? {} : { PORT: String(port), HOST: '127.0.0.1' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Not in the terminal's process group: Ctrl-C reaches this script, whose clean-up stops the children in order.
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  const record: Child | ServerChild = {
    name,
    process: child,
    pid: child.pid,
    tail: [],
    exited: false,
    exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    ...(port === undefined ? {} : { port, base: `http://127.0.0.1:${port}` }),
  };
  child.on('exit', () => {
    record.exited = true;
  });
  const onLine =
    options.onLine ??
    ((line: string) => {
      // Burrow logs JSON at LOG_LEVEL=warn: anything it writes during a run is worth seeing.
      if (/"level":(4|5|6)0/.test(line)) log(`  [${name}] ${line.slice(0, 400)}`);
    });
  const handle = (line: string) => {
    if (line.trim() === '' || SECRET_LINE.test(line)) return;
    record.tail.push(line);
    if (record.tail.length > 40) record.tail.shift();
    onLine(line);
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      lines.forEach(handle);
    });
  }
  onCleanUp(() => stopChild(record));
  return record;
}

export async function stopChild(child: Child): Promise<void> {
  if (child.exited) return;
  // On SIGTERM Burrow shuts down gracefully (it closes its browser pool and writes its CPU profile) and the baselines
  // close their servers or browsers; SIGKILL if one hangs.
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 20_000);
  await child.exit;
  clearTimeout(timer);
}

export async function waitForHealth(child: ServerChild, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited) throw new Error(`${child.name} exited during start-up:\n${child.tail.join('\n')}`);
    try {
      const response = await fetch(`${child.base}/_health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} did not answer /_health within ${timeoutMs / 1000} s:\n${child.tail.join('\n')}`);
}

/**
 * Waits until the server answers /_health within `quickMs`. Burrow's health check queries the database through the
 * server's pool, so it answers late while the pool still works through requests that autocannon abandoned (a slow
 * endpoint leaves a queue behind it): this keeps that backlog out of the next run. Answers how long it waited.
 */
export async function waitUntilIdle(child: ServerChild, quickMs = 250, timeoutMs = 180_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const sent = Date.now();
    try {
      const response = await fetch(`${child.base}/_health`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      if (response.ok && Date.now() - sent <= quickMs) return Date.now() - started;
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} was still busy ${timeoutMs / 1000} s after a run`);
}

/**
 * CPU time (user + system, ms) the server's process has used so far, from /proc (Linux only; null elsewhere). The
 * difference over a run divided by its requests is the server's CPU per request, which a noisy machine disturbs far
 * less than requests/s.
 */
export async function processCpuMs(child: Child | { pid: number }): Promise<number | null> {
  const stat = await fs.readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // Fields after the command name (which may hold spaces) : utime and stime are fields 14 and 15, in clock ticks (100/s).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The server's resident memory now and at its peak, from /proc (Linux only; null elsewhere). */
export async function serverMemory(child: Child): Promise<{ rssMb: number; peakRssMb: number } | null> {
  const status = await fs.readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => null);
  if (status === null) return null;
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { rssMb: mb('VmRSS'), peakRssMb: mb('VmHWM') };
}

/**
 * The real server, built and run as `npm start` does, on a fresh database: it migrates the database and bootstraps
 * the first account, whose personal API key (scopes *) this returns. The per-key throttle is off (it would answer
 * 429 within the first second); so are the workers, with LOG_LEVEL=warn, unless `env` says otherwise (it adds to
 * and overrides these variables). Anything else Burrow reads passes through from the environment
 * (AUTH_CACHE_SECONDS, for instance).
 */
export async function startBurrow(options: {
  /** DATABASE_URL: '' for PGlite in DATA_DIR. */
  url: string;
  dataDir: string;
  /** DATABASE_POOL_SIZE; the server's default when left out. */
  pool?: number;
  cpuProfDir?: string | null;
  env?: Record<string, string>;
  /** The server's lines (see startChild). */
  onLine?: (line: string) => void;
}): Promise<{ child: ServerChild; key: string }> {
  buildServer();
  const child = startChild(
    'burrow',
    SERVER_SCRIPT,
    {
      DATABASE_URL: options.url,
      ...(options.pool === undefined ? {} : { DATABASE_POOL_SIZE: String(options.pool) }),
      DATA_DIR: options.dataDir,
      BOOTSTRAP: 'true',
      WORKERS: 'off',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      ...options.env,
    },
    {
      port: await freePort(),
      nodeFlags: options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
      ...(options.onLine ? { onLine: options.onLine } : {}),
    },
  );
  await waitForHealth(child);
  const credentials = JSON.parse(await fs.readFile(path.join(options.dataDir, 'initial-credentials.json'), 'utf8')) as { personal_api_key: string };
  return { child, key: credentials.personal_api_key };
}

/** A request with a personal API key (and a JSON body, if given): the status, the text, and the JSON (null if not JSON). */
export async function apiRequest(
  server: ServerChild,
  key: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; text: string; json: unknown }> {
  const response = await fetch(`${server.base}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, text, json };
}

/** Writes the raw figures to RESULTS_DIR/<prefix>-<at>.json (`at`: now, unless given) and answers the file's path. */
export async function writeResults(prefix: string, data: unknown, at = stamp()): Promise<string> {
  await fs.mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${prefix}-${at}.json`);
  await fs.writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** Stops Burrow so that it writes its CPU profile, and lists the profile files. */
export async function collectProfiles(burrow: Child, profileDir: string): Promise<void> {
  await stopChild(burrow);
  const profiles = await fs.readdir(profileDir);
  log(`  CPU profile of the server (thread 0; thread 1 is tsx's loader), for Chrome DevTools or speedscope:`);
  for (const profile of profiles) log(`    ${path.relative(ROOT, path.join(profileDir, profile))}`);
}
