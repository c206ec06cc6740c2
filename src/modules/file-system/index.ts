import type { Db } from '../../db/client.js';
import type { ShortcutsModule } from '../shortcuts/index.js';
import type { TreeObjectType } from './object-types.js';
import { createFileSystemRepository } from './repository.js';
import { fileSystemRoutes } from './routes.js';
import { createFileSystemService } from './service.js';

export type { TreeObject, TreeObjectType } from './object-types.js';
export { escapePath, joinPath, splitPath } from './paths.js';
export type { TreeScope } from './repository.js';

export interface FileSystemModuleDeps {
  db: Db;
  shortcuts: Pick<ShortcutsModule, 'forTree'>;
}

/** The project tree (/file_system/): folders, entries for every object, moves, links, deletes with undo, Recents. */
export function createFileSystemModule({ db, shortcuts }: FileSystemModuleDeps) {
  const objectTypes: TreeObjectType[] = [];
  const service = createFileSystemService({ db, files: createFileSystemRepository(db), shortcuts: shortcuts.forTree, objectTypes });
  return {
    routes: fileSystemRoutes(service),
    /** What an area that owns objects uses: keeping their rows in step, and making them reachable from the tree. */
    tree: {
      syncObject: service.syncObject,
      addObjectType: (objectType: TreeObjectType) => void objectTypes.push(objectType),
    },
  };
}

export type FileSystemModule = ReturnType<typeof createFileSystemModule>;
