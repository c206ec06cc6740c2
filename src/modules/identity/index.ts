import type { Db } from '../../db/client.js';
import type { Signal } from '../../lib/signal.js';
import { createAccountService } from './accounts.js';
import { createAdminService } from './admin-service.js';
import { createOrganizationsService } from './organizations-service.js';
import { createProjectsService } from './projects-service.js';
import { createIdentityRepository } from './repository.js';
import { identityRoutes } from './routes.js';
import { createSessionsRepository } from './sessions-repository.js';
import { createUsersService } from './users-service.js';

export type { Actor } from './actor.js';
export { SENSITIVE_ACTIONS_AGE_SECONDS } from './actor.js';
export type { AccountService, NewUserInput } from './accounts.js';
export type { AdminService, NewUserCommand } from './admin-service.js';
export { CreateOrganizationBody, CreateProjectBody, RoleAtOrganization, type UserBasic, UserBasicSchema } from './contract.js';
export { hashPassword, UNUSABLE_PASSWORD, validatePassword, verifyPassword } from './passwords.js';
export type { OrganizationWithLevel, TeamAccess } from './repository.js';
export type { ProjectSettings } from './contract.js';
export { projectSettings, testAccountFilters, toUserBasic } from './serializers.js';
export type { UsersService } from './users-service.js';
export type { ProjectsService } from './projects-service.js';

export interface IdentityModuleDeps {
  db: Db;
  /** Notified after users, organizations or projects change, so cached access checks are dropped. */
  identityChanged: Signal;
}

/** Users, organizations, projects and browser sessions: who exists, and who belongs where. */
export function createIdentityModule({ db, identityChanged }: IdentityModuleDeps) {
  const identity = createIdentityRepository(db);
  const sessions = createSessionsRepository(db);
  const accounts = createAccountService({ db, identity });
  const onIdentityChanged = () => identityChanged.notify();
  const users = createUsersService({ db, identity, sessions, onIdentityChanged });
  const organizations = createOrganizationsService({ identity, accounts, onIdentityChanged });
  const projects = createProjectsService({ identity, accounts, onIdentityChanged });

  return {
    routes: identityRoutes({ users, organizations, projects }),
    accounts,
    admin: createAdminService({ identity, accounts }),
    /** users/@me and the project shapes, for the web app's preloaded context (modules/webapp). */
    users,
    projects,
    /** Lookups other areas need about users, teams and organizations. */
    directory: identity as Pick<
      typeof identity,
      | 'countUsers'
      | 'findUserById'
      | 'findUserByEmail'
      | 'findTeamAccess'
      | 'findTeamByApiToken'
      | 'findOrganizationForUser'
      | 'listOrganizationsForUser'
      | 'listTeamsForOrganizations'
      | 'updateUser'
    >,
    sessions: sessions as Pick<typeof sessions, 'insert' | 'findActive' | 'delete' | 'deleteExpired'>,
  };
}

export type IdentityModule = ReturnType<typeof createIdentityModule>;
