import { gzipSync } from 'node:zlib';
import { asc, desc, eq, sql } from 'drizzle-orm';
import LZString from 'lz-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { events, gridOf, heatmapPages, heatmapPoints, packedPointSql, pageKeyOf } from '../../../src/db/schema/index.js';
import { expectError, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';

const ORIGIN = 'https://shop.example.com';
const uuid = (n: number) => `0190a0b0-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('capture: events from posthog-js', () => {
  let ctx: TestContext;
  let make: Factories;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
    tenant = await make.tenant();
    token = await make.projectToken(tenant);
  });
  afterAll(() => ctx.close());

  const stored = (teamId: number) => ctx.database.db.select().from(events).where(eq(events.teamId, teamId)).orderBy(asc(events.timestamp));
  const storedUuid = async (teamId: number, id: string) => (await stored(teamId)).find((e) => e.uuid === id);

  const post = (url: string, payload: string | Buffer | object, headers: Record<string, string> = {}) =>
    ctx.app.inject({
      method: 'POST',
      url,
      headers: { origin: ORIGIN, 'content-type': typeof payload === 'object' && !Buffer.isBuffer(payload) ? 'application/json' : 'text/plain', ...headers },
      payload: typeof payload === 'object' && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload,
    });

  const pageview = (id: number, extra: Record<string, unknown> = {}) => ({
    uuid: uuid(id),
    event: '$pageview',
    properties: { distinct_id: 'visitor-1', $session_id: 'session-1', $window_id: 'window-1', $current_url: 'https://shop.example.com/a', ...extra },
    timestamp: '2026-12-01T10:00:00.000Z',
  });

  describe('what posthog-js sends', () => {
    it('stores a gzip batch recognised by its magic bytes, moving timestamps by the client clock’s error', async () => {
      // The client's clock runs an hour behind: it stamped sent_at an hour before the server's now.
      const clientNow = new Date(Date.now() - 3600_000);
      const body = { api_key: token, sent_at: clientNow.toISOString(), batch: [{ ...pageview(1), timestamp: new Date(clientNow.getTime() - 5000).toISOString() }] };
      const before = Date.now();
      const response = await post('/e/?ver=1.449.2', gzipSync(JSON.stringify(body)));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'Ok' });
      expect(response.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(response.headers['access-control-allow-credentials']).toBe('true');

      const row = await storedUuid(tenant.teamId, uuid(1));
      expect(row).toMatchObject({ event: '$pageview', distinctId: 'visitor-1', sessionId: 'session-1', windowId: 'window-1', currentUrl: 'https://shop.example.com/a' });
      const happened = Date.parse(row!.timestamp);
      expect(happened).toBeGreaterThanOrEqual(before - 5000 - 50);
      expect(happened).toBeLessThanOrEqual(Date.now() - 5000 + 50);
      expect(row!.properties).not.toHaveProperty('token');
    });

    it('takes every encoding and shape PostHog’s capture takes', async () => {
      const json = (n: number) => JSON.stringify({ api_key: token, batch: [pageview(n)] });
      const cases = [
        { name: 'plain JSON', send: () => post('/e/', JSON.parse(json(10))) },
        { name: 'compression=gzip-js', send: () => post('/e/?compression=gzip-js', gzipSync(json(11))) },
        { name: 'lz64', send: () => post('/e/?compression=lz64', LZString.compressToBase64(json(12))) },
        {
          name: 'base64 form body',
          send: () =>
            post('/e/', `data=${encodeURIComponent(Buffer.from(json(13)).toString('base64'))}&compression=base64`, {
              'content-type': 'application/x-www-form-urlencoded',
            }),
        },
        { name: 'GET with ?data=', send: () => ctx.app.inject({ method: 'GET', url: `/e/?data=${encodeURIComponent(Buffer.from(json(14)).toString('base64'))}` }) },
        { name: 'an array with the token in properties', send: () => post('/batch/', [{ ...pageview(15), properties: { ...pageview(15).properties, token } }]) },
        { name: 'a single event, no trailing slash', send: () => post('/capture', { ...pageview(16), api_key: token }) },
        { name: '/i/v0/e/', send: () => post('/i/v0/e/', JSON.parse(json(17))) },
        { name: '/track/', send: () => post('/track/', JSON.parse(json(18))) },
      ];
      for (const { name, send } of cases) {
        const response = await send();
        expect(response.statusCode, `${name}: ${response.body}`).toBe(200);
      }
      const ids = new Set((await stored(tenant.teamId)).map((e) => e.uuid));
      for (let n = 10; n <= 18; n++) expect(ids.has(uuid(n)), `event ${n}`).toBe(true);
    });

    it('turns an /engage object into an $identify event with the person operations in its properties', async () => {
      const response = await post('/engage/', { $token: token, $distinct_id: 'visitor-9', $set: { email: 'nine@example.com' } });
      expect(response.statusCode).toBe(200);
      const rows = (await stored(tenant.teamId)).filter((e) => e.distinctId === 'visitor-9');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ event: '$identify', properties: { $set: { email: 'nine@example.com' } } });
    });

    it('keeps the points of $heatmap_data apart from their event, once, with the viewport they were seen in', async () => {
      const heatmap = {
        uuid: uuid(35),
        event: '$$heatmap',
        properties: {
          distinct_id: 'visitor-1',
          $session_id: 'session-1',
          $viewport_width: 1280,
          $viewport_height: 720.4,
          $heatmap_data: {
            'https://shop.example.com/a': [
              { x: 640, y: 336, target_fixed: false, type: 'click' },
              { x: 640.6, y: 336, target_fixed: false, type: 'rageclick' },
              { x: 10, y: 20, target_fixed: true, type: 'mousemove' },
              { x: 'left', y: 1, type: 'click' },
              { x: 1, y: 1, type: 'hover' },
            ],
            'https://shop.example.com/b': [{ x: 5, y: 6, target_fixed: false, type: 'deadclick' }],
          },
        },
        timestamp: '2026-12-01T10:00:00.000Z',
      };
      const body = { api_key: token, batch: [heatmap] };
      expect((await post('/e/', body)).statusCode).toBe(200);
      expect((await post('/e/', body)).statusCode).toBe(200);
      const points = await ctx.database.db
        .select()
        .from(heatmapPoints)
        .where(eq(heatmapPoints.eventUuid, uuid(35)))
        .orderBy(asc(heatmapPoints.url), desc(heatmapPoints.x));
      expect(points.map(({ url, type, x, y, targetFixed, viewportWidth, viewportHeight, sessionId, distinctId, teamId }) => ({
        url, type, x, y, targetFixed, viewportWidth, viewportHeight, sessionId, distinctId, teamId,
      }))).toEqual([
        { url: 'https://shop.example.com/a', type: 'rageclick', x: 641, y: 336, targetFixed: false, viewportWidth: 1280, viewportHeight: 720, sessionId: 'session-1', distinctId: 'visitor-1', teamId: tenant.teamId },
        { url: 'https://shop.example.com/a', type: 'click', x: 640, y: 336, targetFixed: false, viewportWidth: 1280, viewportHeight: 720, sessionId: 'session-1', distinctId: 'visitor-1', teamId: tenant.teamId },
        { url: 'https://shop.example.com/a', type: 'mousemove', x: 10, y: 20, targetFixed: true, viewportWidth: 1280, viewportHeight: 720, sessionId: 'session-1', distinctId: 'visitor-1', teamId: tenant.teamId },
        { url: 'https://shop.example.com/b', type: 'deadclick', x: 5, y: 6, targetFixed: false, viewportWidth: 1280, viewportHeight: 720, sessionId: 'session-1', distinctId: 'visitor-1', teamId: tenant.teamId },
      ]);
      expect((await storedUuid(tenant.teamId, uuid(35)))!.properties).not.toHaveProperty('$heatmap_data');
      // The pages the team has points on, which URL patterns read.
      const pages = await ctx.database.db.select({ url: heatmapPages.url }).from(heatmapPages).where(eq(heatmapPages.teamId, tenant.teamId)).orderBy(asc(heatmapPages.url));
      expect(pages.map((page) => page.url)).toEqual(expect.arrayContaining(['https://shop.example.com/a', 'https://shop.example.com/b']));
    });

    it('writes what the page index holds (page key, grid width, packed point) as the SQL definitions give it, at the grid’s edges', async () => {
      const edges = [-(2 ** 31) + 1, -25, -24, -9, -8, -7, 0, 7, 8, 9, 23, 24, 25, 2 ** 31 - 1];
      const points = edges.flatMap((x, i) => [
        { x, y: edges[(i + 3) % edges.length], target_fixed: i % 2 === 0, type: 'click' },
        { x: 0, y: x, target_fixed: false, type: 'mousemove' },
      ]);
      const viewports = [
        { $viewport_width: 1280, $viewport_height: 720 },
        { $viewport_width: 1288, $viewport_height: 7 },
        { $viewport_width: 7 },
        { $viewport_width: 8, $viewport_height: 2 ** 31 - 1 },
        { $viewport_height: 900 },
        { $viewport_width: 2 ** 31 - 1, $viewport_height: 8 },
      ];
      const urls = ['https://shop.example.com/edge', 'https://shop.example.com/edge//', 'https://shop.example.com/é?q=ü', 'https://shop.example.com/'];
      const batch = viewports.map((viewport, i) => ({
        uuid: uuid(700 + i),
        event: '$$heatmap',
        properties: { distinct_id: 'visitor-1', $session_id: 'session-1', ...viewport, $heatmap_data: { [urls[i % urls.length]!]: points } },
        timestamp: '2026-12-01T10:00:00.000Z',
      }));
      expect((await post('/e/', { api_key: token, batch })).statusCode).toBe(200);

      const [counts] = await queryRows<{ points: number; differ: number; without_packed: number }>(
        ctx.database.db,
        sql`
        select count(*)::int as points,
          count(*) filter (where url_key is distinct from ${pageKeyOf(sql`url`)} or grid_width is distinct from ${sql.raw(gridOf('viewport_width'))}
            or packed is distinct from ${packedPointSql()})::int as differ,
          count(*) filter (where packed is null)::int as without_packed
        from heatmap_points where team_id = ${tenant.teamId} and event_uuid in (${sql.join(batch.map((event) => sql`${event.uuid}::uuid`), sql`, `)})`,
      );
      expect(counts).toEqual({ points: viewports.length * points.length, differ: 0, without_packed: 2 * points.length });
    });

    it('stores a batch sent again once, and answers 200 both times', async () => {
      const body = { api_key: token, batch: [pageview(30), pageview(31)] };
      expect((await post('/e/', body)).statusCode).toBe(200);
      expect((await post('/e/', body)).statusCode).toBe(200);
      const rows = (await stored(tenant.teamId)).filter((e) => e.uuid === uuid(30) || e.uuid === uuid(31));
      expect(rows).toHaveLength(2);
    });

    it('stores what Postgres cannot hold (NUL, lone surrogates) as U+FFFD instead of losing the batch', async () => {
      const text = '{"api_key":"' + token + '","batch":[{"uuid":"' + uuid(40) + '","event":"odd","distinct_id":"v","properties":{"a\\u0000b":"x\\u0000y","cut":"\\ud83d"}}]}';
      expect((await post('/e/', text, { 'content-type': 'application/json' })).statusCode).toBe(200);
      const row = await storedUuid(tenant.teamId, uuid(40));
      expect(row!.properties).toEqual({ 'a\ufffdb': 'x\ufffdy', cut: '\ufffd' });
    });

    it('answers a preflight with the origin and headers mirrored, and errors with CORS headers too', async () => {
      const preflight = await ctx.app.inject({
        method: 'OPTIONS',
        url: '/e/',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-custom' },
      });
      expect(preflight.statusCode).toBe(200);
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': ORIGIN,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'content-type,x-custom',
      });
      const failed = await post('/e/', { batch: [pageview(50)] });
      expect(failed.statusCode).toBe(401);
      expect(failed.headers['access-control-allow-origin']).toBe(ORIGIN);
    });
  });

  describe('what it refuses', () => {
    it('refuses the whole request when one event is bad: nothing is stored', async () => {
      const bad = { uuid: uuid(60), event: '$pageview', properties: {} };
      const response = await post('/e/', { api_key: token, batch: [pageview(61), bad] });
      expectError(response, 400, { type: 'validation_error', code: 'invalid_payload', detail: 'event submitted without a distinct_id', attr: null });
      expect(await storedUuid(tenant.teamId, uuid(61))).toBeUndefined();

      const unnamed = await post('/e/', { api_key: token, batch: [{ ...pageview(62), event: '' }] });
      expectError(unnamed, 400, { type: 'validation_error', code: 'invalid_payload', detail: 'event submitted with an empty event name', attr: null });
      const empty = await post('/e/', { api_key: token, batch: [] });
      expectError(empty, 400, { type: 'validation_error', code: 'invalid_payload', detail: 'request holds no event', attr: null });
      const deep = await post('/e/', `{"api_key":"${token}","batch":[{"event":"deep","distinct_id":"v","properties":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}]}`);
      expectError(deep, 400, { type: 'validation_error', code: 'invalid_payload', detail: 'failed to parse request: recursion limit exceeded', attr: null });
      const garbage = await post('/e/', gzipSync('not json'));
      expect(garbage.statusCode).toBe(400);
      expect(garbage.json().detail).toBe('failed to parse request: the payload is not valid JSON');
    });

    it('answers 401 with a reason for a missing, malformed, mixed or unknown token', async () => {
      const cases: [object, string, string][] = [
        [{ batch: [pageview(70)] }, 'missing_api_key', 'API key not provided. You can find your project API key in PostHog project settings.'],
        [{ api_key: 'phx_secret', batch: [pageview(71)] }, 'invalid_api_key', 'API key is not valid: personal_api_key'],
        [{ api_key: 'x'.repeat(65), batch: [pageview(72)] }, 'invalid_api_key', 'API key is not valid: too_long'],
        [
          [
            { ...pageview(73), properties: { ...pageview(73).properties, token } },
            { ...pageview(74), properties: { ...pageview(74).properties, token: 'phc_other' } },
          ],
          'invalid_api_key',
          'batch submitted with inconsistent api_key values',
        ],
        [{ api_key: 'phc_nobodyhasthisone', batch: [pageview(75)] }, 'invalid_api_key', 'Project API key invalid. You can find your project API key in PostHog project settings.'],
      ];
      for (const [body, code, detail] of cases) {
        expectError(await post('/e/', body), 401, { type: 'authentication_error', code, detail, attr: null });
      }
    });

    it('answers 413 past the endpoint’s limit (2 MB for events, 20 MB for /batch), decompressed or not', async () => {
      const big = JSON.stringify({ api_key: token, batch: [{ ...pageview(80), properties: { ...pageview(80).properties, blob: 'x'.repeat(3 * 1024 * 1024) } }] });
      const tooBig = await post('/e/', big, { 'content-type': 'application/json' });
      expectError(tooBig, 413, {
        type: 'invalid_request',
        code: 'payload_too_large',
        detail: `Request body is larger than the limit of ${2 * 1024 * 1024} bytes.`,
        attr: null,
      });
      expect((await post('/e/', gzipSync(big))).statusCode).toBe(413);
      expect((await post('/batch/', big, { 'content-type': 'application/json' })).statusCode).toBe(200);
    });
  });

  it('keeps each project’s events to itself', async () => {
    const other = await make.tenant();
    const otherToken = await make.projectToken(other);
    expect((await post('/e/', { api_key: otherToken, batch: [pageview(90)] })).statusCode).toBe(200);
    expect(await storedUuid(other.teamId, uuid(90))).toBeDefined();
    expect(await storedUuid(tenant.teamId, uuid(90))).toBeUndefined();
    const project = ok(await other.call('GET', `/api/projects/${other.teamId}/`));
    expect(project.ingested_event).toBe(true);
  });
});

describe('capture: remote config and flags', () => {
  let ctx: TestContext;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    const make = factories(ctx);
    tenant = await make.tenant();
    token = await make.projectToken(tenant);
  });
  afterAll(() => ctx.close());

  const expectedConfig = (heatmaps: boolean) => ({
    token,
    supportedCompression: ['gzip', 'gzip-js'],
    hasFeatureFlags: false,
    captureDeadClicks: false,
    capturePerformance: false,
    autocapture_opt_out: false,
    autocaptureExceptions: false,
    analytics: { endpoint: '/i/v0/e/' },
    elementsChainAsString: true,
    errorTracking: { autocaptureExceptions: false, suppressionRules: [] },
    sessionRecording: false,
    heatmaps,
    surveys: false,
    defaultIdentifiedOnly: true,
  });

  it('serves the project’s remote config as JSON and as PostHog’s script, following its settings', async () => {
    const json = await ctx.app.inject({ method: 'GET', url: `/array/${token}/config`, headers: { origin: ORIGIN } });
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(json.headers.vary).toContain('Origin');
    expect(json.json()).toEqual({ ...expectedConfig(false), siteApps: [] });

    ok(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/`, { heatmaps_opt_in: true }));
    const script = await ctx.app.inject({ method: 'GET', url: `/array/${token}/config.js` });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/^application\/javascript/);
    const config = JSON.stringify(expectedConfig(true)).replace(/","/g, '", "').replace(/":/g, '": ').replace(/,"/g, ', "');
    expect(script.body).toBe(
      [
        '(function() {',
        '  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};',
        `  window._POSTHOG_REMOTE_CONFIG['${token}'] = {`,
        `    config: ${config},`,
        '    siteApps: []',
        '  }',
        '})();',
      ].join('\n'),
    );
  });

  it('answers 400 "Invalid token" for a malformed token and 404 for one no project has', async () => {
    expectError(await ctx.app.inject({ method: 'GET', url: `/array/${encodeURIComponent('§$%$&')}/config` }), 400, {
      type: 'validation_error',
      code: 'invalid_input',
      detail: 'Invalid token',
      attr: null,
    });
    expect((await ctx.app.inject({ method: 'GET', url: '/array/I-am_technically_v4lid/config' })).statusCode).toBe(404);
  });

  it('answers /flags/?v=2 and /decide/ with empty flags and the remote config, the token in a gzip body', async () => {
    for (const url of ['/flags/?v=2', '/decide/?v=3']) {
      const response = await ctx.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/plain', origin: ORIGIN },
        payload: gzipSync(JSON.stringify({ token, distinct_id: 'visitor-1', groups: {} })),
      });
      expect(response.statusCode, url).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ flags: {}, featureFlags: {}, errorsWhileComputingFlags: false, supportedCompression: ['gzip', 'gzip-js'], sessionRecording: false });
      expect(body).not.toHaveProperty('token');
    }
    const unknown = await ctx.app.inject({ method: 'POST', url: '/flags/?v=2', headers: { 'content-type': 'application/json' }, payload: { token: 'phc_unknown' } });
    expect(unknown.statusCode).toBe(401);
  });
});
