import { z } from 'zod';
import { DateTime, Email, pageSchema } from '../../lib/wire.js';

/** The identity area's wire contract: users, organizations, projects and the basic shapes other areas embed. */

export const MembershipLevel = z.union([z.literal(1), z.literal(8), z.literal(15)]).meta({
  description: '1 member, 8 admin, 15 owner',
});

export const RoleAtOrganization = z.enum(['engineering', 'data', 'product', 'founder', 'leadership', 'marketing', 'sales', 'other']);

export const UserBasicSchema = z
  .object({
    id: z.number().int(),
    uuid: z.uuid(),
    distinct_id: z.string().nullable(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string(),
    is_email_verified: z.boolean().nullable(),
    hedgehog_config: z.record(z.string(), z.unknown()).nullable(),
    role_at_organization: z.union([RoleAtOrganization, z.literal(''), z.null()]),
  })
  .meta({ id: 'UserBasic' });

export const TeamBasicSchema = z
  .object({
    id: z.number().int(),
    uuid: z.uuid(),
    organization: z.uuid(),
    project_id: z.number().int(),
    api_token: z.string(),
    name: z.string(),
    completed_snippet_onboarding: z.boolean(),
    has_completed_onboarding_for: z.record(z.string(), z.boolean()).nullable(),
    ingested_event: z.boolean(),
    is_demo: z.boolean(),
    timezone: z.string(),
    access_control: z.boolean(),
  })
  .meta({ id: 'TeamBasic' });

export const OrganizationBasicSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    logo_media_id: z.uuid().nullable(),
    membership_level: MembershipLevel.nullable(),
    members_can_use_personal_api_keys: z.boolean(),
    is_active: z.boolean().nullable(),
    is_not_active_reason: z.string().nullable(),
    is_pending_deletion: z.boolean().nullable(),
  })
  .meta({ id: 'OrganizationBasic' });

export type UserBasic = z.infer<typeof UserBasicSchema>;
export type TeamBasic = z.infer<typeof TeamBasicSchema>;
export type OrganizationBasic = z.infer<typeof OrganizationBasicSchema>;

export const OrganizationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    logo_media_id: z.uuid().nullable(),
    created_at: DateTime,
    updated_at: DateTime,
    membership_level: MembershipLevel.nullable(),
    plugins_access_level: z.union([z.literal(0), z.literal(3), z.literal(6), z.literal(9)]),
    teams: z.array(TeamBasicSchema),
    projects: z.array(z.object({ id: z.number().int(), organization_id: z.uuid(), name: z.string() })),
    available_product_features: z.array(z.unknown()).nullable(),
    is_member_join_email_enabled: z.boolean(),
    metadata: z.object({ instance_tag: z.string() }),
    customer_id: z.string().nullable(),
    enforce_2fa: z.boolean().nullable(),
    members_can_invite: z.boolean().nullable(),
    members_can_use_personal_api_keys: z.boolean(),
    allow_publicly_shared_resources: z.boolean(),
    member_count: z.number().int(),
    is_ai_data_processing_approved: z.boolean().nullable(),
    default_experiment_stats_method: z.enum(['bayesian', 'frequentist']).nullable(),
    default_anonymize_ips: z.boolean(),
    default_role_id: z.string().nullable(),
    is_active: z.boolean().nullable(),
    is_not_active_reason: z.string().nullable(),
  })
  .meta({ id: 'Organization' });

export const OrganizationListSchema = pageSchema(OrganizationSchema).meta({ id: 'PaginatedOrganizationList' });

export const CreateOrganizationBody = z.object({
  name: z.string().min(1).max(64),
});

export const UpdateOrganizationBody = z
  .object({
    name: z.string().min(1).max(64),
    members_can_use_personal_api_keys: z.boolean(),
    allow_publicly_shared_resources: z.boolean().meta({ description: 'When false, share links stop working and cannot be turned on' }),
  })
  .partial();

export const OrganizationParams = z.object({ id: z.string().meta({ description: 'An organization UUID, or @current' }) });

export type Organization = z.infer<typeof OrganizationSchema>;
export type CreateOrganizationInput = z.infer<typeof CreateOrganizationBody>;
export type UpdateOrganizationInput = z.infer<typeof UpdateOrganizationBody>;

/** Project settings PostHog's web app reads; stored per team and returned with these defaults. */
export const ProjectSettingsSchema = z.object({
  product_description: z.string().max(1000).nullable(),
  test_account_filters: z.array(z.unknown()),
  test_account_filters_default_checked: z.boolean().nullable(),
  path_cleaning_filters: z.array(z.unknown()).nullable(),
  data_attributes: z.array(z.string()),
  person_display_name_properties: z.array(z.string()).nullable(),
  correlation_config: z.record(z.string(), z.unknown()).nullable(),
  autocapture_opt_out: z.boolean().nullable(),
  autocapture_exceptions_opt_in: z.boolean().nullable(),
  autocapture_web_vitals_opt_in: z.boolean().nullable(),
  capture_console_log_opt_in: z.boolean().nullable(),
  capture_performance_opt_in: z.boolean().nullable(),
  capture_dead_clicks: z.boolean().nullable(),
  session_recording_opt_in: z.boolean(),
  session_recording_sample_rate: z.string().nullable(),
  session_recording_minimum_duration_milliseconds: z.number().int().nullable(),
  session_recording_linked_flag: z.record(z.string(), z.unknown()).nullable(),
  session_recording_network_payload_capture_config: z.record(z.string(), z.unknown()).nullable(),
  session_replay_config: z.record(z.string(), z.unknown()).nullable(),
  session_recording_retention_period: z.enum(['30d', '90d', '1y', '5y']),
  survey_config: z.record(z.string(), z.unknown()).nullable(),
  week_start_day: z.union([z.literal(0), z.literal(1)]).nullable(),
  primary_dashboard: z.number().int().nullable(),
  live_events_columns: z.array(z.string()).nullable(),
  recording_domains: z.array(z.string()).nullable(),
  inject_web_apps: z.boolean().nullable(),
  extra_settings: z.record(z.string(), z.unknown()).nullable(),
  modifiers: z.record(z.string(), z.unknown()).nullable(),
  surveys_opt_in: z.boolean().nullable(),
  heatmaps_opt_in: z.boolean().nullable(),
  session_recording_remote_assets_opt_in: z
    .boolean()
    .meta({ description: "Burrow's extension: the player may load a recorded page's images, fonts and styles from the recorded site's hosts" }),
  flags_persistence_default: z.boolean().nullable(),
  base_currency: z.string().max(3),
});

export type ProjectSettings = z.infer<typeof ProjectSettingsSchema>;

export const PROJECT_SETTING_DEFAULTS: ProjectSettings = {
  product_description: null,
  test_account_filters: [],
  test_account_filters_default_checked: null,
  path_cleaning_filters: [],
  data_attributes: ['data-attr'],
  person_display_name_properties: null,
  correlation_config: {},
  autocapture_opt_out: null,
  autocapture_exceptions_opt_in: null,
  autocapture_web_vitals_opt_in: null,
  capture_console_log_opt_in: null,
  capture_performance_opt_in: null,
  capture_dead_clicks: false,
  session_recording_opt_in: false,
  session_recording_sample_rate: null,
  session_recording_minimum_duration_milliseconds: null,
  session_recording_linked_flag: null,
  session_recording_network_payload_capture_config: null,
  session_replay_config: null,
  session_recording_retention_period: '30d',
  survey_config: null,
  week_start_day: null,
  primary_dashboard: null,
  live_events_columns: null,
  recording_domains: null,
  inject_web_apps: null,
  extra_settings: null,
  modifiers: null,
  surveys_opt_in: null,
  heatmaps_opt_in: null,
  session_recording_remote_assets_opt_in: false,
  flags_persistence_default: false,
  base_currency: 'USD',
};

/** ProjectBackwardCompatBasicSerializer, the list items of /api/projects/: TeamBasic without project_id. */
export const ProjectBasicSchema = TeamBasicSchema.omit({ project_id: true }).meta({ id: 'ProjectBasic' });

/** ProjectBackwardCompatSerializer (retrieve, create, patch of /api/projects/) and TeamSerializer (/api/environments/:id/). */
export const ProjectSchema = z
  .object({
    id: z.number().int(),
    organization: z.uuid(),
    name: z.string(),
    created_at: DateTime,
    effective_membership_level: MembershipLevel.nullable(),
    has_group_types: z.boolean(),
    group_types: z.array(z.unknown()),
    live_events_token: z.string().nullable(),
    updated_at: DateTime,
    uuid: z.uuid(),
    api_token: z.string(),
    app_urls: z.array(z.string()),
    anonymize_ips: z.boolean(),
    completed_snippet_onboarding: z.boolean(),
    ingested_event: z.boolean(),
    is_demo: z.boolean(),
    timezone: z.string(),
    access_control: z.boolean(),
    has_completed_onboarding_for: z.record(z.string(), z.boolean()).nullable(),
    secret_api_token: z.string().nullable(),
    secret_api_token_backup: z.string().nullable(),
    is_pending_deletion: z.boolean().nullable(),
    project_id: z.number().int(),
    user_access_level: z.enum(['none', 'member', 'admin']),
    ...ProjectSettingsSchema.shape,
  })
  .meta({ id: 'Project' });

export const ProjectListSchema = pageSchema(ProjectBasicSchema).meta({ id: 'PaginatedProjectBasicList' });

const editable = {
  name: z.string().min(1).max(200),
  app_urls: z.array(z.string().max(200)),
  anonymize_ips: z.boolean(),
  timezone: z.string().min(1).max(240),
  completed_snippet_onboarding: z.boolean(),
  has_completed_onboarding_for: z.record(z.string(), z.boolean()).nullable(),
  ...ProjectSettingsSchema.shape,
};

export const CreateProjectBody = z.object(editable).partial();
export const UpdateProjectBody = z.object(editable).partial();

export const ProjectParams = z.object({ id: z.string().meta({ description: 'A project id, or @current' }) });

export type Project = z.infer<typeof ProjectSchema>;
export type ProjectBasic = z.infer<typeof ProjectBasicSchema>;
export type ProjectInput = z.infer<typeof UpdateProjectBody>;

/** PostHog's UserSerializer, in its field order (write-only fields omitted). */
export const UserSchema = z
  .object({
    date_joined: DateTime,
    uuid: z.uuid(),
    distinct_id: z.string().nullable(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string(),
    pending_email: z.string().nullable(),
    is_email_verified: z.boolean().nullable(),
    notification_settings: z.record(z.string(), z.unknown()),
    anonymize_data: z.boolean().nullable(),
    allow_impersonation: z.boolean().nullable(),
    toolbar_mode: z.enum(['disabled', 'toolbar', '']).nullable(),
    has_password: z.boolean(),
    id: z.number().int(),
    is_staff: z.boolean(),
    is_impersonated: z.boolean().nullable(),
    is_impersonated_until: z.string().nullable(),
    is_impersonated_read_only: z.boolean().nullable(),
    sensitive_session_expires_at: z.string().nullable(),
    team: TeamBasicSchema.nullable(),
    organization: OrganizationSchema.nullable(),
    organizations: z.array(OrganizationBasicSchema),
    events_column_config: z.unknown(),
    is_2fa_enabled: z.boolean(),
    has_social_auth: z.boolean(),
    has_sso_enforcement: z.boolean(),
    has_seen_product_intro_for: z.record(z.string(), z.unknown()).nullable(),
    scene_personalisation: z.array(z.object({ scene: z.string(), dashboard: z.number().int().nullable() })),
    theme_mode: z.enum(['light', 'dark', 'system', '']).nullable(),
    hedgehog_config: z.record(z.string(), z.unknown()).nullable(),
    allow_sidebar_suggestions: z.boolean().nullable(),
    shortcut_position: z.enum(['above', 'below', 'hidden', '']).nullable(),
    role_at_organization: z.union([RoleAtOrganization, z.literal(''), z.null()]),
    passkeys_enabled_for_2fa: z.boolean().nullable(),
  })
  .meta({ id: 'User' });

export const UpdateUserBody = z
  .object({
    first_name: z.string().max(150),
    last_name: z.string().max(150),
    email: Email.max(254),
    password: z.string().max(128),
    current_password: z.string().max(128),
    set_current_organization: z.string(),
    set_current_team: z.string(),
    anonymize_data: z.boolean().nullable(),
    toolbar_mode: z.enum(['disabled', 'toolbar', '']).nullable(),
    theme_mode: z.enum(['light', 'dark', 'system', '']).nullable(),
    hedgehog_config: z.record(z.string(), z.unknown()).nullable(),
    role_at_organization: z.union([RoleAtOrganization, z.literal('')]),
    // A JSONField without null=True: null is refused, as DRF's serializer does.
    events_column_config: z.unknown().refine((value) => value !== null, { message: 'This field may not be null.', params: { code: 'null' } }),
  })
  .partial();

export const UserParams = z.object({ uuid: z.string().meta({ description: '@me, or your own user UUID' }) });

export type User = z.infer<typeof UserSchema>;
export type UpdateUserInput = z.infer<typeof UpdateUserBody>;
