import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createContainer } from '../../src/container.js';
import { MembershipLevel } from '../../src/db/enums.js';
import { organizationMemberships, users } from '../../src/db/schema/index.js';
import { maskKeyValue } from '../../src/lib/ids.js';
import { openConfiguredDatabase } from '../../src/runtime.js';
import { STRONG_PASSWORD } from '../helpers/context.js';
import { adminQuery, databaseUrl, TEST_DATABASE_URL } from '../helpers/database.js';
import { ROOT } from '../helpers/process.js';

/**
 * The CLI as an operator runs it: a real child process per command, on a database of its own (PGlite under a
 * temporary DATA_DIR, or an empty Postgres database when DATABASE_URL is set), so `migrate` really migrates.
 * The tests run in order and build on each other's output; each process start costs a couple of seconds.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dataDir: string;
let postgresName: string | undefined;

const env = (): Record<string, string> => {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return {
    ...(rest as Record<string, string>),
    DATA_DIR: dataDir,
    // The CLI keeps stdout for JSON whatever the configured level.
    LOG_LEVEL: 'info',
    ...(postgresName && { DATABASE_URL: databaseUrl(TEST_DATABASE_URL!, postgresName) }),
  };
};

function cli(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: ROOT, env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** A successful command: exit 0, nothing on stderr, and stdout is exactly one JSON document. */
async function ok<T = Record<string, any>>(args: string[], stdin?: string): Promise<T> {
  const run = await cli(args, stdin);
  expect(run, `${args[0]} failed`).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as T;
}

/** A refused command: exit 1, nothing on stdout, and exactly this line on stderr. */
async function fails(args: string[], message: string): Promise<void> {
  const run = await cli(args);
  expect(run).toEqual({ code: 1, stdout: '', stderr: `error: ${message}\n` });
}

describe('cli', { timeout: 90_000 }, () => {
  const state: {
    alice?: Record<string, any>;
    bob?: Record<string, any>;
    second?: Record<string, any>;
    extra?: Record<string, any>;
    key?: Record<string, any>;
  } = {};

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'burrow-cli-'));
    if (TEST_DATABASE_URL) {
      postgresName = `burrow_cli_${randomBytes(6).toString('hex')}`;
      await adminQuery(`create database ${postgresName}`);
    }
  });

  afterAll(async () => {
    if (postgresName) await adminQuery(`drop database if exists ${postgresName} with (force)`);
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('migrate applies the migrations to an empty database', async () => {
    const out = await ok(['migrate']);
    expect(out).toMatchObject({ migrated: true, database: postgresName ? 'postgres' : 'pglite' });
    expect(out.migrations).toBeGreaterThanOrEqual(1);
  });

  it('create-user without --organization gives the user their own organization, project and a generated password', async () => {
    const out = await ok(['create-user', '--email', 'Alice@Example.com', '--first-name', 'Alice', '--last-name', 'Liddell']);
    expect(out.user).toMatchObject({ email: 'alice@example.com', first_name: 'Alice', last_name: 'Liddell', has_password: true, is_staff: true });
    expect(out.password).toMatch(/^[\w-]{24}$/);
    expect(out.organization).toMatchObject({ name: "Alice's Organization", membership_level: MembershipLevel.owner });
    expect(out.project).toMatchObject({ name: 'Default project', organization: out.organization.id });
    expect(out.project.api_token).toMatch(/^phc_/);
    state.alice = out;
  });

  it('create-user --organization joins it at --level, with a password from stdin (not printed back)', async () => {
    const out = await ok(
      ['create-user', '--email', 'bob@example.com', '--password-stdin', '--organization', state.alice!.organization.id, '--level', 'admin'],
      `${STRONG_PASSWORD}\n`,
    );
    expect(out.user).toMatchObject({ email: 'bob@example.com', first_name: 'bob', has_password: true, is_staff: false });
    expect(out).not.toHaveProperty('password');
    expect(out.organization).toMatchObject({ id: state.alice!.organization.id, membership_level: MembershipLevel.admin });
    expect(out.project.id).toBe(state.alice!.project.id);
    state.bob = out;
  });

  it('create-user refuses a duplicate email and a weak password with the API messages', async () => {
    // The password is checked before the database is opened, so the two can run side by side even on PGlite.
    await Promise.all([
      fails(['create-user', '--email', 'ALICE@example.com'], 'email: There is already an account with this email address.'),
      fails(
        ['create-user', '--email', 'carol@example.com', '--password', 'short'],
        'password: This password is too short. It must contain at least 8 characters.',
      ),
    ]);
  });

  it('create-organization makes an existing user the owner of a new organization with its default project', async () => {
    const out = await ok(['create-organization', '--name', 'Second Org', '--owner', 'alice@example.com']);
    expect(out.organization).toMatchObject({ name: 'Second Org', slug: 'second-org', membership_level: MembershipLevel.owner });
    expect(out.project).toMatchObject({ name: 'Default project', organization: out.organization.id });
    expect(out.owner.email).toBe('alice@example.com');
    state.second = out;
  });

  it('create-project adds a project to an organization and switches --user to it', async () => {
    const out = await ok(['create-project', '--organization', state.alice!.organization.id, '--name', 'Extra', '--user', 'bob@example.com']);
    expect(out.project).toMatchObject({ name: 'Extra', organization: state.alice!.organization.id });
    expect(out.organization.id).toBe(state.alice!.organization.id);
    state.extra = out;
  });

  it('create-key prints the key once, with its scopes and scoped teams', async () => {
    const teams = `${state.alice!.project.id},${state.extra!.project.id}`;
    const out = await ok(['create-key', '--email', 'bob@example.com', '--label', 'ci', '--scopes', 'heatmap:read, export:write', '--scoped-teams', teams]);
    expect(out).toMatchObject({
      label: 'ci',
      user_id: state.bob!.user.id,
      scopes: ['heatmap:read', 'export:write'],
      scoped_teams: [state.alice!.project.id, state.extra!.project.id],
      scoped_organizations: [],
    });
    expect(out.value).toMatch(/^phx_/);
    expect(out.mask_value).toBe(maskKeyValue(out.value));
    state.key = out;
  });

  it('create-key refuses an invalid scope and a team the user is not a member of, as the API does', async () => {
    await fails(['create-key', '--email', 'bob@example.com', '--scopes', 'heatmap:admin'], 'scopes: Invalid scope: heatmap:admin');
    await fails(
      ['create-key', '--email', 'bob@example.com', '--scopes', '*', '--scoped-teams', String(state.second!.project.id)],
      'scoped_teams: You must be a member of all teams that you are scoping the key to.',
    );
  });

  it('list-keys shows masks only, and list-users shows memberships', async () => {
    const keys = await ok<Record<string, any>[]>(['list-keys', '--email', 'bob@example.com']);
    expect(keys).toEqual([expect.objectContaining({ id: state.key!.id, value: null, mask_value: state.key!.mask_value })]);

    const users = await ok<Record<string, any>[]>(['list-users']);
    expect(users.map((u) => u.email)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(users[0]!.organizations.map((o: Record<string, any>) => [o.name, o.membership_level])).toEqual([
      ["Alice's Organization", MembershipLevel.owner],
      ['Second Org', MembershipLevel.owner],
    ]);
    expect(users[1]!.organizations.map((o: Record<string, any>) => [o.name, o.membership_level])).toEqual([
      ["Alice's Organization", MembershipLevel.admin],
    ]);
  });

  it('what the CLI created works: the key authenticates, the passwords log in, the user switched project', async () => {
    const config = loadConfig(env());
    const database = await openConfiguredDatabase(config);
    try {
      const services = createContainer(database, config, pino({ level: 'silent' }));
      const actor = await services.auth.authenticateKey(state.key!.value, 'Authorization header');
      expect(actor.user.email).toBe('bob@example.com');
      expect(actor.key?.scopedTeams).toEqual([state.alice!.project.id, state.extra!.project.id]);

      expect((await services.auth.checkCredentials('alice@example.com', state.alice!.password)).id).toBe(state.alice!.user.id);
      expect((await services.auth.checkCredentials('bob@example.com', STRONG_PASSWORD)).id).toBe(state.bob!.user.id);

      const [bob] = await database.db.select().from(users).where(eq(users.id, state.bob!.user.id));
      expect(bob?.currentTeamId).toBe(state.extra!.project.id);
      const [membership] = await database.db
        .select({ level: organizationMemberships.level })
        .from(organizationMemberships)
        .where(and(eq(organizationMemberships.organizationId, state.alice!.organization.id), eq(organizationMemberships.userId, bob!.id)));
      expect(membership?.level).toBe(MembershipLevel.admin);
    } finally {
      await database.close();
    }
  });
});
