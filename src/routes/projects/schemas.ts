import { z } from 'zod';
import { DateTime, MembershipLevel, TeamBasicSchema } from '../common/schemas.js';
import { pageSchema } from '../../lib/pagination.js';

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
