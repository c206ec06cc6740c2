import type { Db } from '../../db/client.js';
import { createFileSystemShortcutsRepository } from './repository.js';
import { fileSystemShortcutsRoutes } from './routes.js';
import { createFileSystemShortcutsService } from './service.js';

/** A user's starred items (/file_system_shortcut/), which follow the tree's objects and folders. */
export function createShortcutsModule({ db }: { db: Db }) {
  const repository = createFileSystemShortcutsRepository(db);
  return {
    routes: fileSystemShortcutsRoutes(createFileSystemShortcutsService({ shortcuts: repository })),
    /** What the project tree does to stars, in the tree's transaction: star home folders, follow moves, renames, deletes. */
    forTree: repository as Pick<typeof repository, 'insert' | 'deleteForObject' | 'renameForObject' | 'repointFolders'>,
  };
}

export type ShortcutsModule = ReturnType<typeof createShortcutsModule>;
