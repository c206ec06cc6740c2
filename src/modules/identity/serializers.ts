import { type PropertyFilter, propertyFilterSchema } from '../../db/property-filters.js';
import { isoZ } from '../../lib/time.js';
import type { ProjectRow, TeamRow, UserBasicRow, UserRow } from '../../db/schema/index.js';
import {
  type Organization,
  type OrganizationBasic,
  PROJECT_SETTING_DEFAULTS,
  type Project,
  type ProjectBasic,
  type ProjectSettings,
  type TeamBasic,
  type User,
  type UserBasic,
} from './contract.js';
import type { OrganizationWithLevel } from './repository.js';

/** Wire shapes of PostHog's identity serializers, built from rows. */

type Role = UserBasic['role_at_organization'];

export const toUserBasic = (user: UserBasicRow): UserBasic => ({
  id: user.id,
  uuid: user.uuid,
  distinct_id: user.distinctId,
  first_name: user.firstName,
  last_name: user.lastName,
  email: user.email,
  is_email_verified: user.isEmailVerified,
  hedgehog_config: user.hedgehogConfig ?? null,
  role_at_organization: (user.roleAtOrganization ?? null) as Role,
});

export const toTeamBasic = (team: TeamRow): TeamBasic => ({
  id: team.id,
  uuid: team.uuid,
  organization: team.organizationId,
  project_id: team.projectId,
  api_token: team.apiToken,
  name: team.name,
  completed_snippet_onboarding: team.completedSnippetOnboarding,
  has_completed_onboarding_for: team.hasCompletedOnboardingFor ?? null,
  ingested_event: team.ingestedEvent,
  is_demo: team.isDemo,
  timezone: team.timezone,
  access_control: team.accessControl,
});

export const toOrganizationBasic = (organization: OrganizationWithLevel): OrganizationBasic => ({
  id: organization.id,
  name: organization.name,
  slug: organization.slug,
  logo_media_id: organization.logoMediaId,
  membership_level: organization.membershipLevel,
  members_can_use_personal_api_keys: organization.membersCanUsePersonalApiKeys,
  is_active: organization.isActive,
  is_not_active_reason: organization.isNotActiveReason,
  is_pending_deletion: false,
});

export const toOrganization = (
  organization: OrganizationWithLevel,
  related: { teams: TeamRow[]; projects: ProjectRow[]; memberCount: number },
): Organization => ({
  id: organization.id,
  name: organization.name,
  slug: organization.slug,
  logo_media_id: organization.logoMediaId,
  created_at: isoZ(organization.createdAt),
  updated_at: isoZ(organization.updatedAt),
  membership_level: organization.membershipLevel,
  // Self-hosted PostHog grants the root plugin level.
  plugins_access_level: 9,
  teams: related.teams.map(toTeamBasic),
  projects: related.projects.map((p) => ({ id: p.id, organization_id: p.organizationId, name: p.name })),
  available_product_features: organization.availableProductFeatures,
  is_member_join_email_enabled: true,
  metadata: { instance_tag: 'none' },
  customer_id: null,
  enforce_2fa: null,
  members_can_invite: true,
  members_can_use_personal_api_keys: organization.membersCanUsePersonalApiKeys,
  allow_publicly_shared_resources: organization.allowPubliclySharedResources,
  member_count: related.memberCount,
  is_ai_data_processing_approved: null,
  default_experiment_stats_method: 'bayesian',
  default_anonymize_ips: false,
  default_role_id: null,
  is_active: organization.isActive,
  is_not_active_reason: organization.isNotActiveReason,
});

/** A project's list entry is its first team's, without project_id (the two ids are equal). */
export function toProjectBasic(team: TeamRow): ProjectBasic {
  const { project_id: _projectId, ...basic } = toTeamBasic(team);
  return basic;
}

export function projectSettings(team: TeamRow): ProjectSettings {
  return { ...PROJECT_SETTING_DEFAULTS, ...(team.settings as Partial<ProjectSettings>) };
}

/** The project's test_account_filters that are property filters Burrow reads; others are left out. */
export function testAccountFilters(team: TeamRow): PropertyFilter[] {
  return projectSettings(team).test_account_filters.flatMap((raw) => {
    const parsed = propertyFilterSchema.safeParse(raw);
    return parsed.success ? [parsed.data] : [];
  });
}

export const toProject = (team: TeamRow, membershipLevel: 1 | 8 | 15 | null): Project => ({
  id: team.id,
  organization: team.organizationId,
  name: team.name,
  created_at: isoZ(team.createdAt),
  effective_membership_level: membershipLevel,
  has_group_types: false,
  group_types: [],
  live_events_token: null,
  updated_at: isoZ(team.updatedAt),
  uuid: team.uuid,
  api_token: team.apiToken,
  app_urls: team.appUrls,
  anonymize_ips: team.anonymizeIps,
  completed_snippet_onboarding: team.completedSnippetOnboarding,
  ingested_event: team.ingestedEvent,
  is_demo: team.isDemo,
  timezone: team.timezone,
  access_control: team.accessControl,
  has_completed_onboarding_for: team.hasCompletedOnboardingFor ?? null,
  secret_api_token: team.secretApiToken,
  secret_api_token_backup: null,
  is_pending_deletion: false,
  project_id: team.projectId,
  user_access_level: membershipLevel === null ? 'none' : membershipLevel >= 8 ? 'admin' : 'member',
  ...projectSettings(team),
});

export interface UserContext {
  team: TeamRow | null;
  organization: { row: OrganizationWithLevel; teams: TeamRow[]; projects: ProjectRow[]; memberCount: number } | null;
  organizations: OrganizationWithLevel[];
  /** When the session's sensitive-action window closes, for session callers. */
  sensitiveSessionExpiresAt: string | null;
}

export const toUser = (user: UserRow, context: UserContext): User => ({
  date_joined: isoZ(user.dateJoined),
  uuid: user.uuid,
  distinct_id: user.distinctId,
  first_name: user.firstName,
  last_name: user.lastName,
  email: user.email,
  pending_email: null,
  is_email_verified: user.isEmailVerified,
  notification_settings: { plugin_disabled: true, all_weekly_report_disabled: false, project_weekly_digest_disabled: {} },
  anonymize_data: user.anonymizeData,
  allow_impersonation: true,
  toolbar_mode: user.toolbarMode as User['toolbar_mode'],
  has_password: user.passwordHash !== null,
  id: user.id,
  is_staff: user.isStaff,
  is_impersonated: false,
  is_impersonated_until: null,
  is_impersonated_read_only: false,
  sensitive_session_expires_at: context.sensitiveSessionExpiresAt,
  team: context.team && toTeamBasic(context.team),
  organization: context.organization && toOrganization(context.organization.row, context.organization),
  organizations: context.organizations.map(toOrganizationBasic),
  events_column_config: user.eventsColumnConfig,
  is_2fa_enabled: false,
  has_social_auth: false,
  has_sso_enforcement: false,
  has_seen_product_intro_for: null,
  scene_personalisation: [],
  theme_mode: user.themeMode as User['theme_mode'],
  hedgehog_config: user.hedgehogConfig ?? null,
  allow_sidebar_suggestions: null,
  shortcut_position: null,
  role_at_organization: (user.roleAtOrganization ?? null) as Role,
  passkeys_enabled_for_2fa: null,
});
