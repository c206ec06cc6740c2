/**
 * The baseline bench/api/run.ts measures Burrow against: bare Fastify + a node-postgres Pool, one route doing
 * the work of GET /api/projects/@current/ by hand, on every request, with no cache:
 *
 *   1. sha256 the presented Bearer key and look it up (joined to its active user) by secure_value;
 *   2. load the user's current team with the user's membership level in its organization;
 *   3. answer the same wire fields Burrow answers (the row plus the project-setting defaults), as plain JSON.
 *
 * No schemas, no hooks, no logging, no rate limit: the cheapest honest way to serve this endpoint.
 * Environment: DATABASE_URL (required), PORT, HOST, DATABASE_POOL_SIZE (default 10, as Burrow's); the pool, the key's
 * hash, the error bodies, /_health and the shutdown are bench/lib/baseline-server.ts's.
 */
import Fastify from 'fastify';
import { authError, baselinePool, forbidden, notFound, secureValueOf, serveBaseline } from '../lib/baseline-server.js';

const pool = baselinePool();

const KEY_SQL = `
  select u.id as user_id, u.current_team_id
    from personal_api_keys k
    join users u on u.id = k.user_id
   where k.secure_value = $1 and u.is_active`;

const TEAM_SQL = `
  select t.*, m.level
    from teams t
    left join organization_memberships m on m.organization_id = t.organization_id and m.user_id = $2
   where t.id = $1`;

/** The project-setting defaults Burrow merges under a team's stored settings (src/modules/identity/contract.ts). */
const SETTING_DEFAULTS = {
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

interface TeamRow {
  id: number;
  uuid: string;
  organization_id: string;
  project_id: number;
  name: string;
  api_token: string;
  secret_api_token: string | null;
  timezone: string;
  is_demo: boolean;
  ingested_event: boolean;
  completed_snippet_onboarding: boolean;
  has_completed_onboarding_for: Record<string, boolean> | null;
  access_control: boolean;
  anonymize_ips: boolean;
  app_urls: string[];
  settings: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  level: number | null;
}

const app = Fastify({ logger: false });

app.get('/api/projects/@current/', async (request, reply) => {
  const secureValue = secureValueOf(request.headers.authorization);
  if (!secureValue) return reply.code(401).send(authError('Authentication credentials were not provided.'));

  const key = await pool.query<{ user_id: number; current_team_id: number | null }>(KEY_SQL, [secureValue]);
  const user = key.rows[0];
  if (!user) return reply.code(401).send(authError('Personal API key found in request Authorization header is invalid.'));
  if (user.current_team_id === null) return reply.code(404).send(notFound);

  const found = await pool.query<TeamRow>(TEAM_SQL, [user.current_team_id, user.user_id]);
  const t = found.rows[0];
  if (!t) return reply.code(404).send(notFound);
  if (t.level === null) return reply.code(403).send(forbidden);

  return {
    id: t.id,
    organization: t.organization_id,
    name: t.name,
    created_at: t.created_at,
    effective_membership_level: t.level,
    has_group_types: false,
    group_types: [],
    live_events_token: null,
    updated_at: t.updated_at,
    uuid: t.uuid,
    api_token: t.api_token,
    app_urls: t.app_urls,
    anonymize_ips: t.anonymize_ips,
    completed_snippet_onboarding: t.completed_snippet_onboarding,
    ingested_event: t.ingested_event,
    is_demo: t.is_demo,
    timezone: t.timezone,
    access_control: t.access_control,
    has_completed_onboarding_for: t.has_completed_onboarding_for,
    secret_api_token: t.secret_api_token,
    secret_api_token_backup: null,
    is_pending_deletion: false,
    project_id: t.project_id,
    user_access_level: t.level >= 8 ? 'admin' : 'member',
    ...SETTING_DEFAULTS,
    ...t.settings,
  };
});

await serveBaseline(app, pool);
