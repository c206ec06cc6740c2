import { and, eq, sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, savedHeatmaps } from '../../../src/db/schema/index.js';
import { createHeatmapsRepository } from '../../../src/modules/heatmaps/repository.js';
import { type AccessRow, accessTable, readBack, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok } from '../../helpers/api.js';
import { bearer, createTestContext, type TestContext } from '../../helpers/context.js';
import { type Factories, factories, PAGE, type Tenant } from '../../helpers/factories.js';
import { expectPostHogSchema } from '../../helpers/posthog-schemas.js';

const FIELDS = [
  'id', 'short_id', 'name', 'url', 'data_url', 'target_widths', 'type', 'status', 'has_content', 'snapshots', 'deleted',
  'block_consent_modals', 'created_by', 'created_at', 'updated_at', 'exception',
];

const jpeg = (width: number) =>
  sharp({ create: { width, height: 20, channels: 3, background: { r: width % 255, g: 0, b: 0 } } }).jpeg().toBuffer();

describe('saved heatmaps', () => {
  let ctx: TestContext;
  let make: Factories;
  let account: Tenant;
  let key: string;
  let base: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
    account = await make.tenant();
    key = account.key;
    base = `/api/projects/${account.teamId}`;
  });
  afterAll(() => ctx.close());

  /** A screenshot heatmap of the owner's, named by its short_id (/saved/) or its id (/heatmap_screenshots/). */
  const saved =
    (id: 'short_id' | 'id' = 'short_id'): AccessRow['object'] =>
    async (owner) => {
      const heatmap = await make.heatmap(owner, { name: 'Guarded' });
      return readBack(owner, heatmap[id], `/api/projects/${owner.teamId}/saved/${heatmap.short_id}/`, heatmap);
    };

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/saved/', scope: 'heatmap:read', status: 200 },
      { method: 'POST', path: '/saved/', scope: 'heatmap:write', body: { url: PAGE, type: 'iframe' }, status: 201 },
      { method: 'GET', path: '/saved/:id/', scope: 'heatmap:read', object: saved(), status: 200 },
      { method: 'PATCH', path: '/saved/:id/', scope: 'heatmap:write', object: saved(), body: { name: 'Renamed' }, status: 200 },
      // DELETE always answers 405, once authorized: whatever the id, even another organization's.
      { method: 'DELETE', path: '/saved/:id/', scope: 'heatmap:write', object: saved(), status: 405, foreignObject: 405 },
      { method: 'POST', path: '/saved/:id/regenerate/', scope: 'heatmap:write', object: saved(), status: 200 },
      // Nothing is rendered (WORKERS is off): 202 with the heatmap.
      { method: 'GET', path: '/heatmap_screenshots/:id/content/', scope: 'heatmap:read', object: saved('id'), status: 202 },
    ]),
  );

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: object, k = key) =>
    ctx.app.inject({ method, url, headers: bearer(k), ...(payload && { payload }) });
  const create = (payload: object, k = key) => call('POST', `${base}/saved/`, payload, k);
  const renderJobs = async (heatmapId: string) =>
    ctx.database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.kind, 'heatmap.render'), sql`${jobs.payload}->>'heatmapId' = ${heatmapId}`));
  const generationOf = async (id: string) =>
    (await ctx.database.db.select({ g: savedHeatmaps.renderGeneration }).from(savedHeatmaps).where(eq(savedHeatmaps.id, id)))[0]!.g;
  const storeSnapshot = async (id: string, width: number) =>
    expect(await createHeatmapsRepository(ctx.database.db).storeSnapshot(id, await generationOf(id), width, await jpeg(width))).toBe(true);

  describe('create', () => {
    it("answers 201 with PostHog's object, the default widths and a render queued in the same transaction", async () => {
      const body = ok(await create({ url: PAGE }), 201);
      expect(Object.keys(body)).toEqual(FIELDS);
      expect(body).toMatchObject({
        name: null,
        url: PAGE,
        data_url: PAGE,
        target_widths: [320, 375, 425, 768, 1024, 1440, 1920],
        type: 'screenshot',
        status: 'processing',
        has_content: false,
        snapshots: [],
        deleted: false,
        block_consent_modals: false,
        created_by: { id: account.user.id, email: account.user.email },
        exception: null,
      });
      expect(body.short_id).toMatch(/^[A-Za-z0-9]{8}$/);
      expectPostHogSchema(body, 'HeatmapScreenshotResponse');
      const queued = await renderJobs(body.id);
      expect(queued).toHaveLength(1);
      expect(queued[0]).toMatchObject({ status: 'queued', dedupeKey: body.id, payload: { heatmapId: body.id, teamId: account.teamId } });
    });

    it('keeps the given fields, ignores deleted, and finishes other types at once without a render', async () => {
      const body = ok(
        await create({ url: PAGE, name: 'Pricing', data_url: 'http://93.184.215.14/users/*', widths: [1024, '375'], type: 'iframe', deleted: true }),
        201,
      );
      expect(body).toMatchObject({ name: 'Pricing', data_url: 'http://93.184.215.14/users/*', target_widths: [1024, 375], type: 'iframe', status: 'completed', deleted: false });
      expect(await renderJobs(body.id)).toHaveLength(0);
      const blank = ok(await create({ url: PAGE, data_url: '', block_consent_modals: true }), 201);
      expect(blank).toMatchObject({ data_url: PAGE, block_consent_modals: true });
    });

    it('validates every field with DRF’s and PostHog’s messages', async () => {
      const cases: [object, ReturnType<typeof invalid>][] = [
        [{}, invalid('This field is required.', 'url', 'required')],
        [{ url: null }, invalid('This field may not be null.', 'url', 'null')],
        [{ url: '' }, invalid('This field may not be blank.', 'url', 'blank')],
        [{ url: 'not a url' }, invalid('Enter a valid URL.', 'url')],
        [{ url: `http://93.184.215.14/${'a'.repeat(2000)}` }, invalid('Ensure this field has no more than 2000 characters.', 'url', 'max_length')],
        [{ url: 'http://93.184.215.14/users/*' }, invalid('Wildcards are not allowed in the page URL.', 'url')],
        [{ url: 'http://93.184.215.14/search?q=1' }, invalid('Wildcards are not allowed in the page URL.', 'url')],
        [{ url: 'ftp://93.184.215.14/file' }, invalid('Disallowed scheme', 'url')],
        [{ url: 'http://127.0.0.1:8000/' }, invalid('Local/Loopback host not allowed', 'url')],
        [{ url: 'http://localhost/' }, invalid('Local/Loopback host not allowed', 'url')],
        [{ url: 'http://10.1.2.3/' }, invalid('Private IP address not allowed', 'url')],
        [{ url: 'http://169.254.169.254/latest/meta-data' }, invalid('Local/metadata host', 'url')],
        [{ url: 'http://printer.corp/' }, invalid('Internal domain pattern blocked: .corp', 'url')],
        [{ url: PAGE, name: 'n'.repeat(401) }, invalid('Ensure this field has no more than 400 characters.', 'name', 'max_length')],
        [{ url: PAGE, type: 'upload' }, invalid('"upload" is not a valid choice.', 'type', 'invalid_choice')],
        [{ url: PAGE, widths: '1024' }, invalid('Expected a list of items but got type "str".', 'widths', 'not_a_list')],
        [{ url: PAGE, widths: [] }, invalid('This list may not be empty.', 'widths', 'empty')],
        [{ url: PAGE, widths: Array.from({ length: 17 }, () => 1024) }, invalid('Ensure this field has no more than 16 elements.', 'widths', 'max_length')],
        [{ url: PAGE, widths: [99] }, invalid('Ensure this value is greater than or equal to 100.', 'widths__0', 'min_value')],
        [{ url: PAGE, widths: [1024, 3001] }, invalid('Ensure this value is less than or equal to 3000.', 'widths__1', 'max_value')],
        [{ url: PAGE, widths: [1024.5] }, invalid('A valid integer is required.', 'widths__0')],
        [{ url: PAGE, widths: [true] }, invalid('A valid integer is required.', 'widths__0')],
        [{ url: PAGE, block_consent_modals: 'perhaps' }, invalid('Must be a valid boolean.', 'block_consent_modals')],
        [{ url: PAGE, data_url: 'nope' }, invalid('Enter a valid URL.', 'data_url')],
      ];
      for (const [payload, error] of cases) expectError(await create(payload), 400, error);
    });

    it('saves a page whose host name does not resolve here, of every type, as PostHog does', async () => {
      // .invalid never resolves (RFC 6761): an offline or intranet install saving a heatmap of a public site.
      for (const type of ['iframe', 'screenshot'] as const) {
        const body = ok(await create({ url: `https://${type}.burrow-nowhere.invalid/pricing`, type }), 201);
        expect(body).toMatchObject({ url: `https://${type}.burrow-nowhere.invalid/pricing`, type, exception: null });
      }
      const saved = ok(await create({ url: PAGE, type: 'iframe' }), 201);
      const moved = await call('PATCH', `${base}/saved/${saved.short_id}/`, { url: 'https://moved.burrow-nowhere.invalid/' });
      expect(ok(moved).url).toBe('https://moved.burrow-nowhere.invalid/');
      // What resolves, or is written, as a refused address is still refused.
      expectError(await call('PATCH', `${base}/saved/${saved.short_id}/`, { url: 'http://10.1.2.3/' }), 400, invalid('Private IP address not allowed', 'url'));
    });
  });

  describe('list', () => {
    let other: Tenant;
    let otherKey: string;
    let listBase: string;

    beforeAll(async () => {
      other = await make.tenant();
      otherKey = other.key;
      listBase = `/api/projects/${other.teamId}/saved/`;
      for (const [name, url, type] of [
        ['Alpha pricing', 'http://93.184.215.14/pricing', 'screenshot'],
        ['Beta docs', 'http://93.184.215.14/docs', 'iframe'],
        ['Gamma blog', 'http://93.184.215.14/blog', 'screenshot'],
      ] as const) {
        await make.heatmap(other, { name, url, type });
      }
      const gone = await make.heatmap(other, { name: 'Deleted one' });
      ok(await other.call('PATCH', `${listBase}${gone.short_id}/`, { deleted: true }));
    });

    const list = async (query = '') => ok(await ctx.app.inject({ url: `${listBase}${query}`, headers: bearer(otherKey) }));

    it('answers {results, count} newest change first, without deleted heatmaps', async () => {
      const body = await list();
      expect(Object.keys(body)).toEqual(['results', 'count']);
      expect(body.count).toBe(3);
      expect(body.results.map((h: { name: string }) => h.name)).toEqual(['Gamma blog', 'Beta docs', 'Alpha pricing']);
    });

    it('filters by type, status, search and creator; an empty search is no search', async () => {
      expect((await list('?type=iframe')).results.map((h: { name: string }) => h.name)).toEqual(['Beta docs']);
      expect((await list('?status=completed')).count).toBe(1);
      expect((await list('?type=bogus')).count).toBe(0);
      expect((await list('?search=DOCS')).results.map((h: { name: string }) => h.name)).toEqual(['Beta docs']);
      expect((await list('?search=pricing')).count).toBe(1);
      expect((await list('?search=')).count).toBe(3);
      expect((await list(`?created_by=${other.user.id}`)).count).toBe(3);
      expect((await list(`?created_by=${other.user.id + 1000}`)).count).toBe(0);
      expect((await list('?created_by=0')).count).toBe(3);
    });

    it('orders by any field, and refuses unknown ones with PostHog’s bare error', async () => {
      expect((await list('?order=name')).results.map((h: { name: string }) => h.name)).toEqual(['Alpha pricing', 'Beta docs', 'Gamma blog']);
      expect((await list('?order=-url')).results[0].name).toBe('Alpha pricing');
      const bad = await ctx.app.inject({ url: `${listBase}?order=bogus`, headers: bearer(otherKey) });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toEqual({ error: 'Invalid order field: bogus' });
    });

    it('clamps limit to 1..500 and floors offset at 0; non-integers are 400', async () => {
      expect((await list('?limit=1')).results).toHaveLength(1);
      expect((await list('?limit=0')).results).toHaveLength(1);
      expect((await list('?limit=100000000')).results).toHaveLength(3);
      expect((await list('?offset=-5')).results).toHaveLength(3);
      expect((await list('?offset=2')).results.map((h: { name: string }) => h.name)).toEqual(['Alpha pricing']);
      for (const [query, attr] of [['?limit=abc', 'limit'], ['?offset=xyz', 'offset'], ['?created_by=nope', 'created_by']]) {
        expectError(await ctx.app.inject({ url: `${listBase}${query}`, headers: bearer(otherKey) }), 400, invalid('A valid integer is required.', attr!));
      }
    });
  });

  describe('retrieve, patch, delete, regenerate', () => {
    it('retrieves by short_id, deleted heatmaps included; unknown ids are 404', async () => {
      const created = ok(await create({ url: PAGE, name: 'Keep' }), 201);
      expect(ok(await call('GET', `${base}/saved/${created.short_id}/`)).id).toBe(created.id);
      ok(await call('PATCH', `${base}/saved/${created.short_id}/`, { deleted: true }));
      expect(ok(await call('GET', `${base}/saved/${created.short_id}`)).deleted).toBe(true);
      expectError(await call('GET', `${base}/saved/nope1234/`), 404, notFound());
    });

    it('soft-deletes and restores through PATCH deleted', async () => {
      const created = ok(await create({ url: PAGE, name: 'Restorable' }), 201);
      const listed = async () => ok(await call('GET', `${base}/saved/?search=Restorable`)).count;
      expect(await listed()).toBe(1);
      expect(ok(await call('PATCH', `${base}/saved/${created.short_id}/`, { deleted: true })).deleted).toBe(true);
      expect(await listed()).toBe(0);
      expect(ok(await call('PATCH', `${base}/saved/${created.short_id}/`, { deleted: false })).deleted).toBe(false);
      expect(await listed()).toBe(1);
    });

    it('renders again when url or consent blocking changes on a screenshot, not for other fields', async () => {
      const created = ok(await create({ url: PAGE }), 201);
      await storeSnapshot(created.id, 1024);
      const renamed = ok(await call('PATCH', `${base}/saved/${created.short_id}/`, { name: 'Renamed', data_url: 'http://93.184.215.14/*' }));
      expect(renamed).toMatchObject({ name: 'Renamed', has_content: true, snapshots: [{ width: 1024, has_content: true }] });

      const moved = ok(await call('PATCH', `${base}/saved/${created.short_id}/`, { url: 'http://93.184.215.14/other' }));
      expect(moved).toMatchObject({ url: 'http://93.184.215.14/other', status: 'processing', has_content: false, snapshots: [] });
      await storeSnapshot(created.id, 768);
      const consent = ok(await call('PATCH', `${base}/saved/${created.short_id}/`, { block_consent_modals: true }));
      expect(consent).toMatchObject({ block_consent_modals: true, snapshots: [] });
      expect(await generationOf(created.id)).toBe(2);
      const queued = (await renderJobs(created.id)).filter((j) => j.status === 'queued');
      expect(queued).toHaveLength(1);
    });

    it('saves PATCHed widths into target_widths (PostHog drops them) and validates the url', async () => {
      const created = ok(await create({ url: PAGE }), 201);
      expect(ok(await call('PATCH', `${base}/saved/${created.short_id}/`, { widths: [800, 1200] })).target_widths).toEqual([800, 1200]);
      expectError(await call('PATCH', `${base}/saved/${created.short_id}/`, { url: 'http://192.168.1.1/' }), 400, invalid('Private IP address not allowed', 'url'));
      expectError(await call('PATCH', `${base}/saved/${created.short_id}/`, { url: 'http://93.184.215.14/a+b' }), 400, invalid('Wildcards are not allowed in the page URL.', 'url'));
    });

    it('answers DELETE with 405 and an empty body, the write scope checked first (access table)', async () => {
      const created = ok(await create({ url: PAGE }), 201);
      const response = await call('DELETE', `${base}/saved/${created.short_id}/`);
      expect(response.statusCode).toBe(405);
      expect(response.body).toBe('');
      const unknown = await call('DELETE', `${base}/saved/whatever/`);
      expect(unknown.statusCode).toBe(405);
      expectError(await call('PUT', `${base}/saved/${created.short_id}/`, { url: PAGE }), 405, {
        type: 'invalid_request',
        code: 'method_not_allowed',
        detail: 'Method "PUT" not allowed.',
        attr: null,
      });
    });

    it('regenerates screenshots only: snapshots and exception cleared, status processing, a render queued', async () => {
      const created = ok(await create({ url: PAGE }), 201);
      await storeSnapshot(created.id, 1024);
      await ctx.database.db.update(savedHeatmaps).set({ status: 'failed', exception: 'boom' }).where(eq(savedHeatmaps.id, created.id));
      const body = ok(await call('POST', `${base}/saved/${created.short_id}/regenerate/`));
      expect(body).toMatchObject({ status: 'processing', exception: null, has_content: false, snapshots: [] });
      const iframe = ok(await create({ url: PAGE, type: 'iframe' }), 201);
      const refused = await call('POST', `${base}/saved/${iframe.short_id}/regenerate/`);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({ error: 'Only screenshot heatmaps can be regenerated' });
    });

    it('renders a screenshot stuck in processing for over 10 minutes again when it is retrieved', async () => {
      const created = ok(await create({ url: PAGE }), 201);
      await storeSnapshot(created.id, 375);
      await ctx.database.db
        .update(savedHeatmaps)
        .set({ updatedAt: sql`now() - interval '11 minutes'` })
        .where(eq(savedHeatmaps.id, created.id));
      const before = await generationOf(created.id);
      const body = ok(await call('GET', `${base}/saved/${created.short_id}/`));
      expect(body).toMatchObject({ status: 'processing', snapshots: [], exception: null });
      expect(Date.parse(body.updated_at)).toBeGreaterThan(Date.now() - 60_000);
      expect(await generationOf(created.id)).toBe(before + 1);

      const fresh = ok(await create({ url: PAGE }), 201);
      const again = ok(await call('GET', `${base}/saved/${fresh.short_id}/`));
      expect(again.updated_at).toBe(fresh.updated_at);
    });
  });

  describe('screenshot content', () => {
    let heatmap: { id: string; short_id: string };
    const content = (id: string, query = '', k = key) => ctx.app.inject({ url: `${base}/heatmap_screenshots/${id}/content/${query}`, headers: bearer(k) });

    beforeAll(async () => {
      heatmap = ok(await create({ url: PAGE, widths: [700, 768, 900, 1024] }), 201);
    });

    it('answers 202 with the heatmap while nothing is stored', async () => {
      const response = await content(heatmap.id);
      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({ id: heatmap.id, status: 'processing', has_content: false });
    });

    it('serves the exact width, else the nearest (ties to the smaller), as an attachment', async () => {
      for (const width of [700, 768, 900, 1024]) await storeSnapshot(heatmap.id, width);
      const exact = await content(heatmap.id);
      expect(exact.statusCode).toBe(200);
      expect(exact.headers['content-type']).toBe('image/jpeg');
      expect(exact.headers['content-disposition']).toBe(`attachment; filename="screenshot-${heatmap.id}-1024.jpg"`);
      expect(exact.headers['cache-control']).toBe('private, max-age=30');
      expect((await sharp(exact.rawPayload).metadata()).width).toBe(1024);
      expect((await content(heatmap.id, '?width=800')).headers['content-disposition']).toContain('-768.jpg"');
      expect((await content(heatmap.id, '?width=834')).headers['content-disposition']).toContain('-768.jpg"');
      expect((await content(heatmap.id, '?width=835')).headers['content-disposition']).toContain('-900.jpg"');
      expect((await content(heatmap.id, '?width=-5')).headers['content-disposition']).toContain('-700.jpg"');
      expect((await content(heatmap.id, '?width=%20900%20')).headers['content-disposition']).toContain('-900.jpg"');
      const listed = ok(await call('GET', `${base}/saved/${heatmap.short_id}/`));
      expect(listed.snapshots).toEqual([700, 768, 900, 1024].map((width) => ({ width, has_content: true })));
    });

    it('refuses a width that is not an integer with PostHog’s bare error', async () => {
      for (const query of ['?width=abc', '?width=1024.5', '?width=']) {
        const response = await content(heatmap.id, query);
        expect(response.statusCode, query).toBe(400);
        expect(response.json()).toEqual({ error: 'Invalid width parameter, must be an integer' });
      }
    });

    it('answers 404 with an empty body for a deleted heatmap, and the usual 404 for unknown ids', async () => {
      const gone = ok(await create({ url: PAGE }), 201);
      ok(await call('PATCH', `${base}/saved/${gone.short_id}/`, { deleted: true }));
      const response = await content(gone.id);
      expect(response.statusCode).toBe(404);
      expect(response.body).toBe('');
      expectError(await content('00000000-0000-7000-8000-000000000000'), 404, notFound());
      expectError(await content('not-a-uuid'), 404, notFound());
    });

    it('is served under the environments prefix and @current too', async () => {
      const env = await ctx.app.inject({ url: `/api/environments/${account.teamId}/heatmap_screenshots/${heatmap.id}/content/?width=700`, headers: bearer(key) });
      expect(env.statusCode).toBe(200);
      const current = await ctx.app.inject({ url: `/api/projects/@current/heatmap_screenshots/${heatmap.id}/content`, headers: bearer(key) });
      expect(current.statusCode).toBe(200);
      expectError(await ctx.app.inject({ url: `${base}/heatmap_screenshots/`, headers: bearer(key) }), 404, {
        type: 'invalid_request',
        code: 'not_found',
        detail: 'Endpoint not found.',
        attr: null,
      });
    });
  });

  // Scopes, both prefixes and the other organization's refusals: the access table above.
  describe('scopes and isolation', () => {
    it('serves a heatmap made under the environments prefix through @current', async () => {
      const writer = await ctx.newKey(account.user, { scopes: ['heatmap:write'] });
      const created = ok(await ctx.app.inject({ method: 'POST', url: `/api/environments/${account.teamId}/saved/`, headers: bearer(writer), payload: { url: PAGE } }), 201);
      expect(ok(await ctx.app.inject({ url: `/api/environments/@current/saved/${created.short_id}`, headers: bearer(writer) })).id).toBe(created.id);
    });

    it("lists none of another organization's heatmaps", async () => {
      await make.heatmap(account, { name: 'Private' });
      const intruder = await make.tenant();
      expect(ok(await intruder.call('GET', `/api/projects/${intruder.teamId}/saved/`)).count).toBe(0);
    });
  });
});
