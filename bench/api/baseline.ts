/**
 * The baseline bench/api/run.ts measures Burrow against: a lean hand-written server. Bare Fastify and a node-postgres
 * Pool of the same size, named (prepared) statements, no cache, no schemas, no hooks, no logging. Every request:
 *
 *   1. sha256 the presented Bearer key and, in one statement, look it up with its active user, the requested team and
 *      the user's membership level in the team's organization (401, 404, 403 as Burrow answers them);
 *   2. run the team-scoped query of the endpoint (a page with its total as a window count, the creators joined);
 *   3. map the rows to the same wire fields Burrow answers, and JSON.stringify them.
 *
 * Routes: GET /api/projects/@current/, and under /api/projects/:team/ persisted_folder/, file_system/ (parent, depth,
 * limit, offset) and saved/ (saved heatmaps, the default order). Only what the bench asks is implemented: no other
 * filters, and past the last row a page's count is lost (the bench never asks for one).
 *
 * Environment: DATABASE_URL (required), PORT, HOST, DATABASE_POOL_SIZE (default 10, as Burrow's); the pool, the key's
 * hash, the error bodies, /_health and the shutdown are bench/lib/baseline-server.ts's.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import pg from 'pg';
import { isoZ } from '../../src/lib/time.js';
import { authError, baselinePool, forbidden, notFound, secureValueOf, serveBaseline } from '../lib/baseline-server.js';

const TIMESTAMPTZ_OID = 1184;

// Timestamps as Postgres prints them in UTC (as Burrow reads them), for isoZ: PostHog's six fraction digits.
const pool = baselinePool({
  options: '-c TimeZone=UTC',
  types: { getTypeParser: (oid, format) => (oid === TIMESTAMPTZ_OID ? (text: string) => text : pg.types.getTypeParser(oid, format)) } as pg.CustomTypesConfig,
});

const KEY_AND_TEAM = `
  select u.id as user_id, t.id as team_id, t.project_id, t.organization_id, m.level
    from personal_api_keys k
    join users u on u.id = k.user_id and u.is_active
    left join teams t on t.id = $2
    left join organization_memberships m on m.organization_id = t.organization_id and m.user_id = u.id
   where k.secure_value = $1`;

const KEY_AND_CURRENT_TEAM = `
  select u.id as user_id, t.*, m.level
    from personal_api_keys k
    join users u on u.id = k.user_id and u.is_active
    left join teams t on t.id = u.current_team_id
    left join organization_memberships m on m.organization_id = t.organization_id and m.user_id = u.id
   where k.secure_value = $1`;

const USER_BASIC = `u.id as u_id, u.uuid as u_uuid, u.distinct_id as u_distinct_id, u.first_name as u_first_name, u.last_name as u_last_name,
       u.email as u_email, u.is_email_verified as u_is_email_verified, u.hedgehog_config as u_hedgehog_config,
       u.role_at_organization as u_role_at_organization`;

const PERSISTED_FOLDERS = `
  select id, type, protocol, path, created_at, updated_at, count(*) over () as total
    from persisted_folders
   where team_id = $1 and user_id = $2 and surface = 'web'
   order by lower(type), id
   limit $3 offset $4`;

const FILE_SYSTEM_CHILDREN = `
  select f.id, f.path, f.depth, f.type, f.ref, f.href, f.meta, f.shortcut, f.created_at, ${USER_BASIC}, count(*) over () as total
    from file_system f
    left join users u on u.id = f.created_by_id
   where f.project_id = $1 and f.surface = 'web' and (f.type not like 'hog\\_function/%' or f.team_id = $2)
     and f.depth = $3 and f.path like $4
   order by (f.type = 'folder') desc, lower(f.path), f.id
   limit $5 offset $6`;

const MEMBERS_BY_ID = `
  select ${USER_BASIC}
    from users u
   where u.id = any($1::int[]) and exists (select 1 from organization_memberships m where m.user_id = u.id and m.organization_id = $2)
   order by u.id`;

const SAVED_HEATMAPS = `
  select h.id, h.short_id, h.name, h.url, h.data_url, h.target_widths, h.type, h.status, h.deleted, h.block_consent_modals,
         h.created_at, h.updated_at, h.exception, ${USER_BASIC}, count(*) over () as total,
         (select coalesce(json_agg(json_build_object('width', s.width, 'has_content',
                   (s.content is not null and length(s.content) > 0) or coalesce(s.content_location, '') <> '') order by s.width), '[]')
            from heatmap_snapshots s where s.heatmap_id = h.id) as snapshots
    from saved_heatmaps h
    left join users u on u.id = h.created_by_id
   where h.team_id = $1 and not h.deleted
   order by h.updated_at desc, h.id
   limit $2 offset $3`;

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
  flags_persistence_default: false,
  base_currency: 'USD',
};

type Row = Record<string, unknown>;

/** Runs a named statement: Postgres parses and plans it once per connection. */
async function rows<T extends Row>(name: string, text: string, values: unknown[]): Promise<T[]> {
  return (await pool.query<T>({ name, text, values })).rows;
}

interface TeamAccess {
  userId: number;
  teamId: number;
  projectId: number;
  organizationId: string;
}

/** The caller and the team of the path, in one statement; answers null once it has answered the error itself. */
async function teamAccess(request: FastifyRequest<{ Params: { team: string } }>, reply: FastifyReply): Promise<TeamAccess | null> {
  const secureValue = secureValueOf(request.headers.authorization);
  if (!secureValue) {
    await reply.code(401).send(authError('Authentication credentials were not provided.'));
    return null;
  }
  const teamId = /^\d{1,9}$/.test(request.params.team) ? Number(request.params.team) : 0;
  const [found] = await rows<{ user_id: number; team_id: number | null; project_id: number; organization_id: string; level: number | null }>(
    'key_and_team',
    KEY_AND_TEAM,
    [secureValue, teamId],
  );
  if (!found) {
    await reply.code(401).send(authError('Personal API key found in request Authorization header is invalid.'));
    return null;
  }
  if (found.team_id === null) {
    await reply.code(404).send(notFound);
    return null;
  }
  if (found.level === null) {
    await reply.code(403).send(forbidden);
    return null;
  }
  return { userId: found.user_id, teamId: found.team_id, projectId: found.project_id, organizationId: found.organization_id };
}

function pageParam(value: unknown, fallback: number, allowZero: boolean): number {
  if (typeof value !== 'string' || !/^\s*\+?\d+\s*$/.test(value)) return fallback;
  const n = Number.parseInt(value, 10);
  return n > 0 || (allowZero && n === 0) ? n : fallback;
}

/** DRF's next and previous links, for the query strings the bench sends (already sorted by key, as DRF sorts them). */
function page(request: FastifyRequest, query: Record<string, string>, limit: number, offset: number, count: number) {
  const link = (o: number) => {
    const params = new URLSearchParams({ ...query, limit: String(limit), ...(o > 0 && { offset: String(o) }) });
    params.sort();
    return `http://${request.headers.host}${request.url.split('?')[0]}?${params.toString()}`;
  };
  return {
    count,
    next: offset + limit < count ? link(offset + limit) : null,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
  };
}

const userBasic = (r: Row) =>
  r.u_id === null
    ? null
    : {
        id: r.u_id,
        uuid: r.u_uuid,
        distinct_id: r.u_distinct_id,
        first_name: r.u_first_name,
        last_name: r.u_last_name,
        email: r.u_email,
        is_email_verified: r.u_is_email_verified,
        hedgehog_config: r.u_hedgehog_config,
        role_at_organization: r.u_role_at_organization,
      };

/** A JSON body, stringified here (Fastify would do the same for an object, with one more check of its type). */
const json = (reply: FastifyReply, body: unknown) => reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));

const app = Fastify({ logger: false });

app.get('/api/projects/@current/', async (request, reply) => {
  const secureValue = secureValueOf(request.headers.authorization);
  if (!secureValue) return reply.code(401).send(authError('Authentication credentials were not provided.'));
  const [t] = await rows<Row & { id: number | null; level: number | null; settings: Row; created_at: string; updated_at: string }>(
    'key_and_current_team',
    KEY_AND_CURRENT_TEAM,
    [secureValue],
  );
  if (!t) return reply.code(401).send(authError('Personal API key found in request Authorization header is invalid.'));
  if (t.id === null) return reply.code(404).send(notFound);
  if (t.level === null) return reply.code(403).send(forbidden);
  return json(reply, {
    id: t.id,
    organization: t.organization_id,
    name: t.name,
    created_at: isoZ(t.created_at),
    effective_membership_level: t.level,
    has_group_types: false,
    group_types: [],
    live_events_token: null,
    updated_at: isoZ(t.updated_at),
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
  });
});

app.get<{ Params: { team: string }; Querystring: Record<string, string> }>('/api/projects/:team/persisted_folder/', async (request, reply) => {
  const access = await teamAccess(request, reply);
  if (!access) return reply;
  const limit = pageParam(request.query.limit, 100, false);
  const offset = pageParam(request.query.offset, 0, true);
  const folders = await rows('persisted_folders', PERSISTED_FOLDERS, [access.teamId, access.userId, limit, offset]);
  return json(reply, {
    ...page(request, {}, limit, offset, Number(folders[0]?.total ?? 0)),
    results: folders.map((f) => ({
      id: f.id,
      type: f.type,
      protocol: f.protocol,
      path: f.path,
      created_at: isoZ(f.created_at as string),
      updated_at: isoZ(f.updated_at as string),
    })),
  });
});

app.get<{ Params: { team: string }; Querystring: Record<string, string> }>('/api/projects/:team/file_system/', async (request, reply) => {
  const access = await teamAccess(request, reply);
  if (!access) return reply;
  const { parent = '', depth = '' } = request.query;
  const limit = pageParam(request.query.limit, 100, false);
  const offset = pageParam(request.query.offset, 0, true);
  const prefix = `${parent.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
  const entries = await rows('file_system_children', FILE_SYSTEM_CHILDREN, [access.projectId, access.teamId, Number(depth), prefix, limit, offset]);
  const creatorIds = new Set<number>();
  for (const e of entries) {
    const createdBy = (e.meta as { created_by?: unknown } | null)?.created_by;
    if (typeof createdBy === 'number' && Number.isInteger(createdBy)) creatorIds.add(createdBy);
  }
  const members = creatorIds.size > 0 ? await rows('members_by_id', MEMBERS_BY_ID, [[...creatorIds], access.organizationId]) : [];
  return json(reply, {
    ...page(request, { depth, parent }, limit, offset, Number(entries[0]?.total ?? 0)),
    results: entries.map((e) => ({
      id: e.id,
      path: e.path,
      depth: e.depth,
      type: e.type,
      ref: e.ref,
      href: e.href,
      meta: e.meta,
      shortcut: e.shortcut,
      created_at: isoZ(e.created_at as string),
      created_by: userBasic(e),
      last_viewed_at: null,
      user_access_level: null,
    })),
    users: members.map(userBasic),
  });
});

app.get<{ Params: { team: string }; Querystring: Record<string, string> }>('/api/projects/:team/saved/', async (request, reply) => {
  const access = await teamAccess(request, reply);
  if (!access) return reply;
  const limit = Math.min(pageParam(request.query.limit, 100, false), 500);
  const offset = pageParam(request.query.offset, 0, true);
  const heatmaps = await rows('saved_heatmaps', SAVED_HEATMAPS, [access.teamId, limit, offset]);
  return json(reply, {
    results: heatmaps.map((h) => {
      const snapshots = h.snapshots as { width: number; has_content: boolean }[];
      return {
        id: h.id,
        short_id: h.short_id,
        name: h.name,
        url: h.url,
        data_url: h.data_url,
        target_widths: h.target_widths,
        type: h.type,
        status: h.status,
        has_content: snapshots.some((s) => s.has_content),
        snapshots,
        deleted: h.deleted,
        block_consent_modals: h.block_consent_modals,
        created_by: userBasic(h),
        created_at: isoZ(h.created_at as string),
        updated_at: isoZ(h.updated_at as string),
        exception: h.exception,
      };
    }),
    count: Number(heatmaps[0]?.total ?? 0),
  });
});

await serveBaseline(app, pool);
