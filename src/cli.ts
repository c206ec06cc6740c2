import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import type { Config } from './config.js';
import { type Container, createContainer } from './container.js';
import { MIGRATIONS_FOLDER } from './db/client.js';
import { MembershipLevel, type MembershipLevelValue } from './db/schema/index.js';
import { ApiError, ValidationError } from './lib/errors.js';
import { createLogger } from './lib/logger.js';
import { parseInput } from './lib/validation.js';
import { SignupBody } from './routes/auth/schemas.js';
import { CreateOrganizationBody } from './routes/organizations/schemas.js';
import { CreatePersonalApiKeyBody } from './routes/personal-api-keys/schemas.js';
import { CreateProjectBody } from './routes/projects/schemas.js';
import { configOrExit, openConfiguredDatabase } from './runtime.js';
import { validatePassword } from './services/auth/passwords.js';
import type { Actor } from './services/auth/service.js';
import type { OrganizationRow, TeamRow, UserRow } from './services/identity/repository.js';

/**
 * npm run --silent cli -- <command>: admin commands that create users, organizations, projects and personal API keys
 * through the same services as the API (same rules, same messages), print what they created as JSON on stdout, and
 * exit. Errors go to stderr as "error: <attr>: <detail>" with exit code 1.
 */

const LEVELS = { member: MembershipLevel.member, admin: MembershipLevel.admin, owner: MembershipLevel.owner } as const;
type LevelName = keyof typeof LEVELS;

// ---- what the commands print ----------------------------------------------------------------------------------

const userOut = (user: UserRow) => ({
  id: user.id,
  uuid: user.uuid,
  email: user.email,
  first_name: user.firstName,
  last_name: user.lastName,
  is_staff: user.isStaff,
  is_active: user.isActive,
  has_password: user.passwordHash !== null,
});

/** membership_level is the user's level (1 member, 8 admin, 15 owner), where the output is about a user. */
const organizationOut = (organization: OrganizationRow, membershipLevel?: MembershipLevelValue | null) => ({
  id: organization.id,
  name: organization.name,
  slug: organization.slug,
  ...(membershipLevel !== undefined && { membership_level: membershipLevel }),
});

/** A project shares its id with its first team; api_token is the public project token, never the secret one. */
const projectOut = (team: TeamRow) => ({
  id: team.projectId,
  uuid: team.uuid,
  name: team.name,
  organization: team.organizationId,
  api_token: team.apiToken,
});

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

// ---- input ----------------------------------------------------------------------------------------------------

const NewUserFields = SignupBody.pick({ email: true, first_name: true, last_name: true, organization_name: true });
const ProjectName = z.object({ name: CreateProjectBody.shape.name.unwrap() });

/** "a,b, c" -> ["a", "b", "c"]; undefined stays undefined. */
const list = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((item) => item.trim()).filter((item) => item !== '');

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

interface PasswordFlags {
  password?: string | false;
  passwordStdin?: boolean;
}

/** The password to set (validated as signup validates it), null for none, and whether this process generated it. */
async function choosePassword(flags: PasswordFlags): Promise<{ password: string | null; generated: boolean }> {
  if (flags.password === false) return { password: null, generated: false };
  const given = flags.passwordStdin ? await readStdin() : flags.password;
  if (given === undefined) return { password: randomBytes(18).toString('base64url'), generated: true };
  if (given.length > 128) throw new ValidationError('Ensure this field has no more than 128 characters.', 'password', 'max_length');
  await validatePassword(given);
  return { password: given, generated: false };
}

// ---- running a command ----------------------------------------------------------------------------------------

/** Quiet by default so stdout carries only JSON; LOG_LEVEL=debug or trace still shows everything (on stderr). */
function cliLogLevel(level: Config['logLevel']): Config['logLevel'] {
  return level === 'debug' || level === 'trace' || level === 'error' || level === 'fatal' || level === 'silent' ? level : 'warn';
}

/** Opens the configured database (migrated), runs fn with the wired services, closes the database. */
async function withServices<T>(fn: (services: Container) => Promise<T>): Promise<T> {
  const config = configOrExit();
  const log = createLogger({ logLevel: cliLogLevel(config.logLevel) }, pino.destination({ dest: 2, sync: true }));
  const database = await openConfiguredDatabase(config);
  try {
    return await fn(createContainer(database, config, log));
  } finally {
    await database.close();
  }
}

async function findUser(services: Container, email: string, attr = 'email'): Promise<UserRow> {
  const user = await services.repositories.identity.findUserByEmail(email.trim());
  if (!user) throw new ValidationError(`There is no account with the email address ${email.trim()}.`, attr, 'not_found');
  return user;
}

async function findOrganization(services: Container, id: string, attr = 'organization'): Promise<OrganizationRow> {
  const organization = await services.repositories.identity.findOrganizationById(id.trim());
  if (!organization) throw new ValidationError(`There is no organization with the id ${id.trim()}.`, attr, 'not_found');
  return organization;
}

const actorFor = (user: UserRow): Actor => ({ user, key: null, session: null });

function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.attr ? `${error.attr}: ${error.detail}` : error.detail;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

// ---- commands -------------------------------------------------------------------------------------------------

const program = new Command()
  .name('burrow')
  .description('Burrow admin commands. Each opens the configured database (DATABASE_URL, or PGlite under DATA_DIR), migrates it, does its work and prints JSON.')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

program
  .command('migrate')
  .description('Apply pending database migrations and exit.')
  .action(async () => {
    await withServices(async (services) => {
      const journal = JSON.parse(await fs.readFile(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
        entries: { tag: string }[];
      };
      print({
        migrated: true,
        database: services.database.kind,
        ...(services.database.kind === 'pglite' && { data_dir: path.join(services.config.dataDir, 'pglite') }),
        migrations: journal.entries.length,
        latest: journal.entries.at(-1)?.tag ?? null,
      });
    });
  });

program
  .command('create-user')
  .description(
    'Create a user. Without --organization the user gets their own organization (as owner) and its default project, as at signup; ' +
      'with --organization the user joins that organization at --level.',
  )
  .requiredOption('--email <email>', 'email address (unique, case-insensitive)')
  .option('--password <password>', 'password; must pass the signup rules (8+ characters, not guessable); default: a generated one, printed once')
  .addOption(new Option('--password-stdin', 'read the password from standard input (keeps it out of shell history and ps)').conflicts('password'))
  .option('--no-password', 'no password: the user can only use personal API keys')
  .option('--first-name <name>', 'first name (default: the part of the email before @)')
  .option('--last-name <name>', 'last name')
  .option('--staff', 'mark the user as instance staff (the instance’s first user always is, as at signup)')
  .addOption(new Option('--organization-name <name>', "name of the user's new organization (default: \"<first name>'s Organization\")").conflicts('organization'))
  .option('--organization <uuid>', 'join this existing organization instead of creating one')
  .addOption(new Option('--level <level>', 'membership level in --organization').choices(Object.keys(LEVELS)))
  .action(async (flags: PasswordFlags & {
    email: string;
    firstName?: string;
    lastName?: string;
    staff?: boolean;
    organizationName?: string;
    organization?: string;
    level?: LevelName;
  }) => {
    if (flags.level && !flags.organization) throw new ValidationError('--level needs --organization.');
    const fields = parseInput(NewUserFields, {
      email: flags.email,
      first_name: flags.firstName ?? flags.email.trim().split('@')[0],
      last_name: flags.lastName,
      organization_name: flags.organizationName,
    });
    const { password, generated } = await choosePassword(flags);
    await withServices(async (services) => {
      const { identity } = services.repositories;
      const input = {
        email: fields.email,
        password,
        firstName: fields.first_name,
        lastName: fields.last_name ?? '',
        isStaff: flags.staff === true || (await identity.countUsers()) === 0,
      };
      const secret = generated ? { password } : {};
      if (flags.organization) {
        const organization = await findOrganization(services, flags.organization);
        const level = LEVELS[flags.level ?? 'member'];
        const user = await services.accounts.createMember(input, organization.id, level);
        const team = user.currentTeamId === null ? undefined : await identity.findTeam(user.currentTeamId);
        print({ user: userOut(user), ...secret, organization: organizationOut(organization, level), project: team ? projectOut(team) : null });
        return;
      }
      const { user, organization, team } = await services.accounts.createAccount({ ...input, organizationName: fields.organization_name });
      print({ user: userOut(user), ...secret, organization: organizationOut(organization, MembershipLevel.owner), project: projectOut(team) });
    });
  });

program
  .command('create-organization')
  .description('Create an organization with its default project, owned by an existing user (who switches to it).')
  .requiredOption('--name <name>', 'organization name (at most 64 characters)')
  .requiredOption('--owner <email>', 'email of the existing user who becomes its owner')
  .action(async (flags: { name: string; owner: string }) => {
    const { name } = parseInput(CreateOrganizationBody, { name: flags.name });
    await withServices(async (services) => {
      const owner = await findUser(services, flags.owner, 'owner');
      const { organization, team } = await services.accounts.createOrganization(owner, name);
      print({ organization: organizationOut(organization, MembershipLevel.owner), project: projectOut(team), owner: userOut(owner) });
    });
  });

program
  .command('create-project')
  .description('Create a project in an existing organization.')
  .requiredOption('--organization <uuid>', 'the organization')
  .requiredOption('--name <name>', 'project name (at most 200 characters)')
  .option('--user <email>', 'a member of the organization who switches to the new project, as its creator would in the app')
  .action(async (flags: { organization: string; name: string; user?: string }) => {
    const { name } = parseInput(ProjectName, { name: flags.name });
    await withServices(async (services) => {
      const organization = await findOrganization(services, flags.organization);
      let user: UserRow | null = null;
      if (flags.user !== undefined) {
        user = await findUser(services, flags.user, 'user');
        if ((await services.repositories.identity.membershipLevel(organization.id, user.id)) === null) {
          throw new ValidationError(`${user.email} is not a member of organization ${organization.id}.`, 'user');
        }
      }
      const { team } = await services.accounts.createProject(organization.id, name, user);
      print({ project: projectOut(team), organization: organizationOut(organization) });
    });
  });

program
  .command('create-key')
  .description("Create a personal API key for a user, with the API's rules for scopes and scoped teams/organizations. The key is printed once.")
  .requiredOption('--email <email>', 'the user who owns the key')
  .requiredOption('--scopes <scopes>', 'comma-separated scopes such as "heatmap:read,export:write", or "*" for all')
  .option('--label <label>', 'label (at most 40 characters)', 'CLI key')
  .option('--scoped-teams <ids>', 'comma-separated project ids the key is limited to (the user must be a member of each)')
  .option('--scoped-organizations <uuids>', 'comma-separated organization ids the key is limited to (the user must be a member of each)')
  .action(async (flags: { email: string; scopes: string; label: string; scopedTeams?: string; scopedOrganizations?: string }) => {
    const scopes = list(flags.scopes) ?? [];
    if (scopes.length === 0) throw new ValidationError('Give at least one scope, or * for all.', 'scopes');
    const input = parseInput(CreatePersonalApiKeyBody, {
      label: flags.label,
      scopes,
      scoped_teams: list(flags.scopedTeams),
      scoped_organizations: list(flags.scopedOrganizations),
    });
    await withServices(async (services) => {
      const user = await findUser(services, flags.email);
      print(await services.apiKeys.create(actorFor(user), input));
    });
  });

program
  .command('list-users')
  .description('List every user with their organizations and membership levels.')
  .action(async () => {
    await withServices(async (services) => {
      const { identity } = services.repositories;
      const users = await identity.listUsers();
      const out = [];
      for (const user of users) {
        const organizations = await identity.listOrganizationsForUser(user.id);
        out.push({ ...userOut(user), organizations: organizations.map((o) => organizationOut(o, o.membershipLevel)) });
      }
      print(out);
    });
  });

program
  .command('list-keys')
  .description("List a user's personal API keys (masked; key values are never shown again).")
  .requiredOption('--email <email>', 'the user')
  .action(async (flags: { email: string }) => {
    await withServices(async (services) => {
      print(await services.apiKeys.list(actorFor(await findUser(services, flags.email))));
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help/version text).
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
