import type { Logger } from 'pino';
import { isPermanentRenderError } from './browser/errors.js';
import { createBrowserPool } from './browser/pool.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { jobDefinitions } from './jobs/kinds.js';
import { createJobQueue } from './jobs/queue.js';
import { createScreenshotRenderer } from './modules/heatmaps/screenshots/renderer.js';
import { createUrlGuard } from './net/url-guard.js';
import { createApiKeysRepository } from './services/api-keys/repository.js';
import { createApiKeysService } from './services/api-keys/service.js';
import { createLoginService } from './services/auth/login-service.js';
import { createAuthService } from './services/auth/service.js';
import { createSessionsRepository } from './services/auth/sessions-repository.js';
import { createFileSystemShortcutsRepository } from './services/file-system-shortcuts/repository.js';
import { createFileSystemShortcutsService } from './services/file-system-shortcuts/service.js';
import { createHeatmapsRepository } from './services/heatmaps/repository.js';
import { createHeatmapsService } from './services/heatmaps/service.js';
import { createHeatmapTreeType } from './services/heatmaps/tree.js';
import { createFileSystemRepository } from './services/file-system/repository.js';
import { createFileSystemService } from './services/file-system/service.js';
import { createAccountService } from './services/identity/accounts.js';
import { createOrganizationsService } from './services/identity/organizations-service.js';
import { createProjectsService } from './services/identity/projects-service.js';
import { createIdentityRepository } from './services/identity/repository.js';
import { createUsersService } from './services/identity/users-service.js';
import { createInstanceRepository } from './services/instance/repository.js';
import { createInstanceService } from './services/instance/service.js';
import { createPersistedFoldersRepository } from './services/persisted-folders/repository.js';
import { createPersistedFoldersService } from './services/persisted-folders/service.js';

/** Wires repositories into services once; everything the app and the workers use comes from here. */
export function createContainer(database: Database, config: Config, log: Logger) {
  const { db } = database;
  const identity = createIdentityRepository(db);
  const apiKeysRepository = createApiKeysRepository(db);
  const sessions = createSessionsRepository(db);
  const heatmaps = createHeatmapsRepository(db);
  const persistedFolders = createPersistedFoldersRepository(db);
  const fileSystemShortcuts = createFileSystemShortcutsRepository(db);
  const guard = createUrlGuard({ allowedHosts: config.render.allowedHosts });
  // Launches Chromium only when the first render needs it, so processes that never render never start it.
  const renderer = createBrowserPool({
    chromiumPath: config.render.chromiumPath,
    concurrency: config.render.concurrency,
    recycleAfter: config.render.recycleAfter,
    log,
  });

  const auth = createAuthService({ identity, apiKeys: apiKeysRepository, sessions, config });
  const onIdentityChanged = () => auth.invalidateCaches();
  const accounts = createAccountService({ db, identity });

  const queue = createJobQueue({ db, listen: database.listen, definitions: jobDefinitions, log });
  const fileSystem = createFileSystemService({
    db,
    files: createFileSystemRepository(db),
    shortcuts: fileSystemShortcuts,
    objectTypes: [createHeatmapTreeType(heatmaps)],
  });
  const apiKeys = createApiKeysService({ apiKeys: apiKeysRepository, identity, onKeysChanged: onIdentityChanged });

  return {
    database,
    config,
    log,
    repositories: { identity, apiKeys: apiKeysRepository, sessions, heatmaps },
    guard,
    renderer,
    /** What job handlers need besides the queue (see jobs/registry.ts). */
    jobHandlerDeps: {
      purgeExpiredSessions: () => sessions.deleteExpired(),
      heatmaps,
      guard,
      render: createScreenshotRenderer({ pool: renderer, guard, settings: config.render }),
      isPermanentFailure: isPermanentRenderError,
    },
    queue,
    auth,
    accounts,
    login: createLoginService({ accounts, identity, auth, config }),
    users: createUsersService({ db, identity, sessions, onIdentityChanged }),
    organizations: createOrganizationsService({ identity, accounts, onIdentityChanged }),
    projects: createProjectsService({ identity, accounts, onIdentityChanged }),
    apiKeys,
    heatmaps: createHeatmapsService({ db, heatmaps, queue, guard, tree: fileSystem }),
    fileSystem,
    persistedFolders: createPersistedFoldersService({ persistedFolders }),
    fileSystemShortcuts: createFileSystemShortcutsService({ shortcuts: fileSystemShortcuts }),
    instance: createInstanceService({ instance: createInstanceRepository(db), identity, accounts, apiKeys, config }),
  };
}

export type Container = ReturnType<typeof createContainer>;
