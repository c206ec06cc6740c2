import path from 'node:path';
import type { Logger } from 'pino';
import { checkChromium } from './browser/chromium.js';
import { checkFfmpeg } from './modules/exports/index.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import type { Container } from './container.js';
import { type Database, openDatabase } from './db/client.js';
import { startAppWorker } from './jobs/app-worker.js';
import type { Worker } from './jobs/worker.js';

/** Start-up shared by the server, the standalone worker and the CLI. */

/** Config from the environment, or exit with a message naming each bad variable. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
}

/** Postgres with DATABASE_URL, else PGlite under DATA_DIR/pglite; migrated before anything uses it. */
export async function openConfiguredDatabase(config: Config): Promise<Database> {
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize }
      : { kind: 'pglite', dataDir: path.join(config.dataDir, 'pglite') },
  );
  await database.migrate();
  return database;
}

/** BLOB_STORE's store, checked before anything is served: a bucket that cannot be used stops the start, saying why. */
export async function blobStoreOrExit(services: Container): Promise<void> {
  try {
    await services.blobs.verify();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await services.database.close();
    process.exit(78);
  }
}

/** Job workers for every app job kind; says at start whether screenshots can be rendered. */
export function startWorker(services: Container, log: Logger): Promise<Worker> {
  checkChromium(services.config.render.chromiumPath, log);
  void checkFfmpeg(services.config.ffmpegPath, log);
  return startAppWorker({ queue: services.queue, jobs: services.jobs, log, settings: services.config.workers });
}
