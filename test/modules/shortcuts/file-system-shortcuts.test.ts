import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystemShortcuts } from '../../../src/db/schema/index.js';
import { newUuid } from '../../../src/lib/ids.js';
import { type AccessRow, accessTable, readBack, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok, sessionHeaders } from '../../helpers/api.js';
import { createTestContext, type TestAccount, type TestContext } from '../../helpers/context.js';
import { type Factories, factories } from '../../helpers/factories.js';
import { expectPostHogSchema } from '../../helpers/posthog-schemas.js';

const FIELDS = ['id', 'path', 'type', 'ref', 'href', 'order', 'created_at'];

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Shortcut = { id: string; path: string; order: number };

describe('file system shortcuts', () => {
  let ctx: TestContext;
  let make: Factories;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  /** A fresh user with their own organization and team, so every test starts with no shortcuts. */
  async function freshUser() {
    const account = await make.tenant();
    const base = `/api/projects/${account.teamId}/file_system_shortcut/`;
    return { account, key: account.key, base, call: account.call };
  }

  let guarded = 0;
  /** A shortcut of the owner's (a new one each time), and the check that it is as made. */
  const shortcut: AccessRow['object'] = async (owner) => {
    const made = await make.shortcut(owner, { path: `Guarded ${(guarded += 1)}` });
    return readBack(owner, made.id, `/api/projects/${owner.teamId}/file_system_shortcut/${made.id}/`, made);
  };

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/file_system_shortcut/', scope: 'file_system_shortcut:read', status: 200 },
      { method: 'POST', path: '/file_system_shortcut/', scope: 'file_system_shortcut:write', body: { path: 'Made by the table' }, status: 201 },
      { method: 'GET', path: '/file_system_shortcut/:id/', scope: 'file_system_shortcut:read', object: shortcut, status: 200 },
      { method: 'PATCH', path: '/file_system_shortcut/:id/', scope: 'file_system_shortcut:write', object: shortcut, body: { path: 'Patched' }, status: 200 },
      { method: 'PUT', path: '/file_system_shortcut/:id/', scope: 'file_system_shortcut:write', object: shortcut, body: { path: 'Put' }, status: 200 },
      { method: 'DELETE', path: '/file_system_shortcut/:id/', scope: 'file_system_shortcut:write', object: shortcut, status: 204 },
    ]),
  );

  /** A row as PostHog's tests make them (FileSystemShortcut.objects.create), bypassing the API. */
  const insertRow = async (account: TestAccount, values: { path: string; type?: string; order?: number; teamId?: number; createdAt?: string }) => {
    const [row] = await ctx.database.db
      .insert(fileSystemShortcuts)
      .values({ id: newUuid(), teamId: values.teamId ?? account.teamId, userId: account.user.id, path: values.path, type: values.type ?? 't', order: values.order ?? 0, ...(values.createdAt && { createdAt: values.createdAt }) })
      .returning();
    return row!;
  };

  const rowsOf = (account: TestAccount) =>
    ctx.database.db.select().from(fileSystemShortcuts).where(eq(fileSystemShortcuts.userId, account.user.id));

  const paths = (page: Record<string, any>) => (page.results as Shortcut[]).map((s) => s.path);

  describe('create', () => {
    it("answers 201 with PostHog's object: type blank, ref and href null, placed after the user's last shortcut", async () => {
      const { base, call } = await freshUser();
      const body = ok(await call('POST', base, { path: 'Document.txt' }), 201);
      expect(Object.keys(body)).toEqual(FIELDS);
      expect(body).toMatchObject({ path: 'Document.txt', type: '', ref: null, href: null, order: 1 });
      expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/);
      expectPostHogSchema(body, 'FileSystemShortcut');

      const full = ok(await call('POST', base, { path: 'Dashboards/Revenue', type: 'dashboard', ref: '42', href: '/dashboard/42' }), 201);
      expect(full).toMatchObject({ path: 'Dashboards/Revenue', type: 'dashboard', ref: '42', href: '/dashboard/42', order: 2 });
      expectPostHogSchema(full, 'FileSystemShortcut');
    });

    it('appends after the highest order, and keeps an explicit one', async () => {
      const { account, base, call } = await freshUser();
      await insertRow(account, { path: 'Existing', order: 5 });
      expect(ok(await call('POST', base, { path: 'Aardvark', type: 't' }), 201).order).toBe(6);
      expect(ok(await call('POST', base, { path: 'Pinned first', order: -1 }), 201).order).toBe(-1);
      expect(ok(await call('POST', base, { path: 'After', order: '3' }), 201).order).toBe(3);
      expect(ok(await call('POST', base, { path: 'Last' }), 201).order).toBe(7);
      expect(paths(ok(await call('GET', base)))).toEqual(['Pinned first', 'After', 'Existing', 'Aardvark', 'Last']);
    });

    it('answers the existing shortcut when the same item is starred again (still 201), and nothing else matches it', async () => {
      const { account, base, call } = await freshUser();
      const payload = { path: 'Dashboards', type: 'dashboard', ref: '42', href: '/dashboard/42' };
      const first = ok(await call('POST', base, payload), 201);
      const second = ok(await call('POST', base, payload), 201);
      expect(second).toEqual(first);
      expect(await rowsOf(account)).toHaveLength(1);

      const bare = ok(await call('POST', base, { path: 'Logs', href: '/logs' }), 201);
      expect(ok(await call('POST', base, { path: 'Logs', type: '', ref: null, href: '/logs' }), 201).id).toBe(bare.id);
      for (const variant of [{ ...payload, ref: '43' }, { ...payload, href: null }, { ...payload, type: 'insight' }, { ...payload, path: 'dashboards' }]) {
        expect(ok(await call('POST', base, variant), 201).id).not.toBe(first.id);
      }
      expect(await rowsOf(account)).toHaveLength(6);
    });

    it('serialises concurrent stars: no duplicates and no shared order', async () => {
      const { account, base, call } = await freshUser();
      const same = await Promise.all(Array.from({ length: 5 }, () => call('POST', base, { path: 'Same', type: 'insight', ref: 'abc' })));
      expect(new Set(same.map((r) => ok(r, 201).id)).size).toBe(1);
      const distinct = await Promise.all(Array.from({ length: 5 }, (_, i) => call('POST', base, { path: `Item ${i}` })));
      const orders = distinct.map((r) => ok<Shortcut>(r, 201).order).sort((a, b) => a - b);
      expect(orders).toEqual([2, 3, 4, 5, 6]);
      expect(await rowsOf(account)).toHaveLength(6);
    });

    it('validates with DRF’s messages and ignores unknown and read-only fields', async () => {
      const { base, call } = await freshUser();
      const cases: [object, ReturnType<typeof invalid>][] = [
        [{}, invalid('This field is required.', 'path', 'required')],
        [{ path: null }, invalid('This field may not be null.', 'path', 'null')],
        [{ path: '' }, invalid('This field may not be blank.', 'path', 'blank')],
        [{ path: '   ' }, invalid('This field may not be blank.', 'path', 'blank')],
        [{ path: 'p', type: null }, invalid('This field may not be null.', 'type', 'null')],
        [{ path: 'p', type: 't'.repeat(101) }, invalid('Ensure this field has no more than 100 characters.', 'type', 'max_length')],
        [{ path: 'p', ref: 'r'.repeat(101) }, invalid('Ensure this field has no more than 100 characters.', 'ref', 'max_length')],
        [{ path: 'p', href: {} }, invalid('Not a valid string.', 'href')],
        [{ path: 'p', order: 'first' }, invalid('A valid integer is required.', 'order')],
        [{ path: 'p', order: 1.5 }, invalid('A valid integer is required.', 'order')],
        [{ path: 'p', order: 2_147_483_648 }, invalid('Ensure this value is less than or equal to 2147483647.', 'order', 'max_value')],
        [{ path: 'p', order: -2_147_483_649 }, invalid('Ensure this value is greater than or equal to -2147483648.', 'order', 'min_value')],
      ];
      for (const [payload, error] of cases) expectError(await call('POST', base, payload), 400, error);

      const body = ok(
        await call('POST', base, { path: '  Trimmed  ', type: '', ref: '', href: '', id: '00000000-0000-7000-8000-000000000000', created_at: '2000-01-01T00:00:00Z', user_access_level: 'editor', extra: 1 }),
        201,
      );
      expect(body).toMatchObject({ path: 'Trimmed', type: '', ref: '', href: '' });
      expect(body.id).not.toBe('00000000-0000-7000-8000-000000000000');
      expect(body.created_at.startsWith('2000')).toBe(false);
    });
  });

  describe('list', () => {
    it('orders by order, then case-insensitively by path; ordering=±created_at orders by creation', async () => {
      const { account, base, call } = await freshUser();
      const empty = ok(await call('GET', base));
      expect(empty).toEqual({ count: 0, next: null, previous: null, results: [] });
      expectPostHogSchema(empty, 'PaginatedFileSystemShortcutList');

      await insertRow(account, { path: 'bananas', createdAt: '2024-01-02 00:00:00+00' });
      await insertRow(account, { path: 'Apples', createdAt: '2024-01-03 00:00:00+00' });
      await insertRow(account, { path: 'Zebra', order: -1, createdAt: '2024-01-01 00:00:00+00' });
      const page = ok(await call('GET', base));
      expect(Object.keys(page)).toEqual(['count', 'next', 'previous', 'results']);
      expect(page.count).toBe(3);
      expect(paths(page)).toEqual(['Zebra', 'Apples', 'bananas']);
      for (const shortcut of page.results) expect(Object.keys(shortcut)).toEqual(FIELDS);
      expectPostHogSchema(page, 'PaginatedFileSystemShortcutList');

      expect(paths(ok(await call('GET', `${base}?ordering=created_at`)))).toEqual(['Zebra', 'bananas', 'Apples']);
      expect(paths(ok(await call('GET', `${base}?ordering=-created_at`)))).toEqual(['Apples', 'bananas', 'Zebra']);
      expect(paths(ok(await call('GET', `${base}?ordering=path`)))).toEqual(['Zebra', 'Apples', 'bananas']);
    });

    it('pages with limit and offset; the links keep the other parameters, sorted by key', async () => {
      const { account, base, call } = await freshUser();
      for (const path of ['a', 'b', 'c']) ok(await call('POST', base, { path }), 201);
      const first = ok(await call('GET', `${base}?ordering=-created_at&limit=1`));
      expect(paths(first)).toEqual(['c']);
      expect(first.next).toMatch(new RegExp(`^http://[^/]+/api/projects/${account.teamId}/file_system_shortcut/\\?limit=1&offset=1&ordering=-created_at$`));
      expect(first.previous).toBeNull();
      expectPostHogSchema(first, 'PaginatedFileSystemShortcutList');

      const second = ok(await call('GET', first.next.replace(/^http:\/\/[^/]+/, '')));
      expect(paths(second)).toEqual(['b']);
      expect(second.previous).toMatch(/\/file_system_shortcut\/\?limit=1&ordering=-created_at$/);
      expect(second.next).toMatch(/\/file_system_shortcut\/\?limit=1&offset=2&ordering=-created_at$/);

      const last = ok(await call('GET', `${base}?limit=2&offset=2`));
      expect(last).toMatchObject({ count: 3, next: null });
      expect(paths(last)).toEqual(['c']);
      expect(last.previous).toMatch(/\/file_system_shortcut\/\?limit=2$/);
      expect(ok(await call('GET', `${base}?limit=0&offset=x`)).results).toHaveLength(3);
    });
  });

  describe('retrieve, update, delete', () => {
    it('retrieves by id; ids that are not UUIDs or not found are 404', async () => {
      const { base, call } = await freshUser();
      const created = ok(await call('POST', base, { path: 'RetrievedFile.txt', type: 'test-type' }), 201);
      const body = ok(await call('GET', `${base}${created.id}/`));
      expect(body).toEqual(created);
      expectPostHogSchema(body, 'FileSystemShortcut');
      expect(ok(await call('GET', `${base}{${created.id.toUpperCase()}}`)).id).toBe(created.id);
      expectError(await call('GET', `${base}nope/`), 404, notFound());
      expectError(await call('GET', `${base}00000000-0000-7000-8000-000000000000/`), 404, notFound());
    });

    it('PATCH changes the given fields; PUT needs path', async () => {
      const { base, call } = await freshUser();
      const created = ok(await call('POST', base, { path: 'file.txt', type: 'old-type', ref: '1', href: '/a' }), 201);
      const patched = ok(await call('PATCH', `${base}${created.id}/`, { path: 'newfile.txt', type: 'new-type' }));
      expect(patched).toEqual({ ...created, path: 'newfile.txt', type: 'new-type' });
      expectPostHogSchema(patched, 'FileSystemShortcut');
      expect(ok(await call('PATCH', `${base}${created.id}`, { order: -3, ref: null })).order).toBe(-3);
      expect(ok(await call('PATCH', `${base}${created.id}/`, {})).ref).toBeNull();
      expectError(await call('PATCH', `${base}${created.id}/`, { path: '' }), 400, invalid('This field may not be blank.', 'path', 'blank'));
      expectError(await call('PATCH', `${base}${created.id}/`, { type: 'x'.repeat(101) }), 400, invalid('Ensure this field has no more than 100 characters.', 'type', 'max_length'));

      expectError(await call('PUT', `${base}${created.id}/`, { type: 'x' }), 400, invalid('This field is required.', 'path', 'required'));
      const put = ok(await call('PUT', `${base}${created.id}/`, { path: 'put.txt' }));
      expect(put).toEqual({ ...created, path: 'put.txt', type: 'new-type', ref: null, order: -3 });
      expectPostHogSchema(put, 'FileSystemShortcut');
      expectError(await call('PUT', `${base}00000000-0000-7000-8000-000000000000/`, { path: 'x' }), 404, notFound());
    });

    it('deletes with 204 and an empty body', async () => {
      const { account, base, call } = await freshUser();
      const created = ok(await call('POST', base, { path: 'temp' }), 201);
      const response = await call('DELETE', `${base}${created.id}/`);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(await rowsOf(account)).toHaveLength(0);
      expectError(await call('GET', `${base}${created.id}/`), 404, notFound());
      expectError(await call('DELETE', `${base}${created.id}`), 404, notFound());
      expectError(await call('DELETE', `${base}not-a-uuid/`), 404, notFound());
    });
  });

  describe('isolation', () => {
    it("keeps each user's shortcuts private: another user's are 404 and absent from lists", async () => {
      const { account, base, call } = await freshUser();
      const mine = ok(await call('POST', base, { path: 'file-me.txt', type: 'temp' }), 201);
      const other = await make.member(account);
      const asOther = (method: Method, url: string, payload?: object) => call(method, url, payload, other.key);

      expect(ok(await asOther('GET', base))).toMatchObject({ count: 0, results: [] });
      expectError(await asOther('GET', `${base}${mine.id}/`), 404, notFound());
      expectError(await asOther('PATCH', `${base}${mine.id}/`, { path: 'hijacked' }), 404, notFound());
      expectError(await asOther('PUT', `${base}${mine.id}/`, { path: 'hijacked' }), 404, notFound());
      expectError(await asOther('DELETE', `${base}${mine.id}/`), 404, notFound());

      // Starring the same item makes the other user's own shortcut, with its own order.
      const theirs = ok(await asOther('POST', base, { path: 'file-me.txt', type: 'temp' }), 201);
      expect(theirs).toMatchObject({ order: 1 });
      expect(theirs.id).not.toBe(mine.id);
      expect(ok(await call('GET', base)).results.map((s: Shortcut) => s.id)).toEqual([mine.id]);
      expect(ok(await call('GET', `${base}${mine.id}/`))).toEqual(mine);
      expectError(await call('GET', `${base}${theirs.id}/`), 404, notFound());
    });

    it("spans the project's environments, except hog function shortcuts, which stay in their own", async () => {
      const { account, base, call } = await freshUser();
      const staging = await make.environment(account);
      const stagingBase = `/api/environments/${staging}/file_system_shortcut/`;
      const insight = ok(await call('POST', base, { path: 'Insight', type: 'insight', ref: 'abc' }), 201);
      const destination = ok(await call('POST', base, { path: 'Webhook', type: 'hog_function/destination', ref: 'h1' }), 201);

      expect(ok(await call('GET', base)).results.map((s: Shortcut) => s.id)).toEqual([insight.id, destination.id]);
      expect(ok(await call('GET', stagingBase)).results.map((s: Shortcut) => s.id)).toEqual([insight.id]);
      expect(ok(await call('GET', `${stagingBase}${insight.id}/`)).path).toBe('Insight');
      expectError(await call('GET', `${stagingBase}${destination.id}/`), 404, notFound());
      expectError(await call('DELETE', `${stagingBase}${destination.id}/`), 404, notFound());

      // An update moves the shortcut into the environment of the URL, as PostHog's serializer does.
      ok(await call('PATCH', `${stagingBase}${insight.id}/`, { path: 'Moved' }));
      const [row] = await ctx.database.db.select().from(fileSystemShortcuts).where(eq(fileSystemShortcuts.id, insight.id));
      expect(row!.teamId).toBe(staging);
      expect(ok(await call('GET', `${base}${insight.id}/`)).path).toBe('Moved');

      // Another project of the organization sees none of them.
      const otherBase = `/api/projects/${await make.project(account, 'Other')}/file_system_shortcut/`;
      expect(ok(await call('GET', otherBase)).count).toBe(0);
      expectError(await call('GET', `${otherBase}${insight.id}/`), 404, notFound());
    });
  });

  // Scopes, both prefixes, another organization's refusals and its 404s for this organization's ids: the access table.
  describe('scopes and prefixes', () => {
    it('answers under /api/environments/ and @current, with or without the trailing slash, and for sessions', async () => {
      const { account, base, call } = await freshUser();
      const created = ok(await call('POST', `/api/environments/${account.teamId}/file_system_shortcut`, { path: 'Env' }), 201);
      expect(ok(await call('GET', '/api/projects/@current/file_system_shortcut')).results.map((s: Shortcut) => s.id)).toEqual([created.id]);
      expect(ok(await call('GET', `/api/environments/@current/file_system_shortcut/${created.id}`)).path).toBe('Env');
      expect(ok(await call('PATCH', `/api/environments/${account.teamId}/file_system_shortcut/${created.id}`, { path: 'Env2' })).path).toBe('Env2');
      expect((await call('DELETE', `/api/projects/@current/file_system_shortcut/${created.id}`)).statusCode).toBe(204);
      expectError(await call('DELETE', base), 405, { type: 'invalid_request', code: 'method_not_allowed', detail: 'Method "DELETE" not allowed.', attr: null });

      const session = await ctx.login(account.user.email);
      ok(await ctx.app.inject({ method: 'POST', url: base, headers: sessionHeaders(session), payload: { path: 'From the browser' } }), 201);
      expect(paths(ok(await ctx.app.inject({ url: base, headers: sessionHeaders(session) })))).toEqual(['From the browser']);
      expect((await ctx.app.inject({ url: base })).statusCode).toBe(401);
    });
  });

  it('caps the appended order at the column maximum rather than failing', async () => {
    const { account, base, call } = await freshUser();
    await insertRow(account, { path: 'Top', order: 2_147_483_647 });
    expect(ok(await call('POST', base, { path: 'Next' }), 201).order).toBe(2_147_483_647);
    expect(await rowsOf(account)).toHaveLength(2);
  });
});
