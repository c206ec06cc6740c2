import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTable, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';

let counter = 0;
const nextUuid = () => `0190a0b0-0000-7000-a000-${String(++counter).padStart(12, '0')}`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Point {
  x: number;
  y: number;
  type?: string;
  fixed?: boolean;
}

describe('heatmap data: /heatmaps/ and /heatmaps/events/ over captured points', () => {
  let ctx: TestContext;
  let make: Factories;
  let owner: Tenant;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
    owner = await make.tenant();
    token = await make.projectToken(owner);
  });
  afterAll(() => ctx.close());

  /** A $$heatmap event as posthog-js sends it: the points of one URL, in a viewport, `ago` ms before now. */
  async function heatmap(url: string, points: Point[], options: { width?: number; height?: number; distinctId?: string; ago?: number; session?: string; props?: object } = {}) {
    const properties = {
      $session_id: options.session ?? 'session-1',
      $viewport_width: options.width ?? 1280,
      $viewport_height: options.height ?? 800,
      $current_url: url,
      $heatmap_data: { [url]: points.map((p) => ({ x: p.x, y: p.y, target_fixed: p.fixed ?? false, type: p.type ?? 'click' })) },
      ...options.props,
    };
    const event = { uuid: nextUuid(), event: '$$heatmap', distinct_id: options.distinctId ?? 'visitor-1', timestamp: new Date(Date.now() - (options.ago ?? HOUR)).toISOString(), properties };
    const response = await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch: [event] } });
    expect(response.statusCode, response.body).toBe(200);
  }

  const get = (query: Record<string, string | number | boolean>, path = 'heatmaps/', caller: Tenant = owner) =>
    caller.call('GET', `/api/projects/${caller.teamId}/${path}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`);
  const counts = (body: Record<string, unknown>) => (body.results as { count: number }[]).map((r) => r.count);

  describe('points', () => {
    const page = 'https://shop.example.com/pricing';
    beforeAll(async () => {
      // Three clicks at (640, 336) of a 1280-px viewport, two at (128, 1200), one on a fixed element.
      await heatmap(page, [{ x: 640, y: 336 }, { x: 640, y: 336 }, { x: 128, y: 1200 }]);
      await heatmap(page, [{ x: 641, y: 340 }, { x: 130, y: 1195 }], { distinctId: 'visitor-2' });
      await heatmap(page, [{ x: 1270, y: 20, fixed: true }, { x: 300, y: 300, type: 'mousemove' }, { x: 3, y: 5 }]);
    });

    it('answers them on PostHog’s 16-px grid, x as a share of the viewport, hottest first, with the fold', async () => {
      const response = await get({ url_exact: page });
      expect(response.headers['cache-control']).toBe('max-age=30');
      const body = ok(response);
      expect(Object.keys(body)).toEqual(['results', 'fold', 'has_more']);
      expect(body.results).toEqual([
        { count: 3, pointer_y: 336, pointer_relative_x: 0.5, pointer_target_fixed: false },
        { count: 2, pointer_y: 1200, pointer_relative_x: 0.1, pointer_target_fixed: false },
        { count: 1, pointer_y: 16, pointer_relative_x: 0.99, pointer_target_fixed: true },
      ]);
      expect(Object.keys(body.results[0])).toEqual(['count', 'pointer_y', 'pointer_relative_x', 'pointer_target_fixed']);
      // Five non-fixed clicks, two of them below an 800-px first screen; the one at (0, 0) on the grid is hidden.
      expect(body.fold).toEqual({ total_count: 5, below_fold_count: 2, pct_below_fold: 40, median_viewport_height: 800 });
      expect(body.has_more).toBe(false);
      expect(ok(await get({ url_exact: page, hide_zero_coordinates: false })).results.some((r: { pointer_y: number }) => r.pointer_y === 0)).toBe(true);
    });

    it('takes the fold’s median viewport height as percentile_cont does, between the two middle points', async () => {
      const url = 'https://shop.example.com/heights';
      // Viewport heights on the 16-px grid: 700 → 704, 800 → 800, 900 → 896, 1000 → 1008.
      await heatmap(url, [{ x: 10, y: 10 }, { x: 20, y: 750 }], { height: 700 });
      await heatmap(url, [{ x: 30, y: 30 }], { height: 800 });
      await heatmap(url, [{ x: 40, y: 40 }], { height: 900 });
      expect(ok(await get({ url_exact: url })).fold).toEqual({ total_count: 4, below_fold_count: 1, pct_below_fold: 25, median_viewport_height: 752 });
      // A point on a fixed element counts for the median, not for the fold's counts.
      await heatmap(url, [{ x: 50, y: 50, fixed: true }], { height: 1000 });
      expect(ok(await get({ url_exact: url })).fold).toEqual({ total_count: 4, below_fold_count: 1, pct_below_fold: 25, median_viewport_height: 800 });
      expect(ok(await get({ url_exact: 'https://shop.example.com/nothing-here' })).fold).toEqual({
        total_count: 0,
        below_fold_count: 0,
        pct_below_fold: 0,
        median_viewport_height: null,
      });
    });

    it('counts a point without a viewport height in the fold’s total, not below the fold nor in the median', async () => {
      const url = 'https://shop.example.com/no-height';
      await heatmap(url, [{ x: 10, y: 10 }], { height: 700 });
      await heatmap(url, [{ x: 20, y: 2000 }], { height: 900 });
      await heatmap(url, [{ x: 30, y: 3000 }], { props: { $viewport_height: null } });
      const body = ok(await get({ url_exact: url }));
      expect(body.fold).toEqual({ total_count: 3, below_fold_count: 1, pct_below_fold: 33.3, median_viewport_height: 800 });
      expect(counts(body)).toEqual([1, 1, 1]);
    });

    it('orders cells of the same count by x, then y, then fixed last, negative and far-off coordinates included', async () => {
      const url = 'https://shop.example.com/ties';
      const farOff = { x: 2_000_000_000, y: 16 };
      await heatmap(url, [{ x: 640, y: 320, fixed: true }, { x: 640, y: 320 }, { x: 640, y: -32 }, { x: 128, y: 480 }, { x: -64, y: 16 }, { x: 128, y: 480 }, farOff, farOff]);
      expect(ok(await get({ url_exact: url })).results).toEqual([
        { count: 2, pointer_y: 480, pointer_relative_x: 0.1, pointer_target_fixed: false },
        { count: 2, pointer_y: 16, pointer_relative_x: 1_562_500, pointer_target_fixed: false },
        { count: 1, pointer_y: 16, pointer_relative_x: -0.05, pointer_target_fixed: false },
        { count: 1, pointer_y: -32, pointer_relative_x: 0.5, pointer_target_fixed: false },
        { count: 1, pointer_y: 320, pointer_relative_x: 0.5, pointer_target_fixed: false },
        { count: 1, pointer_y: 320, pointer_relative_x: 0.5, pointer_target_fixed: true },
      ]);
    });

    it('keeps types apart, counts unique visitors, and pages with has_more', async () => {
      expect(ok(await get({ url_exact: page, type: 'mousemove' })).results).toEqual([{ count: 1, pointer_y: 304, pointer_relative_x: 0.24, pointer_target_fixed: false }]);
      expect(ok(await get({ url_exact: page, type: 'rageclick' })).results).toEqual([]);
      expect(counts(ok(await get({ url_exact: page, aggregation: 'unique_visitors' })))).toEqual([2, 2, 1]);
      const first = ok(await get({ url_exact: page, limit: 2 }));
      expect([counts(first), first.has_more]).toEqual([[3, 2], true]);
      expect(counts(ok(await get({ url_exact: page, limit: 2, offset: 1 })))).toEqual([2, 1]);
      expect(counts(ok(await get({ url_exact: page, limit: 2, offset: 5 })))).toEqual([]);
      expect(counts(ok(await get({ url_exact: page, limit: 0 })))).toEqual([3, 2, 1]);
    });

    it('refuses what PostHog’s serializer refuses, with its messages', async () => {
      expectError(await get({ aggregation: 'direction' }), 400, invalid('"direction" is not a valid choice.', 'aggregation', 'invalid_choice'));
      expectError(await get({ filter_test_accounts: 'None' }), 400, invalid('Must be a valid boolean.', 'filter_test_accounts'));
      expectError(await get({ limit: -1 }), 400, invalid('Ensure this value is greater than or equal to 0.', 'limit', 'min_value'));
      expectError(await get({ limit: 1_000_001 }), 400, invalid('Ensure this value is less than or equal to 1000000.', 'limit', 'max_value'));
      expectError(await get({ viewport_width_min: 'wide' }), 400, invalid('A valid integer is required.', 'viewport_width_min'));
      expect((await get({ url_pattern: 'https://shop.example.com/(' })).statusCode).toBe(400);
      expect(ok(await get({ aggregation: '', filter_test_accounts: '' })).results.length).toBeGreaterThan(0);
    });
  });

  it('matches URLs exactly (either side’s trailing slash ignored) or by pattern, the pattern winning', async () => {
    const base = 'http://example.com';
    for (const url of [`${base}/`, `${base}/products/1`, `${base}/products/12/reviews/3`, `${base}/products/2/parts/7`, `${base}/products/15/parts/9`, `${base}/about`]) {
      await heatmap(url, [{ x: 100, y: 100 }]);
    }
    const total = async (query: Record<string, string>) => counts(ok(await get(query))).reduce((a, b) => a + b, 0);
    expect(await total({ url_exact: 'http://example.com' })).toBe(1);
    expect(await total({ url_pattern: 'http://example.com' })).toBe(0);
    expect(await total({ url_pattern: 'http://example.com*' })).toBe(6);
    expect(await total({ url_pattern: 'http://example.com/products*' })).toBe(4);
    expect(await total({ url_pattern: 'http://example.com/products/1*' })).toBe(2);
    expect(await total({ url_pattern: 'http://example.com/products/*/parts/*' })).toBe(2);
    expect(await total({ url_pattern: 'http://example.com/products/1*/parts/*' })).toBe(1);
    expect(await total({ url_pattern: 'http://example.com/products/*/reviews/*', url_exact: 'http://example.com/about' })).toBe(1);
  });

  it('filters viewports on the 16-px grid, as PostHog does', async () => {
    const url = 'https://viewports.example.com/';
    for (const width of [150, 151, 152, 161, 177, 193]) await heatmap(url, [{ x: 10, y: 100 }], { width });
    const xs = async (query: Record<string, number>) => ok(await get({ url_exact: url, ...query })).results.map((r: { pointer_relative_x: number; count: number }) => [r.pointer_relative_x, r.count]);
    expect(await xs({ viewport_width_min: 150 })).toEqual([[0.1, 2], [0.08, 1], [0.09, 1], [0.11, 2]].sort((a, b) => b[1]! - a[1]! || a[0]! - b[0]!));
    expect(await xs({ viewport_width_min: 177 })).toEqual([[0.08, 1], [0.09, 1]]);
    expect(await xs({ viewport_width_min: 201 })).toEqual([]);
    expect(await xs({ viewport_width_min: 161, viewport_width_max: 192 })).toEqual([[0.1, 2], [0.08, 1], [0.09, 1]]);
  });

  it('reads days in the project’s time zone: -7d by default, date_to’s whole day included', async () => {
    const url = 'https://dates.example.com/';
    await heatmap(url, [{ x: 100, y: 100 }], { ago: 2 * HOUR });
    await heatmap(url, [{ x: 100, y: 100 }], { ago: 9 * DAY });
    const total = async (query: Record<string, string>) => counts(ok(await get({ url_exact: url, ...query }))).reduce((a, b) => a + b, 0);
    expect(await total({})).toBe(1);
    expect(await total({ date_from: '-10d' })).toBe(2);
    expect(await total({ date_from: '-10d', date_to: '-2d' })).toBe(1);
    const nineDaysAgo = new Date(Date.now() - 9 * DAY).toISOString().slice(0, 10);
    expect(await total({ date_from: nineDaysAgo, date_to: nineDaysAgo })).toBe(1);
    // An unreadable date is today, as PostHog's parser falls back to now.
    expect(await total({ date_from: 'not a date' })).toBe(await total({ date_from: new Date().toISOString().slice(0, 10) }));
  });

  it('puts a point at midnight in the day it starts, and the instant after date_to’s last one in date_to', async () => {
    const tenant = await make.tenant();
    ok(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/`, { timezone: 'Asia/Calcutta' }));
    const tenantToken = await make.projectToken(tenant);
    // Midnight in Kolkata (+05:30) three days ago, as an instant.
    const day = new Date(Date.now() - 3 * DAY).toISOString().slice(0, 10);
    const midnight = (offsetDays: number) => Date.parse(`${day}T00:00:00+05:30`) + offsetDays * DAY;
    const at = [midnight(0) - 1, midnight(0), midnight(0) + 12 * HOUR, midnight(1), midnight(1) + 1];
    const batch = at.map((ms, i) => ({
      uuid: nextUuid(),
      event: '$$heatmap',
      distinct_id: 'visitor-1',
      timestamp: new Date(ms).toISOString(),
      properties: { $viewport_width: 1280, $viewport_height: 800, $heatmap_data: { 'https://midnight.example.com/': [{ x: 160 * (i + 1), y: 100, target_fixed: false, type: 'click' }] } },
    }));
    expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: tenantToken, batch } })).statusCode).toBe(200);
    const xs = async (from: string, to: string) =>
      (ok(await tenant.call('GET', `/api/projects/${tenant.teamId}/heatmaps/?url_exact=https://midnight.example.com/&date_from=${from}&date_to=${to}`)).results as { pointer_relative_x: number }[])
        .map((r) => r.pointer_relative_x)
        .sort();
    const shift = (days: number) => new Date(Date.parse(day) + days * DAY).toISOString().slice(0, 10);
    expect(await xs(day, day)).toEqual([0.25, 0.38, 0.5]);
    expect(await xs(shift(-1), shift(1))).toEqual([0.13, 0.25, 0.38, 0.5, 0.63]);
    expect(await xs(shift(-1), shift(-1))).toEqual([0.13, 0.25]);
  });

  it('answers scroll depth in 100-px buckets of the viewport’s bottom edge, with how many got at least that far', async () => {
    // posthog-js reports the previous page's deepest scroll on the next page view; ingestion keeps it for that page.
    for (const [i, depth] of [10, 100, 200, 300, 400, 500, 900, 900].entries()) {
      const pageview = {
        uuid: nextUuid(),
        event: '$pageview',
        distinct_id: `reader-${i}`,
        timestamp: new Date(Date.now() - HOUR).toISOString(),
        properties: { $current_url: 'https://blog.example.com/next?ref=1', $prev_pageview_pathname: '/article', $prev_pageview_max_scroll: depth, $viewport_width: 1280, $viewport_height: 1000 },
      };
      expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch: [pageview] } })).statusCode).toBe(200);
    }
    const body = ok(await get({ type: 'scrolldepth', url_exact: 'https://blog.example.com/article?ref=1' }));
    // (round(y / 16) + round(1000 / 16)) * 16, floored to 100 px; ingestion's Math.round rounds 62.5 up to 63.
    expect(body).toEqual({
      results: [
        { cumulative_count: 8, bucket_count: 1, scroll_depth_bucket: 1000 },
        { cumulative_count: 7, bucket_count: 1, scroll_depth_bucket: 1100 },
        { cumulative_count: 6, bucket_count: 1, scroll_depth_bucket: 1200 },
        { cumulative_count: 5, bucket_count: 1, scroll_depth_bucket: 1300 },
        { cumulative_count: 4, bucket_count: 1, scroll_depth_bucket: 1400 },
        { cumulative_count: 3, bucket_count: 1, scroll_depth_bucket: 1500 },
        { cumulative_count: 2, bucket_count: 2, scroll_depth_bucket: 1900 },
      ],
    });
  });

  it('lists the interactions behind grid points, newest first', async () => {
    const url = 'https://events.example.com/';
    await heatmap(url, [{ x: 640, y: 336 }], { ago: 3 * HOUR, session: 's-old', distinctId: 'd-old' });
    await heatmap(url, [{ x: 641, y: 330 }, { x: 10, y: 900 }], { ago: HOUR, session: 's-new', distinctId: 'd-new' });
    const body = ok(await get({ url_exact: url, points: JSON.stringify([{ x: 0.5, y: 336, target_fixed: false }]) }, 'heatmaps/events/'));
    expect(body.total_count).toBe(2);
    expect(body.has_more).toBe(false);
    expect(body.results.map((r: { session_id: string }) => r.session_id)).toEqual(['s-new', 's-old']);
    expect(Object.keys(body.results[0])).toEqual(['session_id', 'distinct_id', 'timestamp', 'pointer_relative_x', 'pointer_y', 'current_url', 'type']);
    expect(body.results[0]).toMatchObject({ distinct_id: 'd-new', pointer_relative_x: 0.5, pointer_y: 336, current_url: url, type: 'click' });
    expect(body.results[0].timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const paged = ok(await get({ url_exact: url, limit: 1, points: JSON.stringify([{ x: 0.5, y: 336 }]) }, 'heatmaps/events/'));
    expect([paged.results.length, paged.has_more]).toEqual([1, true]);

    expectError(await get({ url_exact: url }, 'heatmaps/events/'), 400, invalid('This field is required.', 'points', 'required'));
    expectError(await get({ points: '[' }, 'heatmaps/events/'), 400, invalid('points must be valid JSON', 'points'));
    expectError(await get({ points: '[]' }, 'heatmaps/events/'), 400, invalid('points must be a non-empty array', 'points'));
    expectError(await get({ points: '[{"x": 1}]' }, 'heatmaps/events/'), 400, invalid('each point must have x and y', 'points'));
    expectError(await get({ points: '[{"x": 1, "y": 2}]', limit: 101 }, 'heatmaps/events/'), 400, invalid('Ensure this value is less than or equal to 100.', 'limit', 'max_value'));
  });

  it('leaves out test accounts’ sessions when asked, by the project’s test_account_filters', async () => {
    const url = 'https://testers.example.com/';
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { test_account_filters: [{ key: '$host', type: 'event', value: '127.0.0.1', operator: 'not_icontains' }] }));
    const pageview = (session: string, host: string) => ({
      uuid: nextUuid(),
      event: '$pageview',
      distinct_id: session,
      timestamp: new Date(Date.now() - HOUR).toISOString(),
      properties: { $session_id: session, $host: host, $current_url: url },
    });
    expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch: [pageview('s-real', 'shop.example.com'), pageview('s-tester', '127.0.0.1:8000')] } })).statusCode).toBe(200);
    await heatmap(url, [{ x: 640, y: 336 }], { session: 's-real' });
    await heatmap(url, [{ x: 640, y: 336 }, { x: 640, y: 336 }], { session: 's-tester' });
    expect(counts(ok(await get({ url_exact: url })))).toEqual([3]);
    expect(counts(ok(await get({ url_exact: url, filter_test_accounts: true })))).toEqual([1]);
  });

  it('keeps no points while the project has turned heatmaps off (heatmaps_opt_in false)', async () => {
    const url = 'https://opted-out.example.com/';
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { heatmaps_opt_in: false }));
    await heatmap(url, [{ x: 640, y: 336 }]);
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { heatmaps_opt_in: true }));
    await heatmap(url, [{ x: 640, y: 336 }]);
    expect(counts(ok(await get({ url_exact: url })))).toEqual([1]);
  });

  it('keeps each project’s points to itself', async () => {
    const other = await make.tenant();
    expect(ok(await get({ url_pattern: '*', date_from: '-30d' }, 'heatmaps/', other)).results).toEqual([]);
  });

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/heatmaps/', scope: 'heatmap:read', status: 200 },
      { method: 'GET', path: '/heatmaps/events/?points=[{"x":0.5,"y":16}]', scope: 'heatmap:read', status: 200 },
    ]),
  );
});
