import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { createContainer } from './container.js';
import { createLogger } from './lib/logger.js';
import { blobStoreOrExit, configOrExit, openConfiguredDatabase, startWorker } from './runtime.js';
import type { InitialCredentials } from './modules/instance/index.js';

/** npm start: config -> database (migrated) -> first-run account -> HTTP app -> workers; graceful shutdown. */
const config = configOrExit();
const log = createLogger(config);
const database = await openConfiguredDatabase(config);
const services = createContainer(database, config, log);
await blobStoreOrExit(services);

// Under the start-up lock, so two processes starting on an empty Postgres create one admin between them.
const credentials = await database.withStartupLock(() => services.instance.bootstrap());
if (credentials) printCredentials(credentials);

const app = await buildApp(services);
await app.listen({ port: config.port, host: config.host });
const worker = config.workers.enabled ? await startWorker(services, log) : null;
log.info({ database: database.kind, workers: config.workers.enabled }, 'Burrow is ready');

closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'shutting down after an error');
  else log.info({ signal }, 'shutting down');
  await app.close();
  await worker?.stop();
  await services.browser.close();
  services.mailer.close();
  await database.close();
});

function printCredentials(c: InitialCredentials): void {
  process.stdout.write(
    [
      '',
      'Burrow created its first account. These credentials are shown once and saved to',
      `  ${config.dataDir}/initial-credentials.json (mode 0600):`,
      `  email:            ${c.email}`,
      `  password:         ${c.password}`,
      `  personal API key: ${c.personal_api_key}`,
      `  organization:     ${c.organization_id}`,
      `  project:          ${c.project_id}`,
      '',
    ].join('\n') + '\n',
  );
}
