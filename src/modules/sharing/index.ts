import type { Db } from '../../db/client.js';
import { createSharingRepository } from './repository.js';
import { sharingRoutes } from './routes.js';
import { createSharingService } from './service.js';

/** Share links of recordings: their settings, token rotation and passwords. */
export function createSharingModule({ db, gracePeriodMs }: { db: Db; gracePeriodMs: number }) {
  const service = createSharingService({ sharing: createSharingRepository(db), gracePeriodMs });
  return { routes: sharingRoutes(service), sharedRecordingOf: service.sharedRecordingOf };
}
