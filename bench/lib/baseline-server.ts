/**
 * What the hand-written baselines (bench/api/baseline.ts, bench/tree/baseline.ts) share: the pool from their
 * environment, the stored form of the presented key, PostHog's error bodies, and how they serve and stop. Each
 * baseline keeps its route and its SQL, so what it does per request reads in one place.
 *
 * Environment: DATABASE_URL (required), PORT (default 8001), HOST (default 127.0.0.1), DATABASE_POOL_SIZE (default
 * 10, as Burrow's).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';

/**
 * A pool on DATABASE_URL, of DATABASE_POOL_SIZE connections (plus `config`); without DATABASE_URL the process exits
 * (78).
 */
export function baselinePool(config: pg.PoolConfig = {}): pg.Pool {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('baseline: DATABASE_URL is required\n');
    process.exit(78);
  }
  return new pg.Pool({ connectionString: url, max: Number(process.env.DATABASE_POOL_SIZE ?? 10), ...config });
}

/** The presented Bearer key as Burrow stores it (`sha256$<hex>`, looked up by secure_value); null without one. */
export function secureValueOf(authorization: string | undefined): string | null {
  const bearer = /^Bearer\s+(\S+)$/.exec(authorization ?? '')?.[1];
  if (!bearer) return null;
  return `sha256$${createHash('sha256').update(bearer, 'utf8').digest('hex')}`;
}

export const authError = (detail: string) => ({ type: 'authentication_error', code: 'authentication_failed', detail, attr: null });
export const notFound = { type: 'invalid_request', code: 'not_found', detail: 'Project not found.', attr: null };
export const forbidden = { type: 'authentication_error', code: 'permission_denied', detail: "You don't have access to the project.", attr: null };

/** Adds GET /_health (a query through the pool), listens on PORT and HOST, and closes both on SIGTERM or SIGINT. */
export async function serveBaseline(app: FastifyInstance, pool: pg.Pool): Promise<void> {
  app.get('/_health', async () => {
    await pool.query('select 1');
    return { status: 'ok' };
  });

  await app.listen({ port: Number(process.env.PORT ?? 8001), host: process.env.HOST ?? '127.0.0.1' });

  const shutdown = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
