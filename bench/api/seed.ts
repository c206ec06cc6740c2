/**
 * The data bench/api's lists read, for the bootstrapped user's team: the user's three persisted folders (through the
 * API), a project tree of about 300 entries and 23 saved heatmaps with their screenshots (straight into the tables,
 * as bench/tree fills its trees).
 */
import pg from 'pg';
import { apiRequest, type ServerChild } from '../lib/harness.js';

/** The folder the file_system endpoint lists: 8 subfolders and 70 items directly under it, 160 more below. */
export const LISTED_FOLDER = 'Bench';

const ITEM_TYPES = ['insight', 'dashboard', 'feature_flag', 'notebook', 'experiment'] as const;

interface TreeEntry {
  path: string;
  depth: number;
  type: string;
  ref: string | null;
  href: string | null;
  meta: Record<string, unknown>;
}

const INSERT_TREE = `
  insert into file_system (id, team_id, project_id, path, depth, type, ref, href, shortcut, meta, surface, created_at, created_by_id)
  select gen_random_uuid(), $1, $2, e.path, e.depth, e.type, e.ref, e.href, false, e.meta, 'web', now() - e.age * interval '1 minute', $3
    from unnest($4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::int[]) as e(path, depth, type, ref, href, meta, age)`;

// 23 heatmaps, the last 3 deleted (left out of the list); every tenth an iframe, every tenth from the fifth processing.
const INSERT_HEATMAPS = `
  insert into saved_heatmaps (id, team_id, short_id, name, url, data_url, target_widths, type, status, created_by_id, deleted, created_at, updated_at)
  select gen_random_uuid(), $1, 'bench' || lpad(i::text, 3, '0'), 'Landing page ' || i, 'https://example.com/page-' || i,
         'https://example.com/page-' || i, '[320, 375, 425, 768, 1024, 1440, 1920]'::jsonb,
         case when i % 10 = 0 then 'iframe' else 'screenshot' end, case when i % 10 = 5 then 'processing' else 'completed' end,
         $2, i > 20, now() - i * interval '7 minutes', now() - i * interval '3 minutes'
    from generate_series(1, 23) as i`;

const INSERT_SNAPSHOTS = `
  insert into heatmap_snapshots (id, heatmap_id, width, content)
  select gen_random_uuid(), h.id, w::int, decode(repeat('ff', 4096), 'hex')
    from saved_heatmaps h cross join jsonb_array_elements_text(h.target_widths) as w
   where h.team_id = $1 and h.type = 'screenshot' and h.status = 'completed'`;

function treeEntries(userId: number): TreeEntry[] {
  const item = (folder: string, depth: number, i: number): TreeEntry => {
    const type = ITEM_TYPES[i % ITEM_TYPES.length]!;
    const ref = `${type.slice(0, 3)}${folder.length}${i}`;
    return { path: `${folder}/${type} ${i}`, depth, type, ref, href: `/${type}/${ref}`, meta: { created_by: userId, created_at: '2026-12-01T10:00:00Z' } };
  };
  const folder = (path: string, depth: number): TreeEntry => ({ path, depth, type: 'folder', ref: null, href: null, meta: {} });
  const entries: TreeEntry[] = [folder(LISTED_FOLDER, 1), folder('Unfiled', 1)];
  for (let i = 0; i < 70; i++) entries.push(item(LISTED_FOLDER, 2, i));
  for (let f = 1; f <= 8; f++) {
    const sub = `${LISTED_FOLDER}/Folder ${f}`;
    entries.push(folder(sub, 2));
    for (let i = 0; i < 20; i++) entries.push(item(sub, 3, i));
  }
  for (let i = 0; i < 60; i++) entries.push(item('Unfiled', 2, i));
  return entries;
}

/** Seeds the team the key's user is in; answers the team id the endpoints' paths take. */
export async function seed(burrow: ServerChild, key: string, url: string): Promise<{ teamId: number; treeRows: number; heatmaps: number }> {
  const project = await apiRequest(burrow, key, 'GET', '/api/projects/@current/');
  const me = await apiRequest(burrow, key, 'GET', '/api/users/@me/');
  if (project.status !== 200 || me.status !== 200) throw new Error(`could not read the bootstrapped team (${project.status}) or user (${me.status})`);
  const team = project.json as { id: number; project_id: number };
  const userId = (me.json as { id: number }).id;

  for (const [type, path] of [['home', 'Bench'], ['pinned', 'Bench/Folder 1'], ['custom_products', '']] as const) {
    const created = await apiRequest(burrow, key, 'POST', `/api/projects/${team.id}/persisted_folder/`, { type, path });
    if (created.status !== 201) throw new Error(`persisted folder ${type}: ${created.status} ${created.text.slice(0, 200)}`);
  }

  const db = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const entries = treeEntries(userId);
    await db.query(INSERT_TREE, [
      team.id,
      team.project_id,
      userId,
      entries.map((e) => e.path),
      entries.map((e) => e.depth),
      entries.map((e) => e.type),
      entries.map((e) => e.ref),
      entries.map((e) => e.href),
      entries.map((e) => JSON.stringify(e.meta)),
      entries.map((_, i) => i),
    ]);
    const heatmaps = await db.query(INSERT_HEATMAPS, [team.id, userId]);
    await db.query(INSERT_SNAPSHOTS, [team.id]);
    await db.query('analyze');
    return { teamId: team.id, treeRows: entries.length, heatmaps: heatmaps.rowCount ?? 0 };
  } finally {
    await db.end();
  }
}
