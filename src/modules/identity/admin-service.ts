import { MembershipLevel, type MembershipLevelValue } from '../../db/enums.js';
import type { OrganizationRow, TeamRow, UserRow } from '../../db/schema/index.js';
import { ValidationError } from '../../lib/errors.js';
import type { AccountService, NewUserInput } from './accounts.js';
import type { IdentityRepository, OrganizationWithLevel } from './repository.js';

export interface AdminServiceDeps {
  identity: Pick<
    IdentityRepository,
    'countUsers' | 'findUserByEmail' | 'findOrganizationById' | 'membershipLevel' | 'findTeam' | 'listUsers' | 'listOrganizationsForUser'
  >;
  accounts: Pick<AccountService, 'createAccount' | 'createMember' | 'createOrganization' | 'createProject'>;
}

export interface NewUserCommand extends Omit<NewUserInput, 'isStaff'> {
  staff: boolean;
  /** Join this organization at this level; without it the user gets an organization of their own, as at signup. */
  join?: { organizationId: string; level: MembershipLevelValue };
  organizationName?: string;
}

/**
 * What the command line does with accounts, addressed by email and organization id: the API's rules (the first user
 * is staff, membership checks), with the API's messages. Passwords come validated, as signup validates them first.
 */
export function createAdminService({ identity, accounts }: AdminServiceDeps) {
  async function requireUser(email: string, attr = 'email'): Promise<UserRow> {
    const user = await identity.findUserByEmail(email.trim());
    if (!user) throw new ValidationError(`There is no account with the email address ${email.trim()}.`, attr, 'not_found');
    return user;
  }

  async function requireOrganization(id: string, attr = 'organization'): Promise<OrganizationRow> {
    const organization = await identity.findOrganizationById(id.trim());
    if (!organization) throw new ValidationError(`There is no organization with the id ${id.trim()}.`, attr, 'not_found');
    return organization;
  }

  return {
    requireUser,

    async createUser(command: NewUserCommand): Promise<{ user: UserRow; organization: OrganizationRow; level: MembershipLevelValue; team: TeamRow | null }> {
      const input: NewUserInput = { ...command, isStaff: command.staff || (await identity.countUsers()) === 0 };
      if (command.join) {
        const organization = await requireOrganization(command.join.organizationId);
        const user = await accounts.createMember(input, organization.id, command.join.level);
        const team = user.currentTeamId === null ? null : ((await identity.findTeam(user.currentTeamId)) ?? null);
        return { user, organization, level: command.join.level, team };
      }
      const { user, organization, team } = await accounts.createAccount({ ...input, organizationName: command.organizationName });
      return { user, organization, level: MembershipLevel.owner, team };
    },

    async createOrganization(ownerEmail: string, name: string): Promise<{ organization: OrganizationRow; team: TeamRow; owner: UserRow }> {
      const owner = await requireUser(ownerEmail, 'owner');
      const { organization, team } = await accounts.createOrganization(owner, name);
      return { organization, team, owner };
    },

    /** A project in the organization; the user, when named, must be a member, and switches to it. */
    async createProject(organizationId: string, name: string, userEmail?: string): Promise<{ organization: OrganizationRow; team: TeamRow }> {
      const organization = await requireOrganization(organizationId);
      let user: UserRow | null = null;
      if (userEmail !== undefined) {
        user = await requireUser(userEmail, 'user');
        if ((await identity.membershipLevel(organization.id, user.id)) === null) {
          throw new ValidationError(`${user.email} is not a member of organization ${organization.id}.`, 'user');
        }
      }
      const { team } = await accounts.createProject(organization.id, name, user);
      return { organization, team };
    },

    async listUsers(): Promise<{ user: UserRow; organizations: OrganizationWithLevel[] }[]> {
      const out = [];
      for (const user of await identity.listUsers()) out.push({ user, organizations: await identity.listOrganizationsForUser(user.id) });
      return out;
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
