/** Bulk insertion of a generated tree straight into file_system (the API would take far too long for 100,000 rows). */
import type pg from 'pg';
import type { TreeRow } from './shape.js';

const INSERT_SQL = `
  insert into file_system (id, team_id, project_id, path, depth, type, ref, href, shortcut, meta, surface, created_at, created_by_id)
  select gen_random_uuid(), $1, $2, u.path, u.depth, u.type, u.ref, u.href, false, u.meta, 'web', u.created_at, $3
    from unnest($4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::timestamptz[])
      as u(path, depth, type, ref, href, meta, created_at)`;

/** Rows in a shuffled order (as objects are created over time, all over the tree), in batches of 5,000. */
export async function insertTree(db: pg.Pool, team: { teamId: number; projectId: number }, userId: number, rows: TreeRow[], seed: number): Promise<void> {
  const order = rows.map((_, i) => i);
  let s = seed * 2654435761;
  for (let i = order.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let start = 0; start < order.length; start += 5000) {
    const batch = order.slice(start, start + 5000).map((i) => rows[i]!);
    await db.query(INSERT_SQL, [
      team.teamId,
      team.projectId,
      userId,
      batch.map((r) => r.path),
      batch.map((r) => r.depth),
      batch.map((r) => r.type),
      batch.map((r) => r.ref),
      batch.map((r) => r.href),
      batch.map((r) => JSON.stringify(r.meta)),
      batch.map((r) => r.createdAt),
    ]);
  }
}

