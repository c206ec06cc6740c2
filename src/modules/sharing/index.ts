import type { Db } from '../../db/client.js';
import { sharingPublicRoutes } from './public-routes.js';
import { createSharingRepository } from './repository.js';
import { sharingRoutes } from './routes.js';
import { createSharingService, type SharingServiceDeps } from './service.js';

/** Share links of recordings: their settings, token rotation and passwords. */
export function createSharingModule({ db, gracePeriodMs, recordingOf }: { db: Db } & Omit<SharingServiceDeps, 'sharing'>) {
  const service = createSharingService({ sharing: createSharingRepository(db), gracePeriodMs, recordingOf });
  return { routes: sharingRoutes(service), publicRoutes: sharingPublicRoutes(service), sharedRecordingOf: service.sharedRecordingOf };
}
