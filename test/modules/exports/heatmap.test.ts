import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { createHeatmapsRepository } from '../../../src/modules/heatmaps/repository.js';
import { newUuid } from '../../../src/lib/ids.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestAccount, type TestContext } from '../../helpers/context.js';
import { decodeRgb, rgbAt, type RawImage } from '../../helpers/images.js';
import { sleep, waitFor } from '../../helpers/jobs.js';

const silent = pino({ level: 'silent' });
const HOUR = 3_600_000;
const PAGE = 'http://93.184.215.14/pricing';
const WIDTH = 1024;
const HEIGHT = 1200;


/** A page screenshot as the renderer stores it (JPEG): a flat background with a green band at y 100 to 200. */
const screenshot = (background: { r: number; g: number; b: number }) =>
  sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background } })
    .composite([{ input: { create: { width: WIDTH, height: 100, channels: 3, background: { r: 40, g: 160, b: 60 } } }, top: 100, left: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();

/**
 * image/png exports of a heatmap (export_context.heatmap_url): a saved heatmap's stored screenshot with the heatmap-data
 * overlay drawn on it. The saved heatmaps and their screenshots are written through the heatmaps repository, as a
 * finished render leaves them, so no browser is needed.
 */
describe('heatmap PNG exports', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let owner: TestAccount;
  let stranger: TestAccount;
  let call: ReturnType<TestContext['client']>;
  let key: string;
  let worker: Worker;
  let base: string;
  let plain: RawImage;
  let counter = 0;

  /** A completed saved heatmap of url in the team with one stored screenshot, created `ageMs` ago. */
  async function savedHeatmap(teamId: number, url: string, jpeg: Buffer | null, ageMs: number, extra: { dataUrl?: string } = {}) {
    const heatmaps = createHeatmapsRepository(ctx.database.db);
    const row = await heatmaps.insert({
      id: newUuid(),
      teamId,
      shortId: `hm${String(++counter).padStart(6, '0')}`,
      url,
      dataUrl: extra.dataUrl ?? url,
      targetWidths: [WIDTH],
      type: 'screenshot',
      status: jpeg ? 'completed' : 'processing',
      createdAt: new Date(Date.now() - ageMs).toISOString(),
    });
    if (jpeg) expect(await heatmaps.storeSnapshot(row.id, row.renderGeneration, WIDTH, jpeg)).toBe(true);
    return row;
  }

  /** $$heatmap events as posthog-js sends them, of a visitor in a 1024-px viewport. */
  const projectTokens = new Map<number, string>();
  async function clicks(account: TestAccount, url: string, points: { x: number; y: number }[]) {
    if (!projectTokens.has(account.teamId)) {
      projectTokens.set(account.teamId, ok(await ctx.client(await ctx.newKey(account.user))('GET', `/api/projects/${account.teamId}/`)).api_token);
    }
    const event = {
      uuid: newUuid(),
      event: '$$heatmap',
      distinct_id: 'visitor',
      timestamp: new Date(Date.now() - HOUR).toISOString(),
      properties: { $session_id: 's1', $viewport_width: WIDTH, $viewport_height: 800, $heatmap_data: { [url]: points.map((p) => ({ ...p, target_fixed: false, type: 'click' })) } },
    };
    expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: projectTokens.get(account.teamId), batch: [event] } })).statusCode).toBe(200);
  }

  async function exportPng(context: Record<string, unknown>) {
    // The create waits up to EXPORT_CREATE_WAIT_SECONDS for the file; on a slow machine the row is read again.
    const created = ok(await call('POST', `${base}/`, { export_format: 'image/png', export_context: context }), 201);
    if (created.has_content || created.exception) return created;
    return waitFor(async () => {
      await sleep(500);
      const row = ok(await call('GET', `${base}/${created.id}/`));
      return row.has_content || row.exception ? row : undefined;
    }, 60_000);
  }

  beforeAll(async () => {
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '10' });
    owner = await ctx.newAccount();
    stranger = await ctx.newAccount();
    key = await ctx.newKey(owner.user);
    call = ctx.client(key);
    base = `/api/projects/${owner.teamId}/exports`;
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: silent, settings: { concurrency: 2, pollIntervalMs: 20, leaseMs: 5000 } });

    // The owner's saved heatmaps of the page: an older one (dark), the one the exports use (white), and a newer one
    // whose screenshot is still being rendered. Another team saved the same page later still, in red.
    const white = await screenshot({ r: 255, g: 255, b: 255 });
    plain = await decodeRgb(white);
    await savedHeatmap(owner.teamId, PAGE, await screenshot({ r: 30, g: 30, b: 30 }), 3 * HOUR);
    await savedHeatmap(owner.teamId, PAGE, white, 2 * HOUR);
    await savedHeatmap(owner.teamId, PAGE, null, HOUR);
    await savedHeatmap(stranger.teamId, PAGE, await screenshot({ r: 220, g: 0, b: 0 }), 0);
    await savedHeatmap(stranger.teamId, `${PAGE}/stranger-only`, await screenshot({ r: 220, g: 0, b: 0 }), 0);

    // Ten clicks on the green band, five on a variant of the page (drawn only for a pattern), and the other team's.
    for (let i = 0; i < 10; i++) await clicks(owner, PAGE, [{ x: 512, y: 150 }]);
    for (let i = 0; i < 5; i++) await clicks(owner, `${PAGE}?variant=2`, [{ x: 200, y: 900 }]);
    for (let i = 0; i < 5; i++) await clicks(stranger, PAGE, [{ x: 800, y: 600 }]);
    // Capture stores the points before it answers.
    const counts = async (query: string) => ok(await call('GET', `/api/projects/${owner.teamId}/heatmaps/?${query}&date_from=-1d`)).results.map((p: { count: number }) => p.count);
    expect(await counts(`url_exact=${encodeURIComponent(PAGE)}`)).toEqual([10]);
    expect(await counts(`url_pattern=${encodeURIComponent(`${PAGE}*`)}`)).toEqual([5]);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
  });

  it("draws the heatmap on the team's most recent completed screenshot of the page, as the overlay does", async () => {
    const row = await exportPng({ heatmap_url: PAGE, width: 1000, height: 600, date_from: '-1d' });
    expect(row).toMatchObject({ has_content: true, exception: null, export_format: 'image/png' });
    expect(row.filename).toMatch(/^export-\d{4}-\d{2}-\d{2}-\d{6}\.png$/);
    const content = await call('GET', `${base}/${row.id}/content/`);
    expect(content.statusCode).toBe(200);
    expect(content.headers['content-type']).toMatch(/^image\/png/);
    expect((await sharp(content.rawPayload).metadata()).format).toBe('png');
    const drawn = await decodeRgb(content.rawPayload);
    expect([drawn.width, drawn.height]).toEqual([WIDTH, HEIGHT]);

    // Hot over the clicked band; the variant's clicks (an exact data_url) and the other team's are not drawn.
    const [r, g, b] = rgbAt(drawn, 512, 150);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(120);
    expect(b).toBeLessThan(60);
    for (const [x, y] of [[200, 900], [800, 600], [100, 1100], [900, 400], [20, 150]] as const) expect(rgbAt(drawn, x, y)).toEqual(rgbAt(plain, x, y));
    // The white screenshot, not the older dark one nor the other team's red one.
    expect(rgbAt(drawn, 100, 1100)).toEqual([255, 255, 255]);
    // Nothing changes more than 40 px (give or take the 16-px grid) from the point but the legend, top right.
    const legend = { left: drawn.width - 188, right: drawn.width - 8, top: 8, bottom: 60 };
    let changedFar = 0;
    for (let y = 0; y < drawn.height; y += 3) {
      for (let x = 0; x < drawn.width; x += 3) {
        const nearPoint = Math.hypot(x - 512, y - 150) <= 53;
        const inLegend = x >= legend.left && x <= legend.right && y >= legend.top && y <= legend.bottom;
        if (!nearPoint && !inLegend && rgbAt(drawn, x, y).some((v, i) => v !== rgbAt(plain, x, y)[i])) changedFar++;
      }
    }
    expect(changedFar).toBe(0);
  });

  it('reads the points of heatmap_data_url (a pattern) and the filters in PostHog’s exporter shape', async () => {
    const row = await exportPng({ heatmap_url: PAGE, heatmap_data_url: `${PAGE}*`, common_filters: { date_from: '-1d' }, heatmap_filters: { type: 'click' }, filename: 'pricing clicks' });
    expect(row).toMatchObject({ has_content: true, exception: null });
    expect(row.filename).toMatch(/^pricing-clicks-\d{4}-\d{2}-\d{2}-\d{6}\.png$/);
    const drawn = await decodeRgb((await call('GET', `${base}/${row.id}/content/`)).rawPayload);
    // PostHog's pattern: the * stands for one or more characters, so the page itself is not drawn, its variant is.
    expect(rgbAt(drawn, 200, 900)).not.toEqual(rgbAt(plain, 200, 900));
    expect(rgbAt(drawn, 512, 150)).toEqual(rgbAt(plain, 512, 150));
    expect(rgbAt(drawn, 800, 600)).toEqual(rgbAt(plain, 800, 600));

    // Another type has no points there: the screenshot as stored, but for the legend.
    const moves = await exportPng({ heatmap_url: PAGE, type: 'mousemove', date_from: '-1d' });
    const bare = await decodeRgb((await call('GET', `${base}/${moves.id}/content/`)).rawPayload);
    expect(rgbAt(bare, 512, 150)).toEqual(rgbAt(plain, 512, 150));
  });

  it("fails a page without a saved screenshot in the team, another team's included: 400 export_failed", async () => {
    for (const url of ['http://93.184.215.14/never-saved', `${PAGE}/stranger-only`]) {
      const row = await exportPng({ heatmap_url: url });
      expect(row.has_content).toBe(false);
      expect(row.exception).toBe(
        `No saved heatmap with a screenshot for ${url}: save one first (POST /api/projects/${owner.teamId}/saved/ with this url) and export once its screenshot is completed; rendering an unsaved page is not supported yet`,
      );
      const content = await call('GET', `${base}/${row.id}/content/`);
      expect(content.statusCode).toBe(400);
      expect(content.json()).toEqual({ type: 'server_error', code: 'export_failed', detail: row.exception, attr: null });
    }
  });

  it('still fails other image formats; a PNG with session_recording_id is a recording frame (recording-frame.test.ts)', async () => {
    const failed = ok(await call('POST', `${base}/`, { export_format: 'application/pdf', export_context: { heatmap_url: PAGE } }), 201);
    expect(failed.exception).toBe('Export to format application/pdf is not supported yet');
    const replay = await exportPng({ session_recording_id: 'abc' });
    expect(replay.exception).toBe('Session recording abc does not exist in this project');
  });
});
