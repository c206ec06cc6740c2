import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { ValidationError } from '../../lib/errors.js';
import { newProjectApiToken, newSecretApiToken, newUuid, randomToken } from '../../lib/ids.js';
import { hashPassword } from './passwords.js';
import { MembershipLevel, type MembershipLevelValue } from '../../db/enums.js';
import type { OrganizationRow, ProjectRow, TeamRow, UserRow } from '../../db/schema/index.js';
import type { IdentityRepository } from './repository.js';

export const DEFAULT_PROJECT_NAME = 'Default project';

export interface NewUserInput {
  email: string;
  /** null gives a user who cannot log in with a password (API keys only). */
  password: string | null;
  firstName: string;
  lastName?: string;
  roleAtOrganization?: string | null;
  isStaff?: boolean;
}

export interface AccountServiceDeps {
  db: Pick<Db, 'transaction'>;
  identity: IdentityRepository;
}

/**
 * The one way users, organizations and projects come into being: signup, first-run bootstrap, the CLI and the
 * organizations/projects endpoints all go through here, so every path creates the same rows.
 */
export function createAccountService({ db, identity }: AccountServiceDeps) {
  async function uniqueSlug(name: string, tx: Db): Promise<string> {
    const base = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'organization';
    let slug = base;
    while (await identity.slugExists(slug, tx)) slug = `${base}-${randomBytes(3).toString('hex')}`;
    return slug;
  }

  async function insertUser(input: NewUserInput, tx: Db): Promise<UserRow> {
    const email = input.email.trim().toLowerCase();
    if (await identity.findUserByEmail(email, tx)) {
      throw new ValidationError('There is already an account with this email address.', 'email', 'unique');
    }
    return identity.insertUser(
      {
        uuid: newUuid(),
        distinctId: randomToken(32),
        email,
        firstName: input.firstName,
        lastName: input.lastName ?? '',
        passwordHash: input.password === null ? null : await hashPassword(input.password),
        roleAtOrganization: input.roleAtOrganization || null,
        isStaff: input.isStaff ?? false,
        isEmailVerified: false,
      },
      tx,
    );
  }

  async function insertProject(organizationId: string, name: string, tx: Db): Promise<{ project: ProjectRow; team: TeamRow }> {
    return identity.insertProjectWithTeam(
      { organizationId, name, teamUuid: newUuid(), apiToken: newProjectApiToken(), secretApiToken: newSecretApiToken() },
      tx,
    );
  }

  /** An organization with its default project; the user becomes its owner and switches to it. */
  async function insertOrganization(user: UserRow, name: string, tx: Db): Promise<{ organization: OrganizationRow; team: TeamRow; user: UserRow }> {
    let organization: OrganizationRow | undefined;
    // A concurrent request may take the free slug between the check and the insert: then take the next free one.
    while (!organization) organization = await identity.insertOrganization({ id: newUuid(), name, slug: await uniqueSlug(name, tx) }, tx);
    await identity.insertMembership({ id: newUuid(), organizationId: organization.id, userId: user.id, level: MembershipLevel.owner }, tx);
    const { team } = await insertProject(organization.id, DEFAULT_PROJECT_NAME, tx);
    const updated = await identity.updateUser(user.id, { currentOrganizationId: organization.id, currentTeamId: team.id }, tx);
    return { organization, team, user: updated };
  }

  return {
    /** Signup and bootstrap: a user, their organization and its default project, in one transaction. */
    createAccount(input: NewUserInput & { organizationName?: string }) {
      return db.transaction(async (tx) => {
        const user = await insertUser(input, tx);
        const organizationName = input.organizationName?.trim() || `${input.firstName}'s Organization`;
        return insertOrganization(user, organizationName.slice(0, 64), tx);
      });
    },

    createOrganization(user: UserRow, name: string) {
      return db.transaction((tx) => insertOrganization(user, name, tx));
    },

    /** A project in an organization, with initial team settings; the creating user switches to it, as PostHog does. */
    createProject(organizationId: string, name: string, switchUser: UserRow | null, settings: Partial<TeamRow> = {}) {
      return db.transaction(async (tx) => {
        const created = await insertProject(organizationId, name, tx);
        const team = Object.keys(settings).length > 0 ? await identity.updateTeam(created.team.id, settings, tx) : created.team;
        if (switchUser) {
          await identity.updateUser(switchUser.id, { currentOrganizationId: organizationId, currentTeamId: team.id }, tx);
        }
        return { project: created.project, team };
      });
    },

    /** A user who joins an existing organization (CLI). */
    createMember(input: NewUserInput, organizationId: string, level: MembershipLevelValue) {
      return db.transaction(async (tx) => {
        const user = await insertUser(input, tx);
        await identity.insertMembership({ id: newUuid(), organizationId, userId: user.id, level }, tx);
        const [team] = await identity.listTeamsForOrganizations([organizationId], tx);
        return identity.updateUser(user.id, { currentOrganizationId: organizationId, currentTeamId: team?.id ?? null }, tx);
      });
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
