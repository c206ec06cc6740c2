import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { createContainer } from './container.js';
import { createLogger } from './lib/logger.js';
import { blobStoreOrExit, configOrExit, openConfiguredDatabase, startWorker } from './runtime.js';

/** npm run worker: job workers without the HTTP server, sharing the database with any number of servers. */
const config = configOrExit();
const log = createLogger(config);
const database = await openConfiguredDatabase(config);
const services = createContainer(database, config, log);
await blobStoreOrExit(services);
// Not listening: export jobs call the API through it, in-process, as the export's creator.
const app = await buildApp(services);
await app.ready();
const worker = await startWorker(services, log);
log.info({ database: database.kind, workerId: worker.id }, 'Burrow worker is ready');

closeWithGrace({ delay: 30_000 }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'worker shutting down after an error');
  else log.info({ signal }, 'worker shutting down');
  await worker.stop();
  await app.close();
  await services.browser.close();
  services.mailer.close();
  await database.close();
});
