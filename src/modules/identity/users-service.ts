import type { Db } from '../../db/client.js';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../../lib/errors.js';
import { epochMs, fromDate } from '../../lib/time.js';
import { hashPassword, validatePassword, verifyPassword } from './passwords.js';
import { type Actor, SENSITIVE_ACTIONS_AGE_SECONDS } from './actor.js';
import type { UpdateUserInput, User } from './contract.js';
import type { SessionsRepository } from './sessions-repository.js';
import type { UserRow } from '../../db/schema/index.js';
import type { IdentityRepository } from './repository.js';
import { toUser, type UserContext } from './serializers.js';

export interface UsersServiceDeps {
  db: Pick<Db, 'transaction'>;
  identity: IdentityRepository;
  sessions: Pick<SessionsRepository, 'deleteForUserExcept' | 'markAuthenticated'>;
  onIdentityChanged: () => void;
}

const doesNotExist = (value: string, attr: string) => new ValidationError(`Object with id=${value} does not exist.`, attr, 'does_not_exist');

export function createUsersService({ db, identity, sessions, onIdentityChanged }: UsersServiceDeps) {
  async function context(user: UserRow, actor: Actor): Promise<UserContext> {
    const organizations = await identity.listOrganizationsForUser(user.id);
    const current = organizations.find((o) => o.id === user.currentOrganizationId) ?? null;
    const [teams, projects, memberCount] = current
      ? await Promise.all([
          identity.listTeamsForOrganizations([current.id]),
          identity.listProjectsForOrganizations([current.id]),
          identity.countMembers(current.id),
        ])
      : [[], [], 0];
    const team = user.currentTeamId === null ? null : ((await identity.findTeam(user.currentTeamId)) ?? null);
    const session = actor.session;
    return {
      team,
      organization: current && { row: current, teams, projects, memberCount },
      organizations,
      sensitiveSessionExpiresAt: session ? fromDate(new Date(epochMs(session.authenticatedAt) + SENSITIVE_ACTIONS_AGE_SECONDS * 1000)) : null,
    };
  }

  /** "@me" or the caller's own uuid; as in PostHog, only staff may reach other users. */
  async function target(actor: Actor, uuid: string): Promise<UserRow> {
    const self = uuid === '@me' || uuid === actor.user.uuid;
    if (!self && !actor.user.isStaff) {
      throw new PermissionDeniedError("As a non-staff user you're only allowed to access the `@me` user instance.");
    }
    const user = self ? await identity.findUserById(actor.user.id) : await identity.findUserByUuid(uuid);
    if (!user) throw new NotFoundError();
    return user;
  }

  async function switchTarget(user: UserRow, input: UpdateUserInput): Promise<Partial<UserRow>> {
    const patch: Partial<UserRow> = {};
    const organizations = await identity.listOrganizationsForUser(user.id);
    let organizationId: string | undefined;
    if (input.set_current_organization !== undefined) {
      const organization = organizations.find((o) => o.id === input.set_current_organization);
      if (!organization) throw doesNotExist(input.set_current_organization, 'set_current_organization');
      organizationId = organization.id;
      patch.currentOrganizationId = organization.id;
    }
    if (input.set_current_team !== undefined) {
      const teams = await identity.listTeamsForOrganizations(organizations.map((o) => o.id));
      const team = teams.find((t) => String(t.id) === input.set_current_team);
      if (!team) throw doesNotExist(input.set_current_team, 'set_current_team');
      if (organizationId !== undefined && team.organizationId !== organizationId) {
        throw new ValidationError('Team must belong to the same organization in set_current_organization.', 'set_current_team');
      }
      patch.currentTeamId = team.id;
      patch.currentOrganizationId = team.organizationId;
    } else if (organizationId !== undefined) {
      const [team] = await identity.listTeamsForOrganizations([organizationId]);
      patch.currentTeamId = team?.id ?? null;
    }
    return patch;
  }

  async function passwordChange(user: UserRow, input: UpdateUserInput): Promise<Partial<UserRow>> {
    if (input.password === undefined) return {};
    if (user.passwordHash !== null) {
      if (!input.current_password) {
        throw new ValidationError('This field is required when updating your password.', 'current_password', 'required');
      }
      if (!(await verifyPassword(input.current_password, user.passwordHash))) {
        throw new ValidationError('Your current password is incorrect.', 'current_password', 'incorrect_password');
      }
    }
    await validatePassword(input.password);
    return { passwordHash: await hashPassword(input.password), passwordChangedAt: new Date().toISOString() };
  }

  return {
    async retrieve(actor: Actor, uuid: string): Promise<User> {
      const user = await target(actor, uuid);
      return toUser(user, await context(user, actor));
    },

    async update(actor: Actor, uuid: string, input: UpdateUserInput): Promise<User> {
      const user = await target(actor, uuid);
      const patch: Partial<UserRow> = {
        ...(input.first_name !== undefined && { firstName: input.first_name }),
        ...(input.last_name !== undefined && { lastName: input.last_name }),
        ...(input.anonymize_data !== undefined && { anonymizeData: input.anonymize_data }),
        ...(input.toolbar_mode !== undefined && { toolbarMode: input.toolbar_mode }),
        ...(input.theme_mode !== undefined && { themeMode: input.theme_mode }),
        ...(input.hedgehog_config !== undefined && { hedgehogConfig: input.hedgehog_config }),
        ...(input.role_at_organization !== undefined && { roleAtOrganization: input.role_at_organization || null }),
        ...(input.events_column_config !== undefined && { eventsColumnConfig: input.events_column_config }),
        ...(await switchTarget(user, input)),
        ...(await passwordChange(user, input)),
      };
      if (input.email !== undefined && input.email.toLowerCase() !== user.email.toLowerCase()) {
        const email = input.email.toLowerCase();
        if (await identity.findUserByEmail(email)) {
          throw new ValidationError('There is already an account with this email address.', 'email', 'unique');
        }
        patch.email = email;
      }
      const updated = await db.transaction(async (tx) => {
        const row = Object.keys(patch).length > 0 ? await identity.updateUser(user.id, patch, tx) : user;
        if (patch.passwordHash !== undefined) {
          // Django's update_session_auth_hash: this session stays, every other one ends.
          await sessions.deleteForUserExcept(user.id, actor.session?.id ?? null, tx);
          if (actor.session) await sessions.markAuthenticated(actor.session.id, tx);
        }
        return row;
      });
      onIdentityChanged();
      return toUser(updated, await context(updated, actor));
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
