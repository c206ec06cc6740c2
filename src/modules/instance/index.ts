import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { ApiKeysModule } from '../api-keys/index.js';
import type { IdentityModule } from '../identity/index.js';
import { createInstanceRepository } from './repository.js';
import { instanceRoutes } from './routes.js';
import { createInstanceService } from './service.js';

export type { InitialCredentials, InstanceService } from './service.js';

export interface InstanceModuleDeps {
  database: Database;
  identity: Pick<IdentityModule, 'directory' | 'accounts'>;
  apiKeys: Pick<ApiKeysModule, 'service'>;
  config: Pick<Config, 'secretKey' | 'adminEmail' | 'dataDir' | 'bootstrap'>;
}

/** The instance itself: its health, its shared secret and its first account. */
export function createInstanceModule({ database, identity, apiKeys, config }: InstanceModuleDeps) {
  const service = createInstanceService({
    instance: createInstanceRepository(database.db),
    identity: identity.directory,
    accounts: identity.accounts,
    apiKeys: apiKeys.service,
    database,
    config,
  });
  return { routes: instanceRoutes(service), service };
}

export type InstanceModule = ReturnType<typeof createInstanceModule>;
