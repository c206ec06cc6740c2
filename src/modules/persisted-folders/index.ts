import type { Db } from '../../db/client.js';
import { createPersistedFoldersRepository } from './repository.js';
import { persistedFoldersRoutes } from './routes.js';
import { createPersistedFoldersService } from './service.js';

/** A user's sidebar folders, one per type (/persisted_folder/). */
export function createPersistedFoldersModule({ db }: { db: Db }) {
  return { routes: persistedFoldersRoutes(createPersistedFoldersService({ persistedFolders: createPersistedFoldersRepository(db) })) };
}
