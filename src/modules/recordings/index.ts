import type { Db } from '../../db/client.js';
import type { BlobStore } from '../../storage/index.js';
import type { ApiTier } from './contract.js';
import { createRecordingsRepository } from './repository.js';
import { recordingsRoutes } from './routes.js';
import { createRecordingsService } from './service.js';

export { parseRecordingsQuery } from './list-query.js';
export type { RecordingRow } from './repository.js';

/** The session recordings API (/session_recordings/): list, retrieve, views, deletion and snapshots of what capture stored. */
export function createRecordingsModule({ db, blobs, apiTier }: { db: Db; blobs: BlobStore; apiTier: ApiTier }) {
  const service = createRecordingsService({ recordings: createRecordingsRepository(db), blobs });
  return { routes: recordingsRoutes(service, apiTier), sharedView: service.sharedView, startedSince: service.startedSince };
}
