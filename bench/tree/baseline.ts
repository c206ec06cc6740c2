/**
 * The baseline bench/tree/run.ts measures Burrow's persisted folder list against: bare Fastify + a node-postgres Pool,
 * one route doing the work of GET /api/projects/:team_id/persisted_folder/ by hand, on every request, with no cache
 * (the same approach as bench/api/baseline.ts):
 *
 *   1. sha256 the presented Bearer key and look it up (joined to its active user) by secure_value;
 *   2. load the team with the user's membership level in its organization (404 without the team, 403 without a
 *      membership);
 *   3. select the user's persisted folders in the team on the web surface, in Burrow's order (lower(type), id), with
 *      the total as a window count (past the last row that count is lost, which the bench never asks for), and
 *      answer the same page (count, next, previous, results) as plain JSON.
 *
 * No schemas, no hooks, no logging, no rate limit: the cheapest honest way to serve this endpoint.
 * Environment: DATABASE_URL (required), PORT, HOST, DATABASE_POOL_SIZE (default 10, as Burrow's); the pool, the key's
 * hash, the error bodies, /_health and the shutdown are bench/lib/baseline-server.ts's.
 */
import Fastify from 'fastify';
import { authError, baselinePool, forbidden, notFound, secureValueOf, serveBaseline } from '../lib/baseline-server.js';

const pool = baselinePool();

const KEY_SQL = `
  select u.id as user_id
    from personal_api_keys k
    join users u on u.id = k.user_id
   where k.secure_value = $1 and u.is_active`;

const TEAM_SQL = `
  select t.id, m.level
    from teams t
    left join organization_memberships m on m.organization_id = t.organization_id and m.user_id = $2
   where t.id = $1`;

const FOLDERS_SQL = `
  select id, type, protocol, path, created_at, updated_at, count(*) over () as total
    from persisted_folders
   where team_id = $1 and user_id = $2 and surface = 'web'
   order by lower(type), id
   limit $3 offset $4`;

interface FolderRow {
  id: string;
  type: string;
  protocol: string;
  path: string;
  created_at: Date;
  updated_at: Date;
  total: string;
}

function positiveInt(value: unknown, fallback: number, allowZero: boolean): number {
  if (typeof value !== 'string' || !/^\s*\+?\d+\s*$/.test(value)) return fallback;
  const n = Number.parseInt(value, 10);
  return n > 0 || (allowZero && n === 0) ? n : fallback;
}

const app = Fastify({ logger: false });

app.get<{ Params: { team: string }; Querystring: { limit?: string; offset?: string } }>(
  '/api/projects/:team/persisted_folder/',
  async (request, reply) => {
    const secureValue = secureValueOf(request.headers.authorization);
    if (!secureValue) return reply.code(401).send(authError('Authentication credentials were not provided.'));

    const key = await pool.query<{ user_id: number }>(KEY_SQL, [secureValue]);
    const user = key.rows[0];
    if (!user) return reply.code(401).send(authError('Personal API key found in request Authorization header is invalid.'));

    if (!/^\d{1,9}$/.test(request.params.team)) return reply.code(404).send(notFound);
    const found = await pool.query<{ id: number; level: number | null }>(TEAM_SQL, [Number(request.params.team), user.user_id]);
    const team = found.rows[0];
    if (!team) return reply.code(404).send(notFound);
    if (team.level === null) return reply.code(403).send(forbidden);

    const limit = positiveInt(request.query.limit, 100, false);
    const offset = positiveInt(request.query.offset, 0, true);
    const folders = await pool.query<FolderRow>(FOLDERS_SQL, [team.id, user.user_id, limit, offset]);
    const count = Number(folders.rows[0]?.total ?? 0);
    const page = (o: number) => `http://${request.headers.host}${request.url.split('?')[0]}?limit=${limit}${o > 0 ? `&offset=${o}` : ''}`;
    return {
      count,
      next: offset + limit < count ? page(offset + limit) : null,
      previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
      results: folders.rows.map((f) => ({ id: f.id, type: f.type, protocol: f.protocol, path: f.path, created_at: f.created_at, updated_at: f.updated_at })),
    };
  },
);

await serveBaseline(app, pool);
