import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { type Container, createContainer } from '../../src/container.js';
import type { Database } from '../../src/db/client.js';
import type { UserRow } from '../../src/db/schema/index.js';
import type { Actor } from '../../src/modules/identity/index.js';
import { openTestDatabase } from './database.js';

export const STRONG_PASSWORD = 'correct horse battery staple 42';

/** Collects the app's JSON log lines so tests can read what was logged. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  get text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

export interface TestAccount {
  user: UserRow;
  organizationId: string;
  teamId: number;
  password: string;
}

export type TestApp = Awaited<ReturnType<typeof buildApp>>;

/**
 * The real app on a real database (PGlite per file, or Postgres with DATABASE_URL), with factories for test data.
 * `database` shares another context's database, as several server processes share one Postgres; that context closes it.
 */
export async function createTestContext(env: Record<string, string> = {}, options: { captureLogs?: boolean; database?: Database } = {}) {
  const database: Database = options.database ?? (await openTestDatabase());
  const config = loadConfig({ DATA_DIR: '/tmp/burrow-test', LOG_LEVEL: 'info', WORKERS: 'off', ...env });
  const logs = options.captureLogs ? new LogCapture() : undefined;
  const services: Container = createContainer(database, config, logs ? createLogger(config, logs) : pino({ level: 'silent' }));
  const app = await buildApp(services);
  await app.ready();
  let emails = 0;

  const context = {
    app,
    services,
    database,
    config,
    logs,

    async newAccount(overrides: { email?: string; organizationName?: string; firstName?: string; roleAtOrganization?: string } = {}): Promise<TestAccount> {
      emails += 1;
      const { user, organization, team } = await services.accounts.createAccount({
        email: overrides.email ?? `user${emails}-${Math.random().toString(36).slice(2, 8)}@example.com`,
        password: STRONG_PASSWORD,
        firstName: overrides.firstName ?? `User${emails}`,
        organizationName: overrides.organizationName,
        roleAtOrganization: overrides.roleAtOrganization,
      });
      return { user, organizationId: organization.id, teamId: team.id, password: STRONG_PASSWORD };
    },

    /** Another user in an existing organization (by default a member, level 1). */
    async newMember(organizationId: string, level: 1 | 8 | 15 = 1): Promise<UserRow> {
      emails += 1;
      return services.accounts.createMember(
        { email: `member${emails}-${Math.random().toString(36).slice(2, 8)}@example.com`, password: STRONG_PASSWORD, firstName: `Member${emails}` },
        organizationId,
        level,
      );
    },

    /** Calls the API with a key: `call('POST', url, body)`, the key overridable per call. */
    client(key: string) {
      return (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object, as = key) =>
        app.inject({ method, url, headers: bearer(as), ...(payload && { payload }) });
    },

    /** A personal API key of the user, created through the real service; returns the key value. */
    async newKey(user: UserRow, input: { scopes?: string[]; scoped_teams?: number[]; scoped_organizations?: string[]; label?: string } = {}): Promise<string> {
      const actor: Actor = { user, key: null, session: null };
      const key = await services.admin.apiKeys.create(actor, { label: input.label ?? 'test key', scopes: input.scopes ?? ['*'], ...input });
      return key.value!;
    },

    /** Logs in through the API and returns the cookies a browser would hold. */
    async login(email: string, password = STRONG_PASSWORD): Promise<{ cookie: string; csrf: string }> {
      const response = await app.inject({ method: 'POST', url: '/api/login/', payload: { email, password } });
      if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
      const cookies = Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));
      return { cookie: `sessionid=${cookies.sessionid}; posthog_csrftoken=${cookies.posthog_csrftoken}`, csrf: cookies.posthog_csrftoken! };
    },

    async close(): Promise<void> {
      await app.close();
      await services.browser.close();
      services.mailer.close();
      if (!options.database) await database.close();
    },
  };
  return context;
}

export type TestContext = Awaited<ReturnType<typeof createTestContext>>;

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
