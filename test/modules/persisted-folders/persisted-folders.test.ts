import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persistedFolders } from '../../../src/db/schema/index.js';
import { type AccessRow, accessTable, readBack, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok, sessionHeaders } from '../../helpers/api.js';
import { bearer, createTestContext, type TestContext } from '../../helpers/context.js';
import { type Factories, factories } from '../../helpers/factories.js';
import { expectPostHogSchema } from '../../helpers/posthog-schemas.js';

const FIELDS = ['id', 'type', 'protocol', 'path', 'created_at', 'updated_at'];
const TYPE_TAKEN = invalid('A persisted folder of this type already exists.', 'type', 'unique');

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

describe('persisted folders', () => {
  let ctx: TestContext;
  let make: Factories;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  /** A fresh user with their own organization and team, so every test starts with no folders. */
  async function freshUser() {
    const account = await make.tenant();
    const base = `/api/projects/${account.teamId}/persisted_folder/`;
    return { account, key: account.key, base, call: account.call };
  }

  /** The owner's home folder (made again, or made anew after a delete), and the check that it is as made. */
  const home: AccessRow['object'] = async (owner) => {
    const made = await make.persistedFolder(owner, { type: 'home', path: 'Guarded' });
    return readBack(owner, made.id, `/api/projects/${owner.teamId}/persisted_folder/${made.id}/`, made);
  };

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/persisted_folder/', scope: 'persisted_folder:read', status: 200 },
      { method: 'POST', path: '/persisted_folder/', scope: 'persisted_folder:write', body: { type: 'pinned' }, status: 201 },
      { method: 'GET', path: '/persisted_folder/:id/', scope: 'persisted_folder:read', object: home, status: 200 },
      { method: 'PATCH', path: '/persisted_folder/:id/', scope: 'persisted_folder:write', object: home, body: { path: 'Patched' }, status: 200 },
      { method: 'PUT', path: '/persisted_folder/:id/', scope: 'persisted_folder:write', object: home, body: { type: 'home', path: 'Put' }, status: 200 },
      { method: 'DELETE', path: '/persisted_folder/:id/', scope: 'persisted_folder:write', object: home, status: 204 },
    ]),
  );

  const rowsOf = (teamId: number, userId: number) =>
    ctx.database.db
      .select()
      .from(persistedFolders)
      .where(and(eq(persistedFolders.teamId, teamId), eq(persistedFolders.userId, userId)));

  describe('create (an upsert on the user’s folder of a type)', () => {
    it("answers 201 with PostHog's object, protocol and path defaulting to products:// and ''", async () => {
      const { base, call } = await freshUser();
      const body = ok(await call('POST', base, { type: 'pinned' }), 201);
      expect(Object.keys(body)).toEqual(FIELDS);
      expect(body).toMatchObject({ type: 'pinned', protocol: 'products://', path: '' });
      expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/);
      expect(body.updated_at).toBe(body.created_at);
      expectPostHogSchema(body, 'PersistedFolder');
    });

    it('replaces protocol and path of the existing row (same id, still 201); omitted ones go back to the defaults', async () => {
      const { account, base, call } = await freshUser();
      const first = ok(await call('POST', base, { type: 'home', protocol: 'project://', path: 'Root/Home' }), 201);
      expect(first).toMatchObject({ type: 'home', protocol: 'project://', path: 'Root/Home' });

      const second = ok(await call('POST', base, { type: 'home', path: 'Root/Home/V2' }), 201);
      expect(second).toMatchObject({ id: first.id, type: 'home', protocol: 'products://', path: 'Root/Home/V2', created_at: first.created_at });
      expect(Date.parse(second.updated_at)).toBeGreaterThan(Date.parse(first.updated_at));
      expectPostHogSchema(second, 'PersistedFolder');

      const third = ok(await call('POST', base, { type: 'home' }), 201);
      expect(third).toMatchObject({ id: first.id, protocol: 'products://', path: '' });
      expect(await rowsOf(account.teamId, account.user.id)).toHaveLength(1);

      const other = ok(await call('POST', base, { type: 'custom_products', path: 'x' }), 201);
      expect(other.id).not.toBe(first.id);
      expect(await rowsOf(account.teamId, account.user.id)).toHaveLength(2);
    });

    it('is race-free: concurrent creates of one type all answer 201 with the one row', async () => {
      const { account, base, call } = await freshUser();
      const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => call('POST', base, { type: 'pinned', path: `p${i}` })));
      const bodies = responses.map((r) => ok(r, 201));
      expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
      const rows = await rowsOf(account.teamId, account.user.id);
      expect(rows).toHaveLength(1);
      expect(bodies.map((b) => b.path)).toContain(rows[0]!.path);
    });

    it('ignores unknown and read-only fields, and trims strings as DRF does', async () => {
      const { base, call } = await freshUser();
      const body = ok(
        await call('POST', base, { type: 'home', path: '  Root  ', id: '00000000-0000-7000-8000-000000000000', created_at: '2000-01-01T00:00:00Z', surface: 'desktop', nonsense: 1 }),
        201,
      );
      expect(body.id).not.toBe('00000000-0000-7000-8000-000000000000');
      expect(body.path).toBe('Root');
      expect(body.created_at.startsWith('2000')).toBe(false);
    });

    it('validates with DRF’s messages', async () => {
      const { base, call } = await freshUser();
      const cases: [object, ReturnType<typeof invalid>][] = [
        [{}, invalid('This field is required.', 'type', 'required')],
        [{ type: null }, invalid('This field may not be null.', 'type', 'null')],
        [{ type: 'folder' }, invalid('"folder" is not a valid choice.', 'type', 'invalid_choice')],
        [{ type: '' }, invalid('"" is not a valid choice.', 'type', 'invalid_choice')],
        [{ type: 'Home' }, invalid('"Home" is not a valid choice.', 'type', 'invalid_choice')],
        [{ type: 'home', protocol: '' }, invalid('This field may not be blank.', 'protocol', 'blank')],
        [{ type: 'home', protocol: null }, invalid('This field may not be null.', 'protocol', 'null')],
        [{ type: 'home', protocol: 'p'.repeat(65) }, invalid('Ensure this field has no more than 64 characters.', 'protocol', 'max_length')],
        [{ type: 'home', path: null }, invalid('This field may not be null.', 'path', 'null')],
        [{ type: 'home', path: ['a'] }, invalid('Not a valid string.', 'path')],
      ];
      for (const [payload, error] of cases) expectError(await call('POST', base, payload), 400, error);
      expect(ok(await call('POST', base, { type: 'home', protocol: 'p'.repeat(64), path: '' }), 201).protocol).toHaveLength(64);
    });

    it('accepts form bodies too', async () => {
      const { key, base } = await freshUser();
      const response = await ctx.app.inject({
        method: 'POST',
        url: base,
        headers: { ...bearer(key), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'type=pinned&protocol=project%3A%2F%2F&path=Unfiled%2FInsights',
      });
      expect(ok(response, 201)).toMatchObject({ type: 'pinned', protocol: 'project://', path: 'Unfiled/Insights' });
    });
  });

  describe('list', () => {
    it('answers DRF pagination of the user’s folders ordered by type', async () => {
      const { base, call } = await freshUser();
      const empty = ok(await call('GET', base));
      expect(empty).toEqual({ count: 0, next: null, previous: null, results: [] });
      expectPostHogSchema(empty, 'PaginatedPersistedFolderList');

      for (const type of ['pinned', 'home', 'custom_products']) ok(await call('POST', base, { type }), 201);
      const page = ok(await call('GET', base));
      expect(Object.keys(page)).toEqual(['count', 'next', 'previous', 'results']);
      expect(page).toMatchObject({ count: 3, next: null, previous: null });
      expect(page.results.map((f: { type: string }) => f.type)).toEqual(['custom_products', 'home', 'pinned']);
      for (const folder of page.results) expect(Object.keys(folder)).toEqual(FIELDS);
      expectPostHogSchema(page, 'PaginatedPersistedFolderList');
    });

    it('pages with limit and offset, with absolute next and previous links', async () => {
      const { account, base, call } = await freshUser();
      for (const type of ['pinned', 'home', 'custom_products']) ok(await call('POST', base, { type }), 201);
      const first = ok(await call('GET', `${base}?limit=1`));
      expect(first.results.map((f: { type: string }) => f.type)).toEqual(['custom_products']);
      expect(first.next).toMatch(new RegExp(`^http://[^/]+/api/projects/${account.teamId}/persisted_folder/\\?limit=1&offset=1$`));
      expect(first.previous).toBeNull();
      expectPostHogSchema(first, 'PaginatedPersistedFolderList');

      const second = ok(await call('GET', `${base}?offset=1&limit=1`));
      expect(second.results.map((f: { type: string }) => f.type)).toEqual(['home']);
      expect(second.next).toMatch(/\/persisted_folder\/\?limit=1&offset=2$/);
      expect(second.previous).toMatch(/\/persisted_folder\/\?limit=1$/);

      const last = ok(await call('GET', `${base}?limit=1&offset=2`));
      expect(last.results.map((f: { type: string }) => f.type)).toEqual(['pinned']);
      expect(last.next).toBeNull();
      expect(last.previous).toMatch(/\/persisted_folder\/\?limit=1&offset=1$/);

      expect(ok(await call('GET', `${base}?limit=abc&offset=-3`)).results).toHaveLength(3);
      expect(ok(await call('GET', `${base}?offset=10`))).toMatchObject({ count: 3, next: null, results: [] });
    });
  });

  describe('retrieve, update, delete', () => {
    it('retrieves by id (any UUID spelling Django takes); other ids are 404', async () => {
      const { base, call } = await freshUser();
      const created = ok(await call('POST', base, { type: 'home', path: 'A' }), 201);
      const body = ok(await call('GET', `${base}${created.id}/`));
      expect(body).toEqual(created);
      expectPostHogSchema(body, 'PersistedFolder');
      expect(ok(await call('GET', `${base}${created.id.replaceAll('-', '').toUpperCase()}`)).id).toBe(created.id);
      expectError(await call('GET', `${base}not-a-uuid/`), 404, notFound());
      expectError(await call('GET', `${base}00000000-0000-7000-8000-000000000000/`), 404, notFound());
    });

    it('PATCH changes the given fields and bumps updated_at', async () => {
      const { base, call } = await freshUser();
      const created = ok(await call('POST', base, { type: 'home', protocol: 'project://', path: 'A' }), 201);
      const patched = ok(await call('PATCH', `${base}${created.id}/`, { path: 'B' }));
      expect(patched).toMatchObject({ id: created.id, type: 'home', protocol: 'project://', path: 'B', created_at: created.created_at });
      expect(Date.parse(patched.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
      expectPostHogSchema(patched, 'PersistedFolder');

      const retyped = ok(await call('PATCH', `${base}${created.id}/`, { type: 'custom_products' }));
      expect(retyped).toMatchObject({ type: 'custom_products', path: 'B' });
      expect(ok(await call('PATCH', `${base}${created.id}`, {})).path).toBe('B');
      expect(ok(await call('PATCH', `${base}${created.id}/`)).type).toBe('custom_products');

      expectError(await call('PATCH', `${base}${created.id}/`, { type: 'nope' }), 400, invalid('"nope" is not a valid choice.', 'type', 'invalid_choice'));
      expectError(await call('PATCH', `${base}${created.id}/`, { protocol: '' }), 400, invalid('This field may not be blank.', 'protocol', 'blank'));
      expectError(await call('PATCH', `${base}00000000-0000-7000-8000-000000000000/`, { path: 'x' }), 404, notFound());
    });

    it('PUT needs type and leaves omitted fields as they are', async () => {
      const { base, call } = await freshUser();
      const created = ok(await call('POST', base, { type: 'pinned', protocol: 'project://', path: 'A' }), 201);
      expectError(await call('PUT', `${base}${created.id}/`, { path: 'B' }), 400, invalid('This field is required.', 'type', 'required'));
      const put = ok(await call('PUT', `${base}${created.id}/`, { type: 'pinned', path: 'B' }));
      expect(put).toMatchObject({ id: created.id, type: 'pinned', protocol: 'project://', path: 'B' });
      expectPostHogSchema(put, 'PersistedFolder');
    });

    it('answers a PATCH or PUT onto a type the user already has with a 400 on type, leaving both rows alone', async () => {
      const { account, base, call } = await freshUser();
      const home = ok(await call('POST', base, { type: 'home', path: 'H' }), 201);
      const pinned = ok(await call('POST', base, { type: 'pinned', path: 'P' }), 201);
      expectError(await call('PATCH', `${base}${pinned.id}/`, { type: 'home', path: 'changed' }), 400, TYPE_TAKEN);
      expectError(await call('PUT', `${base}${pinned.id}/`, { type: 'home' }), 400, TYPE_TAKEN);
      expect(ok(await call('GET', `${base}${pinned.id}/`))).toEqual(pinned);
      expect(ok(await call('GET', `${base}${home.id}/`))).toEqual(home);
      expect(await rowsOf(account.teamId, account.user.id)).toHaveLength(2);
      // Its own type is no collision.
      expect(ok(await call('PATCH', `${base}${pinned.id}/`, { type: 'pinned' })).type).toBe('pinned');
    });

    it('answers concurrent PATCHes racing to one type with one 200 and 400s, never a 500', async () => {
      const { account, base, call } = await freshUser();
      const folders = [ok(await call('POST', base, { type: 'home' }), 201), ok(await call('POST', base, { type: 'pinned' }), 201)];
      const responses = await Promise.all(folders.map((f) => call('PATCH', `${base}${f.id}/`, { type: 'custom_products' })));
      const statuses = responses.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 400]);
      expectError(responses.find((r) => r.statusCode === 400)!, 400, TYPE_TAKEN);
      const types = (await rowsOf(account.teamId, account.user.id)).map((r) => r.type).sort();
      expect(types).toHaveLength(2);
      expect(types).toContain('custom_products');
    });

    it('deletes with 204 and an empty body; the folder is gone', async () => {
      const { base, call } = await freshUser();
      const created = ok(await call('POST', base, { type: 'home' }), 201);
      const response = await call('DELETE', `${base}${created.id}/`);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expectError(await call('GET', `${base}${created.id}/`), 404, notFound());
      expectError(await call('DELETE', `${base}${created.id}/`), 404, notFound());
      expectError(await call('DELETE', `${base}nope/`), 404, notFound());
      // A new folder of the type can be made again, with a new id.
      expect(ok(await call('POST', base, { type: 'home' }), 201).id).not.toBe(created.id);
    });

    it('answers other methods with 405', async () => {
      const { base, call } = await freshUser();
      expectError(await call('DELETE', base), 405, { type: 'invalid_request', code: 'method_not_allowed', detail: 'Method "DELETE" not allowed.', attr: null });
      const created = ok(await call('POST', base, { type: 'home' }), 201);
      expectError(await call('POST', `${base}${created.id}/`, { type: 'home' }), 405, {
        type: 'invalid_request',
        code: 'method_not_allowed',
        detail: 'Method "POST" not allowed.',
        attr: null,
      });
    });
  });

  describe('isolation', () => {
    it("keeps each user's folders private within a team: another user's rows are 404 and absent from lists", async () => {
      const { account, base, call } = await freshUser();
      const mine = ok(await call('POST', base, { type: 'home', path: 'Mine' }), 201);
      const other = await make.member(account);
      const asOther = (method: Method, url: string, payload?: object) => call(method, url, payload, other.key);

      expect(ok(await asOther('GET', base))).toMatchObject({ count: 0, results: [] });
      expectError(await asOther('GET', `${base}${mine.id}/`), 404, notFound());
      expectError(await asOther('PATCH', `${base}${mine.id}/`, { path: 'hijacked' }), 404, notFound());
      expectError(await asOther('PUT', `${base}${mine.id}/`, { type: 'home', path: 'hijacked' }), 404, notFound());
      expectError(await asOther('DELETE', `${base}${mine.id}/`), 404, notFound());

      // The other user's own folder of the same type is a separate row; creating it leaves mine alone.
      const theirs = ok(await asOther('POST', base, { type: 'home', path: 'Theirs' }), 201);
      expect(theirs.id).not.toBe(mine.id);
      expect(ok(await call('GET', `${base}${mine.id}/`))).toEqual(mine);
      expect(ok(await call('GET', base)).results.map((f: { id: string }) => f.id)).toEqual([mine.id]);
      expect(ok(await asOther('GET', base)).results.map((f: { id: string }) => f.id)).toEqual([theirs.id]);
      expectError(await call('GET', `${base}${theirs.id}/`), 404, notFound());
      expectError(await call('DELETE', `${base}${theirs.id}/`), 404, notFound());
    });

    it('keeps folders per team: another project of the organization has its own', async () => {
      const { account, base, call } = await freshUser();
      const mine = ok(await call('POST', base, { type: 'home', path: 'First' }), 201);
      const secondBase = `/api/projects/${await make.project(account)}/persisted_folder/`;
      expect(ok(await call('GET', secondBase)).count).toBe(0);
      expectError(await call('GET', `${secondBase}${mine.id}/`), 404, notFound());
      const there = ok(await call('POST', secondBase, { type: 'home', path: 'Second' }), 201);
      expect(there.id).not.toBe(mine.id);
      expect(ok(await call('GET', `${base}${mine.id}/`)).path).toBe('First');
    });
  });

  // Scopes, both prefixes, another organization's refusals and its 404s for this organization's ids: the access table.
  describe('scopes and prefixes', () => {
    it('answers under /api/environments/ and @current, with or without the trailing slash', async () => {
      const { account, key, base, call } = await freshUser();
      const env = `/api/environments/${account.teamId}/persisted_folder`;
      const created = ok(await call('POST', env, { type: 'home', path: 'E' }), 201);
      expect(ok(await call('GET', `/api/projects/@current/persisted_folder`)).results.map((f: { id: string }) => f.id)).toEqual([created.id]);
      expect(ok(await call('GET', `/api/environments/@current/persisted_folder/${created.id}`)).path).toBe('E');
      expect(ok(await call('PATCH', `${env}/${created.id}`, { path: 'F' })).path).toBe('F');
      expect(ok(await call('GET', `${base}${created.id}`)).path).toBe('F');
      const page = ok(await ctx.app.inject({ url: `${env}/?limit=1`, headers: bearer(key) }));
      expect(page.next).toBeNull();
      expect((await call('DELETE', `/api/projects/@current/persisted_folder/${created.id}/`)).statusCode).toBe(204);
    });

    it('works for a browser session, and refuses anonymous callers', async () => {
      const { account, base } = await freshUser();
      const session = await ctx.login(account.user.email);
      const created = ok(await ctx.app.inject({ method: 'POST', url: base, headers: sessionHeaders(session), payload: { type: 'pinned' } }), 201);
      expect(ok(await ctx.app.inject({ url: base, headers: sessionHeaders(session) })).results[0].id).toBe(created.id);
      const anonymous = await ctx.app.inject({ url: base });
      expect(anonymous.statusCode).toBe(401);
    });
  });
});
