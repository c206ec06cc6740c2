import type { Logger } from 'pino';
import type { Db } from '../../db/client.js';
import type { JobEnqueuer } from '../../jobs/queue.js';
import type { Signal } from '../../lib/signal.js';
import type { BlobStore } from '../../storage/index.js';
import type { IdentityModule } from '../identity/index.js';
import { captureJobDefinitions, createCaptureJobs } from './jobs.js';
import { createRecordingsRepository } from './recordings-repository.js';
import { createCaptureRepository } from './repository.js';
import { captureRoutes } from './routes.js';
import { createCaptureService } from './service.js';

export { captureJobDefinitions } from './jobs.js';
export { ATTRIBUTION_PROPERTIES, type AttributionProperty } from './session-fields.js';
export { sdkFiles } from './sdk-files.js';

export interface CaptureModuleDeps {
  db: Db;
  /** Where recording blocks' bytes go. */
  blobs: BlobStore;
  log: Logger;
  queue: JobEnqueuer<typeof captureJobDefinitions>;
  identity: Pick<IdentityModule, 'directory'>;
  /** Project changes (a new token, new settings) clear the teams remembered by token; a team's first event notifies it. */
  identityChanged: Signal;
  /** EVENTS_RETENTION_DAYS; 0 keeps events. */
  eventsRetentionDays: number;
  /** CAPTURE_EVENTS_PER_SECOND, RECORDINGS_QUOTA_PER_MONTH and CAPTURE_CONCURRENT_WRITES. */
  capture: { eventsPerSecond: number; recordingsQuotaPerMonth: number; concurrentWrites: number };
}

/** Where posthog-js sends events and recordings and loads its remote config (/e/, /s/, /flags/, /array/<token>/config, ...). */
export function createCaptureModule({ db, blobs, log, queue, identity, identityChanged, eventsRetentionDays, capture: { concurrentWrites, ...limits } }: CaptureModuleDeps) {
  const service = createCaptureService({
    capture: createCaptureRepository(db, { concurrentWrites }),
    recordings: createRecordingsRepository(db, blobs, log, { concurrentWrites }),
    teams: identity.directory,
    teamCacheMs: 5_000,
    onTeamChanged: () => identityChanged.notify(),
    limits,
  });
  identityChanged.subscribe(service.forgetTeams);
  return { routes: captureRoutes(service), jobs: createCaptureJobs({ queue, capture: service, eventsRetentionDays }) };
}
