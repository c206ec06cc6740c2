import type { Db } from '../../db/client.js';
import type { Signal } from '../../lib/signal.js';
import type { AdminService, IdentityModule } from '../identity/index.js';
import { createApiKeysRepository } from './repository.js';
import { personalApiKeysRoutes } from './routes.js';
import { createApiKeysService } from './service.js';

export { CreatePersonalApiKeyBody } from './contract.js';
export type { ApiKeysService } from './service.js';

export interface ApiKeysModuleDeps {
  db: Db;
  identity: Pick<IdentityModule['directory'], 'listOrganizationsForUser' | 'listTeamsForOrganizations'>;
  users: Pick<AdminService, 'requireUser'>;
  /** Notified after a key changes or goes, so cached key lookups are dropped. */
  identityChanged: Signal;
}

/** Personal API keys: their management (sessions only) and the lookup that authenticates them. */
export function createApiKeysModule({ db, identity, users, identityChanged }: ApiKeysModuleDeps) {
  const repository = createApiKeysRepository(db);
  const service = createApiKeysService({ apiKeys: repository, identity, users, onKeysChanged: () => identityChanged.notify() });
  return {
    routes: personalApiKeysRoutes(service),
    service,
    /** What authentication needs: a key by its hash, and marking it used. */
    lookup: repository as Pick<typeof repository, 'findActiveBySecureValue' | 'touchLastUsed'>,
  };
}

export type ApiKeysModule = ReturnType<typeof createApiKeysModule>;
