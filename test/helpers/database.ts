import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';

/** Set DATABASE_URL to run the suite on Postgres; otherwise every test file gets its own in-memory PGlite. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL || undefined;

export function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, migrated database: PGlite in memory, or a Postgres database cloned from the migrated template. */
export async function openTestDatabase(): Promise<Database> {
  if (!TEST_DATABASE_URL) {
    const database = await openDatabase({ kind: 'pglite' });
    await database.migrate();
    return database;
  }
  const name = `burrow_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name} template ${inject('templateDatabase')}`);
  const database = await openDatabase({ kind: 'postgres', url: databaseUrl(TEST_DATABASE_URL, name), poolSize: 5 });
  return {
    ...database,
    close: async () => {
      await database.close();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

export async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
