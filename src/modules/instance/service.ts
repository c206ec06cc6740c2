import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';
import { type Database, MIGRATIONS_FOLDER } from '../../db/client.js';
import type { ApiKeysService } from '../api-keys/index.js';
import type { AccountService, Actor, IdentityModule } from '../identity/index.js';
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
  identity: Pick<IdentityModule['directory'], 'countUsers'>;
  accounts: Pick<AccountService, 'createAccount'>;
  apiKeys: Pick<ApiKeysService, 'create'>;
  database: Pick<Database, 'kind' | 'ping'>;
  config: Pick<Config, 'secretKey' | 'adminEmail' | 'dataDir' | 'bootstrap'>;
}

export const CREDENTIALS_FILE = 'initial-credentials.json';

/** Instance-wide set-up: the shared secret key and the first-run account. */
export function createInstanceService({ instance, identity, accounts, apiKeys, database, config }: InstanceServiceDeps) {
  /** The stored key, read once: it is written once (setIfAbsent) and never changes after. */
  let storedKey: Promise<string> | undefined;
  return {
    /** Answers when the database does; throws otherwise. */
    ping: () => database.ping(),

    /** The database this process uses and the migrations applied to it (the command line's migrate). */
    async describeDatabase(): Promise<{ database: Database['kind']; data_dir?: string; migrations: number; latest: string | null }> {
      const journal = JSON.parse(await fs.readFile(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
        entries: { tag: string }[];
      };
      return {
        database: database.kind,
        ...(database.kind === 'pglite' && { data_dir: path.join(config.dataDir, 'pglite') }),
        migrations: journal.entries.length,
        latest: journal.entries.at(-1)?.tag ?? null,
      };
    },

    /** SECRET_KEY when set; otherwise one generated on first start and kept in the database, so every process agrees. */
    async secretKey(): Promise<string> {
      if (config.secretKey) return config.secretKey;
      storedKey ??= instance.setIfAbsent('secret_key', randomBytes(48).toString('base64url')).then(String, (error: unknown) => {
        // Read again next time (the database was unreachable, say).
        storedKey = undefined;
        throw error;
      });
      return storedKey;
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
