import { MembershipLevel } from '../../db/enums.js';
import type { TeamRow } from '../../db/schema/index.js';
import { NotFoundError, PermissionDeniedError } from '../../lib/errors.js';
import type { PageParams } from '../../lib/wire.js';
import type { Actor } from './actor.js';
import { type Project, type ProjectBasic, type ProjectInput, PROJECT_SETTING_DEFAULTS, type TeamBasic } from './contract.js';
import { type AccountService, DEFAULT_PROJECT_NAME } from './accounts.js';
import { INSUFFICIENT_ORGANIZATION_LEVEL } from './organizations-service.js';
import type { IdentityRepository, OrganizationWithLevel, TeamAccess } from './repository.js';
import { toProject, toProjectBasic, toTeamBasic } from './serializers.js';
import { checkTimeZone } from '../../lib/time-zones.js';

export interface ProjectsServiceDeps {
  identity: IdentityRepository;
  accounts: Pick<AccountService, 'createProject'>;
  onIdentityChanged: () => void;
}

const SETTING_KEYS = Object.keys(PROJECT_SETTING_DEFAULTS) as (keyof typeof PROJECT_SETTING_DEFAULTS)[];

function teamPatch(team: TeamRow | null, input: ProjectInput): Partial<TeamRow> {
  checkTimeZone(input.timezone);
  const settings: Record<string, unknown> = { ...(team ? team.settings : {}) };
  let settingsChanged = false;
  for (const key of SETTING_KEYS) {
    if (input[key] !== undefined) {
      settings[key] = input[key];
      settingsChanged = true;
    }
  }
  return {
    ...(input.name !== undefined && { name: input.name }),
    ...(input.app_urls !== undefined && { appUrls: input.app_urls }),
    ...(input.anonymize_ips !== undefined && { anonymizeIps: input.anonymize_ips }),
    ...(input.timezone !== undefined && { timezone: input.timezone }),
    ...(input.completed_snippet_onboarding !== undefined && { completedSnippetOnboarding: input.completed_snippet_onboarding }),
    ...(input.has_completed_onboarding_for !== undefined && { hasCompletedOnboardingFor: input.has_completed_onboarding_for }),
    ...(settingsChanged && { settings }),
  };
}

/** /api/projects/ (a project shares its id with its team) and /api/environments/ (the teams themselves). */
export function createProjectsService({ identity, accounts, onIdentityChanged }: ProjectsServiceDeps) {
  async function visibleTeams(actor: Actor): Promise<TeamRow[]> {
    const organizations = await identity.listOrganizationsForUser(actor.user.id);
    return identity.listTeamsForOrganizations(organizations.map((o) => o.id));
  }

  return {
    async list(actor: Actor, page: PageParams): Promise<{ count: number; results: ProjectBasic[] }> {
      const teams = (await visibleTeams(actor)).filter((t) => t.id === t.projectId);
      return { count: teams.length, results: teams.slice(page.offset, page.offset + page.limit).map(toProjectBasic) };
    },

    async listForOrganization(organization: OrganizationWithLevel, page: PageParams): Promise<{ count: number; results: ProjectBasic[] }> {
      const teams = (await identity.listTeamsForOrganizations([organization.id])).filter((t) => t.id === t.projectId);
      return { count: teams.length, results: teams.slice(page.offset, page.offset + page.limit).map(toProjectBasic) };
    },

    async listEnvironments(actor: Actor, page: PageParams): Promise<{ count: number; results: TeamBasic[] }> {
      const teams = await visibleTeams(actor);
      return { count: teams.length, results: teams.slice(page.offset, page.offset + page.limit).map(toTeamBasic) };
    },

    retrieve(access: TeamAccess): Project {
      return toProject(access.team, access.membershipLevel);
    },

    async create(actor: Actor, organization: OrganizationWithLevel, input: ProjectInput): Promise<Project> {
      if ((organization.membershipLevel ?? 0) < MembershipLevel.admin) throw new PermissionDeniedError(INSUFFICIENT_ORGANIZATION_LEVEL);
      const { team } = await accounts.createProject(organization.id, input.name ?? DEFAULT_PROJECT_NAME, actor.user, teamPatch(null, input));
      onIdentityChanged();
      return toProject(team, organization.membershipLevel);
    },

    async update(access: TeamAccess, input: ProjectInput): Promise<Project> {
      const team = await identity.findTeam(access.team.id);
      if (!team) throw new NotFoundError('Project not found.');
      const patch = teamPatch(team, input);
      const saved = Object.keys(patch).length > 0 ? await identity.updateTeam(team.id, patch) : team;
      if (input.name !== undefined && team.id === team.projectId) await identity.renameProject(team.projectId, input.name);
      onIdentityChanged();
      return toProject(saved, access.membershipLevel);
    },
  };
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
