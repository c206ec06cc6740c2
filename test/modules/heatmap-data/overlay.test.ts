import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../../src/jobs/worker.js';
import { startWorker } from '../../../src/runtime.js';
import { accessTable, teamRows } from '../../helpers/access-table.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { decodeRgb, rgbAt, type RawImage } from '../../helpers/images.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/jobs.js';
import { type PageServer, startPageServer } from '../../helpers/page-server.js';

/** Real Chromium renders the screenshot of a page served by the test, which the test config lets through the SSRF guard. */
const RENDER_ENV = { RENDER_ALLOWED_HOSTS: '127.0.0.1', RENDER_SETTLE_TIMEOUT_SECONDS: '3', RENDER_NAVIGATION_TIMEOUT_SECONDS: '10', JOB_POLL_INTERVAL_MS: '100' };
const HOUR = 3_600_000;

let counter = 0;
const nextUuid = () => `0190a0b0-0000-7000-b000-${String(++counter).padStart(12, '0')}`;


describe('heatmaps drawn on their screenshots (GET …/saved/:short_id/overlay/)', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let pages: PageServer;
  let owner: Tenant;
  let token: string;
  let worker: Worker;
  let shortId: string;
  let plain: RawImage;
  const pageUrl = () => pages.url('/basic.html');

  /** A $$heatmap event as posthog-js sends it, of a visitor in a viewport of `width`. */
  async function clicks(url: string, points: { x: number; y: number }[], width = 1024, type = 'click') {
    const event = {
      uuid: nextUuid(),
      event: '$$heatmap',
      distinct_id: 'visitor',
      timestamp: new Date(Date.now() - HOUR).toISOString(),
      properties: { $session_id: 's1', $viewport_width: width, $viewport_height: 800, $heatmap_data: { [url]: points.map((p) => ({ ...p, target_fixed: false, type })) } },
    };
    expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch: [event] } })).statusCode).toBe(200);
  }
  const overlay = (query = '', id = shortId) => owner.call('GET', `/api/projects/${owner.teamId}/saved/${id}/overlay/${query}`);

  beforeAll(async () => {
    pages = await startPageServer();
    ctx = await createTestContext(RENDER_ENV);
    const make = factories(ctx);
    owner = await make.tenant();
    token = await make.projectToken(owner);
    worker = await startWorker(ctx.services, pino({ level: 'silent' }));
    const created = ok(await owner.call('POST', `/api/projects/${owner.teamId}/saved/`, { url: pageUrl(), widths: [1024] }), 201);
    shortId = created.short_id;
    await waitFor(async () => (ok(await owner.call('GET', `/api/projects/${owner.teamId}/saved/${shortId}/`)).status === 'completed' ? true : undefined), 100_000);
    plain = await decodeRgb((await owner.call('GET', `/api/projects/${owner.teamId}/heatmap_screenshots/${created.id}/content/?width=1024`)).rawPayload);

    // Ten clicks on the green band (y 100 to 200, the whole width), one in the white content area, one far below the
    // screenshot, and clicks of phone-sized viewports, which a 1024-px screenshot does not show.
    for (let i = 0; i < 10; i++) await clicks(pageUrl(), [{ x: 512, y: 150 }]);
    await clicks(pageUrl(), [{ x: 700, y: 1000 }, { x: 300, y: 50_000 }]);
    await clicks(pageUrl(), [{ x: 187, y: 600 }, { x: 187, y: 600 }], 375);
  }, 120_000);
  afterAll(async () => {
    await worker?.stop({ timeoutMs: 1000 });
    await ctx?.close();
    await pages?.close();
  });

  it('draws the points of the screenshot’s device range where they were, hottest over the clicked element, and nothing elsewhere', async () => {
    const response = await overlay('?width=1000');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    const drawn = await decodeRgb(response.rawPayload);
    expect([drawn.width, drawn.height]).toEqual([plain.width, plain.height]);

    // The hottest spot: red at 80% over the green band.
    const [r, g, b] = rgbAt(drawn, 512, 150);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(120);
    expect(b).toBeLessThan(60);
    // The single click in the white area is a faint blue, not white any more.
    const faint = rgbAt(drawn, 700, 1000);
    expect(faint[2]! - faint[0]!).toBeGreaterThan(10);
    // The phones' clicks (at 512, 600 if they were drawn) are not, and neither is anything more than 40 px from a point.
    expect(rgbAt(drawn, 512, 600)).toEqual(rgbAt(plain, 512, 600));
    const legend = { left: drawn.width - 188, right: drawn.width - 8, top: 8, bottom: 60 };
    let changedFar = 0;
    for (let y = 0; y < drawn.height; y += 3) {
      for (let x = 0; x < drawn.width; x += 3) {
        // Within the 40-px radius of where the points were, give or take the 16-px grid they are kept on.
        const nearPoint = Math.hypot(x - 512, y - 150) <= 53 || Math.hypot(x - 700, y - 1000) <= 53;
        const inLegend = x >= legend.left && x <= legend.right && y >= legend.top && y <= legend.bottom;
        if (!nearPoint && !inLegend && rgbAt(drawn, x, y).some((v, i) => v !== rgbAt(plain, x, y)[i])) changedFar++;
      }
    }
    expect(changedFar).toBe(0);
    // The legend is drawn in the top right corner.
    expect(rgbAt(drawn, drawn.width - 100, 40)).not.toEqual(rgbAt(plain, drawn.width - 100, 40));
  });

  it('answers JPEG on request, and reads the saved heatmap’s data_url, a pattern included', async () => {
    const jpeg = await overlay('?format=jpeg');
    expect(jpeg.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(jpeg.rawPayload).metadata()).format).toBe('jpeg');

    const variant = pages.url('/basic.html?variant=2');
    for (let i = 0; i < 5; i++) await clicks(variant, [{ x: 200, y: 1300 }]);
    const before = await decodeRgb((await overlay()).rawPayload);
    expect(rgbAt(before, 200, 1300)).toEqual(rgbAt(plain, 200, 1300));
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/saved/${shortId}/`, { data_url: pages.url('/basic.html*') }));
    const after = await decodeRgb((await overlay()).rawPayload);
    expect(rgbAt(after, 200, 1300)).not.toEqual(rgbAt(plain, 200, 1300));
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/saved/${shortId}/`, { data_url: pageUrl() }));
  });

  it('draws scroll depth as bands: red where every visitor got, none below the deepest', async () => {
    // Two visitors scrolled 400 px down an 800-px viewport: the viewport's bottom reached 1200 px.
    for (const visitor of ['a', 'b']) {
      const pageview = {
        uuid: nextUuid(),
        event: '$pageview',
        distinct_id: visitor,
        timestamp: new Date(Date.now() - HOUR).toISOString(),
        properties: { $current_url: pageUrl(), $prev_pageview_pathname: '/basic.html', $prev_pageview_max_scroll: 400, $viewport_width: 1024, $viewport_height: 800 },
      };
      expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch: [pageview] } })).statusCode).toBe(200);
    }
    const drawn = await decodeRgb((await overlay('?type=scrolldepth')).rawPayload);
    const [r, g, b] = rgbAt(drawn, 512, 900);
    expect([r! > 200, g! < 160, b! < 160]).toEqual([true, true, true]);
    expect(rgbAt(drawn, 512, 1500)).toEqual(rgbAt(plain, 512, 1500));
  });

  it('answers 202 with the heatmap while it has no screenshot, and 404 for one that is not there', async () => {
    const pending = ok(await owner.call('POST', `/api/projects/${owner.teamId}/saved/`, { url: pageUrl(), type: 'iframe' }), 201);
    const response = await overlay('', pending.short_id);
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ short_id: pending.short_id, has_content: false });
    expect((await overlay('', 'nope')).statusCode).toBe(404);
    expect((await overlay('?format=gif')).statusCode).toBe(400);
  });

  accessTable(
    () => ctx,
    teamRows([
      {
        method: 'GET',
        path: '/saved/:id/overlay/',
        scope: 'heatmap:read',
        object: async (tenant) => ({ id: ok(await tenant.call('POST', `/api/projects/${tenant.teamId}/saved/`, { url: pageUrl(), type: 'iframe' }), 201).short_id }),
        status: 202,
      },
    ]),
  );
});
