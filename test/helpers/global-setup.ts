import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { adminQuery, databaseUrl, TEST_DATABASE_URL } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

let template: string | undefined;

/**
 * On Postgres, migrate one template database per run; each test file clones it (CREATE DATABASE ... TEMPLATE).
 * The name is unique per run, so suites running side by side on one server do not meet.
 */
export async function setup(project: TestProject): Promise<void> {
  if (!TEST_DATABASE_URL) return;
  template = `burrow_template_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${template}`);
  const database = await openDatabase({ kind: 'postgres', url: databaseUrl(TEST_DATABASE_URL, template), poolSize: 2 });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  project.provide('templateDatabase', template);
}

export async function teardown(): Promise<void> {
  if (template) await adminQuery(`drop database if exists ${template} with (force)`);
}
