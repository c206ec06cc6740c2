import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import * as schema from './schema/index.js';

/** The one database type every repository is written against; a transaction has the same type. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * Rows of a raw query. Both drivers answer {rows}, but column values are the driver's own (a bigint is a string on
 * node-postgres and a number on PGlite), so callers convert what they read.
 */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export type DbTarget = { kind: 'postgres'; url: string; poolSize?: number } | { kind: 'pglite'; dataDir?: string };

export interface Database {
  readonly db: Db;
  readonly kind: DbTarget['kind'];
  /** Applies pending migrations; on Postgres under an advisory lock so concurrent starts are safe. */
  migrate(): Promise<void>;
  /** Runs fn while holding the start-up lock (a no-op lock on PGlite, which is one process). */
  withStartupLock<T>(fn: () => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /**
   * Calls onNotify for every NOTIFY on channel, including those sent by other processes. Resolves once
   * listening; the returned function stops. close() also stops every listener still open.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Arbitrary constant shared by every Burrow process: "burrow" in ASCII. */
const STARTUP_LOCK_ID = 0x627572726f77;

const LISTEN_RECONNECT_DELAY_MS = 1000;

export async function openDatabase(target: DbTarget): Promise<Database> {
  return target.kind === 'postgres' ? openPostgres(target.url, target.poolSize ?? 10) : openPglite(target.dataDir);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options: '-c TimeZone=UTC' });
  // A connection that dies while idle (a restart, an administrator's terminate) leaves the pool; the next query
  // opens a new one. Without a listener the error would end the process.
  pool.on('error', () => undefined);
  const db = drizzlePg(pool, { schema });
  /** Holds the lock on one connection and hands that connection to fn. */
  const withLockedClient = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('select pg_advisory_lock($1)', [STARTUP_LOCK_ID]);
      try {
        return await fn(client);
      } finally {
        await client.query('select pg_advisory_unlock($1)', [STARTUP_LOCK_ID]);
      }
    } finally {
      client.release();
    }
  };
  const withStartupLock = <T>(fn: () => Promise<T>): Promise<T> => withLockedClient(() => fn());
  const listeners = new Set<() => Promise<void>>();
  return {
    db,
    kind: 'postgres',
    migrate: () => withLockedClient((client) => migratePg(drizzlePg(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER })),
    withStartupLock,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: async (channel, onNotify) => {
      const stop = await listenPostgres(url, channel, onNotify);
      const unlisten = async () => {
        listeners.delete(unlisten);
        await stop();
      };
      listeners.add(unlisten);
      return unlisten;
    },
    close: async () => {
      await Promise.all([...listeners].map((unlisten) => unlisten()));
      await pool.end();
    },
  };
}

/**
 * LISTEN needs a connection of its own for as long as it listens, so it gets a dedicated client outside the
 * pool. When that connection drops, it reconnects after a pause; notifications sent meanwhile are lost, which
 * callers must tolerate (the job worker polls as well).
 */
async function listenPostgres(url: string, channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    client = next;
    const onBroken = () => reconnectLater(next);
    next.on('error', onBroken);
    next.on('end', onBroken);
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    try {
      await next.connect();
      await next.query(`listen ${next.escapeIdentifier(channel)}`);
    } catch (error) {
      onBroken();
      throw error;
    }
  };
  const reconnectLater = (broken: pg.Client): void => {
    if (stopped || broken !== client) return;
    client = undefined;
    broken.end().catch(() => undefined);
    reconnectTimer = setTimeout(() => {
      if (!stopped) connect().catch(() => undefined);
    }, LISTEN_RECONNECT_DELAY_MS);
  };
  const stop = async (): Promise<void> => {
    stopped = true;
    clearTimeout(reconnectTimer);
    await client?.end().catch(() => undefined);
  };

  try {
    await connect();
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}

/**
 * PGlite is one process's database: a second process opening the same directory would corrupt it. A lock file
 * names its owner (pid and start time, so a reused pid after a restart is not mistaken for it) and is taken over
 * when that owner is gone.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(dataDir, 'burrow.lock');
  const me = await processIdentity(process.pid);
  for (;;) {
    try {
      await fs.writeFile(lockFile, me, { flag: 'wx' });
      return () => fs.rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = (await fs.readFile(lockFile, 'utf8').catch(() => '')).trim();
      const pid = Number(owner.split(' ')[0]);
      if (pid && owner !== me && (await processIdentity(pid)) === owner) {
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${pid}. Stop it first, or use Postgres (DATABASE_URL) to share a database between processes.`,
        );
      }
      await fs.rm(lockFile, { force: true });
    }
  }
}

/** "pid start-time" from /proc on Linux; elsewhere the pid alone, or "" when no such process runs. */
async function processIdentity(pid: number): Promise<string> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return '';
  }
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  const startTime = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return startTime ? `${pid} ${startTime}` : String(pid);
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  let unlock = async () => undefined as void;
  if (dataDir) {
    await fs.mkdir(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  // Extensions the migrations create must be loaded by PGlite itself (pass dataDir in the options: the two-argument
  // form ignores the options when dataDir is undefined).
  const client = new PGlite({ dataDir, extensions: { pg_trgm } });
  await client.exec(`set time zone 'UTC'`);
  const db = drizzlePglite(client, { schema });
  return {
    db,
    kind: 'pglite',
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    withStartupLock: (fn) => fn(),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: (channel, onNotify) => client.listen(channel, onNotify).then((unlisten) => () => unlisten()),
    close: async () => {
      await client.close();
      await unlock();
    },
  };
}
