import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystem, fileSystemShortcuts, fileSystemViewLogs, savedHeatmaps } from '../../../src/db/schema/index.js';
import { type AccessRow, accessTable, readBack, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok } from '../../helpers/api.js';
import { bearer, createTestContext, type TestContext } from '../../helpers/context.js';
import { type Factories, factories } from '../../helpers/factories.js';
import { expectPostHogSchema } from '../../helpers/posthog-schemas.js';

type Entry = {
  id: string;
  path: string;
  depth: number;
  type: string;
  ref: string | null;
  shortcut: boolean | null;
  last_viewed_at: string | null;
  created_by: { id: number } | null;
};

describe('project tree', () => {
  let ctx: TestContext;
  let make: Factories;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  /** A fresh account per block keeps each block's tree to itself. */
  async function tree() {
    const account = await make.tenant();
    const key = account.key;
    const base = `/api/projects/${account.teamId}/file_system`;
    const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object, k = key) =>
      ctx.app.inject({ method, url: `${base}${url}`, headers: bearer(k), ...(payload && { payload }) });
    const create = async (path: string, extra: Record<string, unknown> = {}) => (await make.treeEntry(account, path, extra)) as unknown as Entry;
    const list = async (query = '') => ok(await call('GET', `/${query}`));
    const paths = async (query = '') => (await list(query)).results.map((e: Entry) => e.path);
    return { account, key, base, call, create, list, paths };
  }

  let guarded = 0;
  /** A folder of the owner's tree (a new one each time), and the check that it is as made. */
  const folder: AccessRow['object'] = async (owner) => {
    const entry = await make.treeEntry(owner, `Guarded ${(guarded += 1)}`, { type: 'folder' });
    return readBack(owner, entry.id, `/api/projects/${owner.teamId}/file_system/${entry.id}/`, entry);
  };

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/file_system/', scope: 'file_system:read', status: 200 },
      { method: 'POST', path: '/file_system/', scope: 'file_system:write', body: { path: 'Made by the table' }, status: 201 },
      { method: 'GET', path: '/file_system/:id/', scope: 'file_system:read', object: folder, status: 200 },
      { method: 'PATCH', path: '/file_system/:id/', scope: 'file_system:write', object: folder, body: { path: 'Patched by the table' }, status: 200 },
      { method: 'PUT', path: '/file_system/:id/', scope: 'file_system:write', object: folder, body: { path: 'Put by the table' }, status: 200 },
      { method: 'DELETE', path: '/file_system/:id/', scope: 'file_system:write', object: folder, status: 204 },
      { method: 'POST', path: '/file_system/:id/count/', scope: 'file_system:read', object: folder, status: 200 },
      { method: 'POST', path: '/file_system/:id/move/', scope: 'file_system:write', object: folder, body: { new_path: 'Moved by the table' }, status: 200 },
      { method: 'POST', path: '/file_system/:id/link/', scope: 'file_system:write', object: folder, body: { new_path: 'Linked by the table' }, status: 200 },
      { method: 'GET', path: '/file_system/unfiled/', scope: 'file_system:read', status: 200 },
      { method: 'POST', path: '/file_system/count_by_path/?path=Guarded', scope: 'file_system:read', status: 200 },
      // Reading the view log needs the write scope, as in PostHog.
      { method: 'GET', path: '/file_system/log_view/', scope: 'file_system:write', status: 200 },
      { method: 'POST', path: '/file_system/log_view/', scope: 'file_system:write', body: { type: 'dashboard', ref: '1' }, status: 204 },
      { method: 'POST', path: '/file_system/undo_delete/', scope: 'file_system:write', body: { items: [] }, status: 200 },
      { method: 'POST', path: '/file_system/home_folder/', scope: 'file_system:write', status: 200 },
    ]),
  );

  describe('paths and listing', () => {
    it('creates entries with their missing parents, escape-aware, with depth = segments', async () => {
      const t = await tree();
      const flag = await t.create('Unfiled/Feature Flags/Flag \\/ With Slash', { type: 'feature_flag', ref: '42', href: '/feature_flags/42' });
      expect(flag).toMatchObject({ depth: 3, type: 'feature_flag', ref: '42', shortcut: false, meta: {}, last_viewed_at: null, user_access_level: null });
      expect(flag.created_by).toMatchObject({ id: t.account.user.id });
      expectPostHogSchema(flag, 'FileSystem');
      const all = await t.list();
      expectPostHogSchema(all, 'PaginatedFileSystemList');
      expect(all.results.map((e: Entry) => [e.path, e.depth, e.type])).toEqual([
        ['Unfiled', 1, 'folder'],
        ['Unfiled/Feature Flags', 2, 'folder'],
        ['Unfiled/Feature Flags/Flag \\/ With Slash', 3, 'feature_flag'],
      ]);
      const doubled = await t.create('/Odd//Path/');
      expect(doubled.depth).toBe(2);
    });

    it('names the creator with UserBasic fields only, and null when there is none', async () => {
      const t = await tree();
      const mine = await t.create('Mine', { type: 'insight' });
      expect(Object.keys(mine.created_by ?? {}).sort()).toEqual(
        ['distinct_id', 'email', 'first_name', 'hedgehog_config', 'id', 'is_email_verified', 'last_name', 'role_at_organization', 'uuid'],
      );
      const orphan = await t.create('Orphan', { type: 'insight' });
      await ctx.database.db.update(fileSystem).set({ createdById: null }).where(eq(fileSystem.id, orphan.id));
      expect(ok<Entry>(await t.call('GET', `/${orphan.id}/`)).created_by).toBeNull();
      const listed = (await t.list()).results as Entry[];
      expect(listed.find((e) => e.id === orphan.id)?.created_by).toBeNull();
      expect(listed.find((e) => e.id === mine.id)?.created_by).toMatchObject({ id: t.account.user.id });
    });

    it('orders by lower(path), folders first when a depth is given', async () => {
      const t = await tree();
      await t.create('Afile.txt', { type: 'doc-file' });
      await t.create('alpha', { type: 'folder' });
      await t.create('beta', { type: 'folder' });
      await t.create('bFile.txt', { type: 'doc-file' });
      expect(await t.paths()).toEqual(['Afile.txt', 'alpha', 'beta', 'bFile.txt']);
      expect(await t.paths('?depth=1')).toEqual(['alpha', 'beta', 'Afile.txt', 'bFile.txt']);
      expect(await t.paths('?depth=nonsense')).toEqual(['Afile.txt', 'alpha', 'beta', 'bFile.txt']);
      expect(await t.paths('?order_by=created_at')).toEqual(['Afile.txt', 'alpha', 'beta', 'bFile.txt']);
      expect(await t.paths('?order_by=-created_at')).toEqual(['bFile.txt', 'beta', 'alpha', 'Afile.txt']);
      expect(await t.paths('?order_by=whatever')).toEqual(['bFile.txt', 'beta', 'alpha', 'Afile.txt']);
      // Explicit path order follows the database's collation; these names sort alike in every collation.
      expect(await t.paths('?order_by=-path&type=folder')).toEqual(['beta', 'alpha']);
      expect(await t.paths('?order_by=path&type=folder')).toEqual(['alpha', 'beta']);
    });

    it('filters by parent, depth, path, type, not_type, type__startswith, ref and creation time', async () => {
      const t = await tree();
      await t.create('Docs/Guides/Setup', { type: 'notebook', ref: 'n1' });
      await t.create('Docs/Readme', { type: 'notebook', ref: 'n2' });
      await t.create('Pipelines/Dest', { type: 'hog_function/destination', ref: 'h1' });
      await t.create('Elsewhere/Readme copy', { type: 'notebook', ref: 'n2', shortcut: true });
      expect(await t.paths('?parent=Docs')).toEqual(['Docs/Guides', 'Docs/Guides/Setup', 'Docs/Readme']);
      expect(await t.paths('?parent=Docs&depth=2')).toEqual(['Docs/Guides', 'Docs/Readme']);
      expect(await t.paths('?parent=&depth=1')).toEqual(['Docs', 'Elsewhere', 'Pipelines']);
      expect(await t.paths('?path=Docs/Readme')).toEqual(['Docs/Readme']);
      expect(await t.paths('?type=notebook&order_by=path')).toEqual(['Docs/Guides/Setup', 'Docs/Readme', 'Elsewhere/Readme copy']);
      expect((await t.paths('?not_type=folder')).length).toBe(4);
      expect(await t.paths('?type__startswith=hog_function/')).toEqual(['Pipelines/Dest']);
      expect((await t.list('?ref=n2')).results.map((e: Entry) => e.shortcut)).toEqual([false, true]);
      // refs: ref for several values at once, however the list is written; ordered as ref (canonical rows first).
      const byRefs = (query: string) => t.list(query).then((page) => page.results.map((e: Entry) => `${e.ref}${e.shortcut ? '*' : ''}`));
      for (const query of ['?refs=n2,h1', `?refs=${encodeURIComponent('["n2","h1"]')}`, '?refs=n2&refs=h1', `?refs=${encodeURIComponent('["h1"]')}&refs=n2`]) {
        expect(await byRefs(query), query).toEqual(['n2', 'h1', 'n2*']);
      }
      expect(await byRefs('?refs=n1')).toEqual(['n1']);
      expect(await byRefs('?refs=')).toEqual([]);
      expect(await byRefs(`?refs=${encodeURIComponent('[]')}`)).toEqual([]);
      expect(await byRefs('?refs=nope')).toEqual([]);
      expect(await byRefs('?refs=n1,n2&ref=n2')).toEqual(['n2', 'n2*']);
      expect(await byRefs('?refs=n1,n2&type=notebook&depth=2')).toEqual(['n2', 'n2*']);
      expect((await t.paths(`?created_at__gt=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`)).length).toBe(8);
      expect(await t.paths(`?created_at__lt=2000-01-01T00:00:00Z`)).toEqual([]);
      expectError(await t.call('GET', '/?created_at__gt=yesterday'), 400, invalid(
        'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
        'created_at__gt',
      ));
    });

    it("searches with PostHog's language: a plain token with / matches an escaped slash", async () => {
      const t = await tree();
      await t.create('Banana/go\\/revenue', { type: 'insight' });
      await t.create('Banana/go/revenue-not', { type: 'insight' });
      await t.create('unfiled/scene-tabs', { type: 'feature_flag' });
      expect(await t.paths('?search=go%2Frevenue&not_type=folder')).toContain('Banana/go\\/revenue');
      expect(await t.paths('?search=flag%20scene%20tabs')).toEqual(['unfiled/scene-tabs']);
      expect(await t.paths('?search=name%3Abanana')).toEqual(['Banana']);
      expect((await t.paths('?search=-type%3Afolder%20banana')).sort()).toEqual(['Banana/go/revenue-not', 'Banana/go\\/revenue']);
      expect(await t.paths('?search=user%3Ame&type=feature_flag')).toEqual(['unfiled/scene-tabs']);
    });

    it('pages with DRF links, 100 by default', async () => {
      const t = await tree();
      for (const name of ['a', 'b', 'c']) await t.create(`Page/${name}`);
      const first = await t.list('?parent=Page&limit=2');
      expect(first).toMatchObject({ count: 3, previous: null });
      expect(first.next).toMatch(/\/file_system\/\?limit=2&offset=2&parent=Page$/);
      const second = await t.list('?parent=Page&limit=2&offset=2');
      expect(second.results.map((e: Entry) => e.path)).toEqual(['Page/c']);
      expect(second.previous).toMatch(/\/file_system\/\?limit=2&parent=Page$/);
    });

    it('lists the users named in meta.created_by', async () => {
      const t = await tree();
      await t.create('Owned', { type: 'insight', meta: { created_by: t.account.user.id } });
      await t.create('Stranger', { type: 'insight', meta: { created_by: 999999 } });
      const body = await t.list();
      expect(body.users.map((u: { id: number }) => u.id)).toEqual([t.account.user.id]);
    });

    it('validates entries', async () => {
      const t = await tree();
      expectError(await t.call('POST', '/', {}), 400, invalid('This field is required.', 'path', 'required'));
      expectError(await t.call('POST', '/', { path: '' }), 400, invalid('This field may not be blank.', 'path', 'blank'));
      expectError(await t.call('POST', '/', { path: 'x'.repeat(2601) }), 400, invalid('Path must be 2600 bytes or fewer.', 'path'));
      expectError(await t.call('POST', '/', { path: Array.from({ length: 51 }, () => 'a').join('/') }), 400, invalid('Path can be at most 50 levels deep.', 'path'));
      expectError(await t.call('POST', '/', { path: 'a', meta: [1] }), 400, invalid('Meta must be an object.', 'meta'));
      expectError(await t.call('POST', '/', { path: 'a', type: 't'.repeat(101) }), 400, invalid('Ensure this field has no more than 100 characters.', 'type', 'max_length'));
    });
  });

  describe('retrieve and update', () => {
    it('changes only the row on PATCH and PUT: no children move, no parents appear', async () => {
      const t = await tree();
      const folder = await t.create('Old', { type: 'folder' });
      await t.create('Old/child');
      const renamed = ok(await t.call('PATCH', `/${folder.id}/`, { path: 'New/Deep/Name' }));
      expect(renamed).toMatchObject({ path: 'New/Deep/Name', depth: 3 });
      expect(await t.paths()).toEqual(['New/Deep/Name', 'Old/child']);
      expectError(await t.call('PUT', `/${folder.id}/`, { type: 'folder' }), 400, invalid('This field is required.', 'path', 'required'));
      expect(ok(await t.call('PUT', `/${folder.id}/`, { path: 'Put' })).depth).toBe(1);
      expect(ok(await t.call('GET', `/${folder.id}`)).path).toBe('Put');
      expectError(await t.call('GET', '/not-a-uuid/'), 404, notFound());
    });
  });

  describe('move, link and count', () => {
    it('moves a folder with everything under it in one go, and merges into a folder already there', async () => {
      const t = await tree();
      const reports = await t.create('Reports', { type: 'folder' });
      await t.create('Reports/Q1/Revenue', { type: 'insight', ref: 'r1' });
      await t.create('Reports/Summary', { type: 'insight', ref: 's1' });
      const moved = ok(await t.call('POST', `/${reports.id}/move/`, { new_path: 'Archive/2026/Reports' }));
      expect(moved).toMatchObject({ id: reports.id, path: 'Archive/2026/Reports', depth: 3 });
      expect((await t.list('?order_by=path')).results.map((e: Entry) => [e.path, e.depth])).toEqual([
        ['Archive', 1],
        ['Archive/2026', 2],
        ['Archive/2026/Reports', 3],
        ['Archive/2026/Reports/Q1', 4],
        ['Archive/2026/Reports/Q1/Revenue', 5],
        ['Archive/2026/Reports/Summary', 4],
      ]);
      const target = await t.create('Merged', { type: 'folder' });
      await t.create('Merged/Existing', { type: 'insight', ref: 'e1' });
      const merged = ok(await t.call('POST', `/${reports.id}/move/`, { new_path: 'Merged' }));
      expect(merged.id).toBe(target.id);
      expect(await t.paths('?parent=Merged&order_by=path')).toEqual(['Merged/Existing', 'Merged/Q1', 'Merged/Q1/Revenue', 'Merged/Summary']);
      expect((await t.list('?path=Archive/2026/Reports')).count).toBe(0);
    });

    it("takes every user's stars of the folder and of folders under it along (PostHog G3)", async () => {
      const t = await tree();
      const theirs = (await make.member(t.account)).call;
      const star = async (path: string, type: string, ref: string, call = ctx.client(t.key)) =>
        ok<{ id: string }>(await call('POST', `/api/projects/${t.account.teamId}/file_system_shortcut/`, { path, type, ref }), 201);
      const stars = async (call = ctx.client(t.key)) =>
        ok<{ results: { path: string; ref: string }[] }>(await call('GET', `/api/projects/${t.account.teamId}/file_system_shortcut/`))
          .results.map((s) => [s.path, s.ref])
          .sort();
      const folder = await t.create('Team/Growth', { type: 'folder' });
      await t.create('Team/Growth/Q\\/1/Chart', { type: 'insight', ref: 'g1' });
      await star('Growth', 'folder', 'Team/Growth');
      await star('Q\\/1', 'folder', 'Team/Growth/Q\\/1');
      await star('Growth stage', 'folder', 'Team/Growth stage');
      await star('Not a folder', 'insight', 'Team/Growth');
      await star('Growth', 'folder', 'Team/Growth', theirs);

      ok(await t.call('POST', `/${folder.id}/move/`, { new_path: 'Archive/Old \\/ growth' }));
      expect(await stars()).toEqual([
        ['Growth stage', 'Team/Growth stage'],
        ['Not a folder', 'Team/Growth'],
        ['Old \\/ growth', 'Archive/Old \\/ growth'],
        ['Q\\/1', 'Archive/Old \\/ growth/Q\\/1'],
      ]);
      expect(await stars(theirs)).toEqual([['Old \\/ growth', 'Archive/Old \\/ growth']]);
    });

    it("answers PostHog's bare 400s for move and link", async () => {
      const t = await tree();
      const folder = await t.create('Solo', { type: 'folder' });
      for (const action of ['move', 'link']) {
        const missing = await t.call('POST', `/${folder.id}/${action}/`, {});
        expect(missing.statusCode).toBe(400);
        expect(missing.json()).toEqual({ detail: 'new_path is required' });
        const itself = await t.call('POST', `/${folder.id}/${action}/`, { new_path: 'Solo' });
        expect(itself.json()).toEqual({ detail: `Cannot ${action} folder into itself` });
      }
    });

    it('moves a file without touching its name or object, creating the target parents', async () => {
      const t = await tree();
      const file = await t.create('Inbox/Chart', { type: 'insight', ref: 'c1' });
      expect(ok(await t.call('POST', `/${file.id}/move/`, { new_path: 'Boards/Team/Chart v2' }))).toMatchObject({ path: 'Boards/Team/Chart v2', depth: 3 });
      expect(await t.paths('?type=folder&order_by=path')).toEqual(['Boards', 'Boards/Team', 'Inbox']);
    });

    it('links shortcut copies of a file, and of a folder with everything under it', async () => {
      const t = await tree();
      const file = await t.create('Lib/Doc', { type: 'notebook', ref: 'd1', href: '/notebooks/d1' });
      const copy = ok(await t.call('POST', `/${file.id}/link/`, { new_path: 'Starred/Doc' }));
      expect(copy).toMatchObject({ path: 'Starred/Doc', shortcut: true, type: 'notebook', ref: 'd1', href: '/notebooks/d1' });
      expect(copy.id).not.toBe(file.id);
      const lib = ok(await t.call('GET', `/?path=Lib&type=folder`)).results[0];
      const folderCopy = ok(await t.call('POST', `/${lib.id}/link/`, { new_path: 'Mirror/Lib' }));
      expect(folderCopy).toMatchObject({ path: 'Mirror/Lib', type: 'folder', shortcut: true });
      expect((await t.list('?parent=Mirror/Lib')).results.map((e: Entry) => [e.path, e.shortcut])).toEqual([['Mirror/Lib/Doc', true]]);
      expect(ok(await t.call('GET', `/${file.id}/`)).shortcut).toBe(false);
    });

    it('counts what is under a folder, listing the first 200 by depth and path', async () => {
      const t = await tree();
      const folder = await t.create('Big', { type: 'folder' });
      await ctx.database.db.insert(fileSystem).values(
        Array.from({ length: 205 }, (_, i) => ({
          id: crypto.randomUUID(),
          teamId: t.account.teamId,
          projectId: t.account.teamId,
          path: `Big/item ${String(i).padStart(3, '0')}`,
          depth: 2,
          type: 'doc',
        })),
      );
      const counted = ok(await t.call('POST', `/${folder.id}/count/`));
      expect(counted.count).toBe(205);
      expect(counted.entries).toHaveLength(200);
      expect(counted.has_more).toBe(true);
      expect(counted.entries[0].path).toBe('Big/item 000');
      const byPath = ok(await t.call('POST', '/count_by_path/?path=Big'));
      expect(byPath.count).toBe(205);
      const missing = await t.call('POST', '/count_by_path/');
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual({ detail: 'path parameter is required' });
      const file = await t.create('Loose', { type: 'doc' });
      expect((await t.call('POST', `/${file.id}/count/`)).json()).toEqual({ detail: 'Count can only be called on folders' });
    });
  });

  describe('delete and undo', () => {
    it('deletes a folder with everything under it, shortcuts alone; other types lose only their rows (204)', async () => {
      const t = await tree();
      const folder = await t.create('Trash', { type: 'folder' });
      await t.create('Trash/Sub/Doc', { type: 'doc-file', ref: 'x1' });
      const keep = await t.create('Keep/Doc', { type: 'doc-file', ref: 'x1' });
      const link = ok(await t.call('POST', `/${keep.id}/link/`, { new_path: 'Links/Doc' }));
      const shortcutDelete = await t.call('DELETE', `/${link.id}/`);
      expect(shortcutDelete.statusCode).toBe(204);
      expect(ok(await t.call('GET', `/${keep.id}/`)).path).toBe('Keep/Doc');
      const response = await t.call('DELETE', `/${folder.id}/`);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(await t.paths('?order_by=path')).toEqual(['Keep', 'Keep/Doc', 'Links']);
    });

    it('refuses to delete a non-empty folder with recursive=false (409)', async () => {
      const t = await tree();
      const folder = await t.create('Full', { type: 'folder' });
      await t.create('Full/item');
      expectError(await t.call('DELETE', `/${folder.id}/?recursive=false`), 409, {
        type: 'server_error',
        code: 'directory_not_empty',
        detail: 'Folder is not empty.',
        attr: null,
      });
      const empty = await t.create('Empty', { type: 'folder' });
      expect((await t.call('DELETE', `/${empty.id}/?recursive=false`)).statusCode).toBe(204);
    });

    it('rolls the whole delete back when one row cannot be deleted', async () => {
      const t = await tree();
      const folder = await t.create('Mixed', { type: 'folder' });
      await t.create('Mixed/ok', { type: 'doc' });
      await t.create('Mixed/orphan heatmap', { type: 'heatmap' });
      expectError(await t.call('DELETE', `/${folder.id}/`), 400, invalid("Cannot delete type 'heatmap' without a reference.", null));
      expect(await t.paths('?parent=Mixed&order_by=path')).toEqual(['Mixed/ok', 'Mixed/orphan heatmap']);
    });
  });

  describe('saved heatmaps in the tree', () => {
    it('files every heatmap under Unfiled/Heatmaps and keeps its row in step with it', async () => {
      const t = await tree();
      const heatmapsUrl = `/api/projects/${t.account.teamId}/saved`;
      const heatmap = await make.heatmap(t.account, { name: 'Pricing / Plans' });
      const rows = async () => (await t.list('?type=heatmap')).results as (Entry & { href: string })[];
      expect(await rows()).toMatchObject([{ path: 'Unfiled/Heatmaps/Pricing \\/ Plans', depth: 3, ref: heatmap.short_id, href: `/heatmaps/${heatmap.short_id}`, shortcut: false }]);

      const [row] = await rows();
      ok(await t.call('POST', `/${row!.id}/move/`, { new_path: 'Research/Pricing \\/ Plans' }));
      ok(await ctx.app.inject({ method: 'PATCH', url: `${heatmapsUrl}/${heatmap.short_id}/`, headers: bearer(t.key), payload: { name: 'Plans' } }));
      expect((await rows()).map((r) => r.path)).toEqual(['Research/Plans']);

      ok(await ctx.app.inject({ method: 'PATCH', url: `${heatmapsUrl}/${heatmap.short_id}/`, headers: bearer(t.key), payload: { deleted: true } }));
      expect(await rows()).toEqual([]);
      ok(await ctx.app.inject({ method: 'PATCH', url: `${heatmapsUrl}/${heatmap.short_id}/`, headers: bearer(t.key), payload: { deleted: false } }));
      expect((await rows()).map((r) => r.path)).toEqual(['Unfiled/Heatmaps/Plans']);

      const unnamed = await make.heatmap(t.account);
      expect((await t.list(`?ref=${unnamed.short_id}`)).results[0].path).toBe('Unfiled/Heatmaps/http:\\/\\/93.184.215.14\\/pricing');
      const placed = await make.heatmap(t.account, { name: 'Placed', _create_in_folder: 'Team/Heatmaps' });
      expect((await t.list(`?ref=${placed.short_id}`)).results[0].path).toBe('Team/Heatmaps/Placed');
    });

    it('soft-deletes the heatmap when its last row is deleted, and undo_delete restores both', async () => {
      const t = await tree();
      const heatmapsUrl = `/api/projects/${t.account.teamId}/saved`;
      const heatmap = await make.heatmap(t.account, { name: 'Checkout' });
      const [row] = (await t.list('?type=heatmap')).results as Entry[];
      const deleted = ok(await t.call('DELETE', `/${row!.id}/`));
      expect(deleted).toEqual({
        deleted: [
          {
            type: 'heatmap',
            ref: heatmap.short_id,
            mode: 'soft',
            undo: `Send PATCH /api/projects/@current/saved/${heatmap.short_id} with deleted=false.`,
            path: 'Unfiled/Heatmaps/Checkout',
            can_undo: true,
          },
        ],
      });
      expect(ok(await ctx.app.inject({ url: `${heatmapsUrl}/${heatmap.short_id}/`, headers: bearer(t.key) })).deleted).toBe(true);

      const undone = ok(await t.call('POST', '/undo_delete/', { items: [{ type: 'heatmap', ref: heatmap.short_id, path: 'Restored/Checkout' }] }));
      expect(undone).toEqual({ undone: [{ type: 'heatmap', ref: heatmap.short_id }] });
      expect(ok(await ctx.app.inject({ url: `${heatmapsUrl}/${heatmap.short_id}/`, headers: bearer(t.key) })).deleted).toBe(false);
      expect(((await t.list('?type=heatmap')).results as Entry[]).map((e) => e.path)).toEqual(['Restored/Checkout']);

      const again = ok(await t.call('POST', '/undo_delete/', { items: [{ type: 'heatmap', ref: heatmap.short_id }] }).then((r) => r), 400);
      expect(again).toMatchObject({ detail: "Couldn't restore this. It may already be restored, or you may not have access to it." });
      expect((await t.call('POST', '/undo_delete/', { items: [{ type: 'dashboard', ref: '1' }] })).statusCode).toBe(400);
      expectError(await t.call('POST', '/undo_delete/', {}), 400, invalid('This field is required.', 'items', 'required'));
    });

    it('deletes only the row while another canonical row still points at the heatmap', async () => {
      const t = await tree();
      const heatmap = await make.heatmap(t.account);
      const second = await t.create('Also here', { type: 'heatmap', ref: heatmap.short_id });
      expect((await t.call('DELETE', `/${second.id}/`)).statusCode).toBe(204);
      expect(ok(await ctx.app.inject({ url: `/api/projects/${t.account.teamId}/saved/${heatmap.short_id}/`, headers: bearer(t.key) })).deleted).toBe(false);
    });

    it('files heatmaps that have no row on unfiled/, once', async () => {
      const t = await tree();
      const heatmap = await make.heatmap(t.account, { name: 'Lost' });
      await ctx.database.db.delete(fileSystem).where(and(eq(fileSystem.teamId, t.account.teamId), eq(fileSystem.ref, heatmap.short_id)));
      await ctx.database.db.delete(fileSystem).where(and(eq(fileSystem.teamId, t.account.teamId), eq(fileSystem.type, 'folder')));
      await ctx.database.db.update(fileSystem).set({ depth: 9 }).where(eq(fileSystem.teamId, t.account.teamId));
      expect(ok(await t.call('GET', '/unfiled/'))).toEqual({ count: 1 });
      expect(ok(await t.call('GET', '/unfiled/?type=heatmap'))).toEqual({ count: 0 });
      expect(await t.paths('?order_by=path')).toEqual(['Unfiled', 'Unfiled/Heatmaps', 'Unfiled/Heatmaps/Lost']);
      expect((await t.list('?path=Unfiled/Heatmaps/Lost')).results[0].depth).toBe(3);
      const [stored] = await ctx.database.db.select().from(savedHeatmaps).where(eq(savedHeatmaps.shortId, heatmap.short_id));
      expect(stored!.deleted).toBe(false);
    });

    it('repairs wrong depths and missing parent folders on unfiled/, escaped slashes included', async () => {
      const t = await tree();
      const intro = await t.create('Docs/Guides/Intro', { type: 'insight', ref: 'i1' });
      await t.create('Team \\/ A/Notes/Plan', { type: 'notebook', ref: 'n1' });
      const top = await t.create('Top', { type: 'insight', ref: 't1' });
      ok(await t.call('PATCH', `/${intro.id}/`, { path: 'Moved/Deep\\\\/Er/Intro' }));
      await ctx.database.db.delete(fileSystem).where(and(eq(fileSystem.teamId, t.account.teamId), eq(fileSystem.type, 'folder')));
      await ctx.database.db.update(fileSystem).set({ depth: 9 }).where(eq(fileSystem.id, top.id));

      expect(ok(await t.call('GET', '/unfiled/'))).toEqual({ count: 0 });
      const repaired = (await t.list('?order_by=path')).results.map((e: Entry) => [e.path, e.depth, e.type]);
      expect(repaired).toEqual([
        ['Moved', 1, 'folder'],
        ['Moved/Deep\\\\', 2, 'folder'],
        ['Moved/Deep\\\\/Er', 3, 'folder'],
        ['Moved/Deep\\\\/Er/Intro', 4, 'insight'],
        ['Team \\/ A', 1, 'folder'],
        ['Team \\/ A/Notes', 2, 'folder'],
        ['Team \\/ A/Notes/Plan', 3, 'notebook'],
        ['Top', 1, 'insight'],
      ]);
      ok(await t.call('GET', '/unfiled/'));
      expect((await t.list('?order_by=path')).results.map((e: Entry) => [e.path, e.depth, e.type])).toEqual(repaired);

      // Only a write that can break the tree (a PATCH of a path) makes the next unfiled/ scan it again.
      await ctx.database.db.delete(fileSystem).where(and(eq(fileSystem.teamId, t.account.teamId), eq(fileSystem.path, 'Moved')));
      ok(await t.call('GET', '/unfiled/'));
      expect(await t.paths('?type=folder&depth=1&order_by=path')).toEqual(['Team \\/ A']);
      ok(await t.call('PATCH', `/${top.id}/`, { path: 'Top level' }));
      ok(await t.call('GET', '/unfiled/'));
      expect(await t.paths('?type=folder&depth=1&order_by=path')).toEqual(['Moved', 'Team \\/ A']);
    });
  });

  describe('views, Recents and home folders', () => {
    it('records views for browser sessions only and serves Recents from them', async () => {
      const t = await tree();
      await t.create('Boards/Revenue', { type: 'dashboard', ref: '7' });
      await t.create('Boards/Costs', { type: 'dashboard', ref: '8' });
      const session = await ctx.login(t.account.user.email);
      const headers = { cookie: session.cookie, 'x-csrftoken': session.csrf };
      const log = (payload: object, h: Record<string, string> = headers) => ctx.app.inject({ method: 'POST', url: `${t.base}/log_view/`, headers: h, payload });
      expect((await log({ type: 'dashboard', ref: '8', viewed_at: '2026-01-01T00:00:00Z' })).statusCode).toBe(204);
      expect((await log({ type: 'dashboard', ref: '7' })).statusCode).toBe(204);
      expect((await log({ type: 'scene', ref: 'Heatmaps' })).statusCode).toBe(204);
      const byKey = await ctx.app.inject({ method: 'POST', url: `${t.base}/log_view/`, headers: bearer(t.key), payload: { type: 'dashboard', ref: '99' } });
      expect(byKey.statusCode).toBe(204);
      expect(await ctx.database.db.select().from(fileSystemViewLogs).where(eq(fileSystemViewLogs.ref, '99'))).toEqual([]);

      const views = ok(await t.call('GET', '/log_view/'));
      expect(views.map((v: { ref: string }) => v.ref)).toEqual(['Heatmaps', '7', '8']);
      expect(ok(await t.call('GET', '/log_view/?type=scene&limit=1'))).toHaveLength(1);

      const recents = await t.list('?order_by=-last_viewed_at&not_type=folder&limit=5');
      expect(recents).toMatchObject({ count: 2, next: null, previous: null });
      expect(recents.results.map((e: Entry) => e.path)).toEqual(['Boards/Revenue', 'Boards/Costs']);
      expect(recents.results[1].last_viewed_at).toBe('2026-01-01T00:00:00Z');
      expect((await t.list('?order_by=last_viewed_at')).results.map((e: Entry) => e.path)).toEqual(['Boards/Costs', 'Boards/Revenue']);
    });

    it('creates a home folder once, starred, and answers it again later', async () => {
      const t = await tree();
      const home = ok(await t.call('POST', '/home_folder/'));
      expect(home.path).toBe(`Users/${t.account.user.firstName}`);
      expect(ok(await t.call('GET', `/${home.id}/`))).toMatchObject({ type: 'folder', depth: 2 });
      const stars = await ctx.database.db.select().from(fileSystemShortcuts).where(eq(fileSystemShortcuts.userId, t.account.user.id));
      expect(stars).toMatchObject([{ type: 'folder', ref: home.path, order: -1 }]);
      expect(ok(await t.call('POST', '/home_folder/'))).toEqual(home);
      expect((await t.call('DELETE', `/${home.id}/`)).statusCode).toBe(204);
      expect(ok(await t.call('POST', '/home_folder/'))).toEqual({ id: null, path: null });
    });
  });

  // Scopes, both prefixes and the other organization's refusals: the access table above.
  describe('scopes and isolation', () => {
    it('shares one tree between the teams of a project, except other teams’ hog functions', async () => {
      const t = await tree();
      const siblingBase = `/api/environments/${await make.environment(t.account)}/file_system`;
      ok(await ctx.app.inject({ method: 'POST', url: `${siblingBase}/`, headers: bearer(t.key), payload: { path: 'Shared/From staging', type: 'insight' } }), 201);
      ok(await ctx.app.inject({ method: 'POST', url: `${siblingBase}/`, headers: bearer(t.key), payload: { path: 'Shared/Staging hook', type: 'hog_function/destination' } }), 201);
      expect(await t.paths('?parent=Shared')).toEqual(['Shared/From staging']);
      const fromSibling = ok(await ctx.app.inject({ url: `${siblingBase}/?parent=Shared`, headers: bearer(t.key) }));
      expect(fromSibling.results.map((e: Entry) => e.path)).toEqual(['Shared/From staging', 'Shared/Staging hook']);
    });

    it("lists none of another organization's tree, and serves one's own under both prefixes", async () => {
      const t = await tree();
      await t.create('Secret/Plan');
      const other = await tree();
      expect((await other.list()).count).toBe(0);
      const env = await ctx.app.inject({ url: `/api/environments/${t.account.teamId}/file_system/?path=Secret/Plan`, headers: bearer(t.key) });
      expect(ok(env).count).toBe(1);
    });
  });
});
