import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';
import type { Actor } from '../auth/service.js';
import type { ApiKeysService } from '../api-keys/service.js';
import type { AccountService } from '../identity/accounts.js';
import type { IdentityRepository } from '../identity/repository.js';
import type { InstanceRepository } from './repository.js';

export interface InitialCredentials {
  email: string;
  password: string;
  personal_api_key: string;
  organization_id: string;
  project_id: number;
}

export interface InstanceServiceDeps {
  instance: InstanceRepository;
  identity: Pick<IdentityRepository, 'countUsers'>;
  accounts: Pick<AccountService, 'createAccount'>;
  apiKeys: Pick<ApiKeysService, 'create'>;
  config: Pick<Config, 'secretKey' | 'adminEmail' | 'dataDir' | 'bootstrap'>;
}

export const CREDENTIALS_FILE = 'initial-credentials.json';

/** Instance-wide set-up: the shared secret key and the first-run account. */
export function createInstanceService({ instance, identity, accounts, apiKeys, config }: InstanceServiceDeps) {
  return {
    /** SECRET_KEY when set; otherwise one generated on first start and kept in the database, so every process agrees. */
    async secretKey(): Promise<string> {
      if (config.secretKey) return config.secretKey;
      return String(await instance.setIfAbsent('secret_key', randomBytes(48).toString('base64url')));
    },

    /**
     * On an empty database: an organization, a project (team 1 on a fresh database), an admin and a key with scope *.
     * The credentials go to DATA_DIR/initial-credentials.json (mode 0600). Returns null when there was nothing to do.
     */
    async bootstrap(): Promise<InitialCredentials | null> {
      if (!config.bootstrap || (await identity.countUsers()) > 0) return null;
      const password = randomBytes(18).toString('base64url');
      const { user, organization, team } = await accounts.createAccount({
        email: config.adminEmail,
        password,
        firstName: 'Admin',
        isStaff: true,
        organizationName: 'Burrow',
      });
      const actor: Actor = { user, key: null, session: null };
      const key = await apiKeys.create(actor, { label: 'Initial key', scopes: ['*'] });
      const credentials: InitialCredentials = {
        email: user.email,
        password,
        personal_api_key: key.value!,
        organization_id: organization.id,
        project_id: team.id,
      };
      await fs.mkdir(config.dataDir, { recursive: true });
      const file = path.join(config.dataDir, CREDENTIALS_FILE);
      await fs.writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
      await fs.chmod(file, 0o600);
      return credentials;
    },
  };
}

export type InstanceService = ReturnType<typeof createInstanceService>;
