import { pino } from 'pino';
import type { Config } from '../config.js';
import { type Container, createContainer } from '../container.js';
import { BurrowError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { configOrExit, openConfiguredDatabase } from '../runtime.js';

/** What a command drives: the same services as the API. */
export type CliServices = Container['admin'];

/** Quiet by default so stdout carries only JSON; LOG_LEVEL=debug or trace still shows everything (on stderr). */
function cliLogLevel(level: Config['logLevel']): Config['logLevel'] {
  return level === 'debug' || level === 'trace' || level === 'error' || level === 'fatal' || level === 'silent' ? level : 'warn';
}

/** Opens the configured database (migrated), runs fn with the composed services, closes the database. */
export async function withServices<T>(fn: (services: CliServices) => Promise<T>): Promise<T> {
  const config = configOrExit();
  const log = createLogger({ logLevel: cliLogLevel(config.logLevel) }, pino.destination({ dest: 2, sync: true }));
  const database = await openConfiguredDatabase(config);
  try {
    return await fn(createContainer(database, config, log).admin);
  } finally {
    await database.close();
  }
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** "a,b, c" -> ["a", "b", "c"]; undefined stays undefined. */
export const list = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((item) => item.trim()).filter((item) => item !== '');

/** "<attr>: <detail>" for the API's errors, as a client of the API would read them. */
export function describeError(error: unknown): string {
  if (error instanceof BurrowError) return error.attr ? `${error.attr}: ${error.detail}` : error.detail;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
