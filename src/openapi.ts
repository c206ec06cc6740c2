import pino from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createContainer } from './container.js';
import { openDatabase } from './db/client.js';

/** The OpenAPI document as YAML, from the app built on a throwaway in-memory database. */
export async function generateOpenApi(): Promise<string> {
  const database = await openDatabase({ kind: 'pglite' });
  try {
    await database.migrate();
    const config = loadConfig({ WORKERS: 'off', BOOTSTRAP: 'false' });
    const app = await buildApp(createContainer(database, config, pino({ level: 'silent' })));
    await app.ready();
    const yaml = app.swagger({ yaml: true });
    await app.close();
    return yaml;
  } finally {
    await database.close();
  }
}
