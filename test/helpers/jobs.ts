import { sql } from 'drizzle-orm';
import pino from 'pino';
import { z } from 'zod';
import type { Database } from '../../src/db/client.js';
import { databaseUrl, TEST_DATABASE_URL } from './database.js';

/** Job kinds the queue tests run; the app's own kinds live in each area's jobs.ts. */
export const testJobDefinitions = {
  'test.record': z.object({ n: z.number().int() }),
  'test.block': z.object({}),
};

export type LogLine = Record<string, unknown> & { msg: string };

/** A real pino logger whose JSON lines are kept for assertions. */
export function capturingLogger(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

type Probe<T> = () => Promise<T | undefined | false> | T | undefined | false;

/** Polls probe until it returns a value other than undefined or false, and returns that value. */
export async function waitFor<T>(probe: Probe<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The connection URL of a Postgres test database, for a second pool or another process. */
export async function postgresUrlOf(database: Database): Promise<string> {
  if (!TEST_DATABASE_URL || database.kind !== 'postgres') throw new Error('Only a Postgres test database has a URL');
  // Both drivers answer execute() with { rows }; the shared Db type leaves the result untyped.
  const result = (await database.db.execute(sql`select current_database() as name`)) as { rows: { name: string }[] };
  return databaseUrl(TEST_DATABASE_URL, result.rows[0]!.name);
}
