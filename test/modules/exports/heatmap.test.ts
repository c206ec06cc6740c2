import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestAccount, type TestContext } from '../../helpers/context.js';
import { decodeRgb, rgbAt, type RawImage } from '../../helpers/images.js';
import { type Canary, type PageServer, startCanary, startPageServer } from '../../helpers/page-server.js';
import { createAndAwait, heatmapClicks, savedHeatmap as saveHeatmap } from './fixtures.js';

const silent = pino({ level: 'silent' });
const HOUR = 3_600_000;
const PAGE = 'http://93.184.215.14/pricing';
const WIDTH = 1024;
const HEIGHT = 1200;
/** Real Chromium renders pages without a saved heatmap, served by the test on 127.0.0.1, which the guard lets through. */
/** A rendered page is a JPEG: its colours are the page's give or take a little. */
const expectNear = (actual: number[], expected: number[]) => actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `${actual} vs ${expected}`).toBeLessThanOrEqual(8));
const RENDER_ENV = { RENDER_ALLOWED_HOSTS: '127.0.0.1', RENDER_SETTLE_TIMEOUT_SECONDS: '3', RENDER_NAVIGATION_TIMEOUT_SECONDS: '10' };


/** A page screenshot as the renderer stores it (JPEG): a flat background with a green band at y 100 to 200. */
const screenshot = (background: { r: number; g: number; b: number }) =>
  sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background } })
    .composite([{ input: { create: { width: WIDTH, height: 100, channels: 3, background: { r: 40, g: 160, b: 60 } } }, top: 100, left: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();

/**
 * image/png exports of a heatmap (export_context.heatmap_url): a saved heatmap's stored screenshot with the heatmap-data
 * overlay drawn on it, or for a page without one the page rendered by Chromium. The saved heatmaps and their
 * screenshots are written through the heatmaps repository, as a finished render leaves them.
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
  let pages: PageServer;
  let canary: Canary;

  const projectTokens = new Map<number, string>();
  /** $$heatmap events as posthog-js sends them, of a visitor in a 1024-px viewport. */
  async function clicks(account: TestAccount, url: string, points: { x: number; y: number }[]) {
    if (!projectTokens.has(account.teamId)) {
      projectTokens.set(account.teamId, ok(await ctx.client(await ctx.newKey(account.user))('GET', `/api/projects/${account.teamId}/`)).api_token);
    }
    await heatmapClicks(ctx, projectTokens.get(account.teamId)!, url, points, WIDTH);
  }
  const savedHeatmap = (teamId: number, url: string, jpeg: Buffer | null, ageMs: number) => saveHeatmap(ctx, teamId, url, jpeg, { ageMs, width: WIDTH });
  const exportPng = (context: Record<string, unknown>) => createAndAwait(call, base, 'image/png', context);

  beforeAll(async () => {
    canary = await startCanary();
    pages = await startPageServer({ canary });
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '10', ...RENDER_ENV });
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
    await savedHeatmap(stranger.teamId, pages.url('/basic.html?team=stranger'), await screenshot({ r: 220, g: 0, b: 0 }), 0);

    // Ten clicks on the green band, five on a variant of the page (drawn only for a pattern), and the other team's.
    for (let i = 0; i < 10; i++) await clicks(owner, PAGE, [{ x: 512, y: 150 }]);
    for (let i = 0; i < 5; i++) await clicks(owner, `${PAGE}?variant=2`, [{ x: 200, y: 900 }]);
    for (let i = 0; i < 5; i++) await clicks(stranger, PAGE, [{ x: 800, y: 600 }]);
    // The page no one saved: ten clicks on its #buy button (250 to 450 x 400 to 460), two on #later (650 to 770 x 700 to 740).
    for (let i = 0; i < 10; i++) await clicks(owner, pages.url('/heatmap-target.html'), [{ x: 350, y: 430 }]);
    for (let i = 0; i < 2; i++) await clicks(owner, pages.url('/heatmap-target.html'), [{ x: 710, y: 720 }]);
    // Capture stores the points before it answers.
    const counts = async (query: string) => ok(await call('GET', `/api/projects/${owner.teamId}/heatmaps/?${query}&date_from=-1d`)).results.map((p: { count: number }) => p.count);
    expect(await counts(`url_exact=${encodeURIComponent(PAGE)}`)).toEqual([10]);
    expect(await counts(`url_pattern=${encodeURIComponent(`${PAGE}*`)}`)).toEqual([5]);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
    await pages?.close();
    await canary?.close();
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

  it('renders a page without a saved heatmap at export_context.width and draws its points on it, hottest over the clicked element', async () => {
    const url = pages.url('/heatmap-target.html');
    const row = await exportPng({ heatmap_url: url, width: WIDTH, height: 700, date_from: '-1d' });
    expect(row).toMatchObject({ has_content: true, exception: null });
    expect(pages.reports.at(-1)).toEqual({ page: 'heatmap-target', innerWidth: String(WIDTH), innerHeight: '700' });
    const drawn = await decodeRgb((await call('GET', `${base}/${row.id}/content/`)).rawPayload);
    // The whole page, not the viewport.
    expect([drawn.width, drawn.height]).toEqual([WIDTH, 1600]);
    expectNear(rgbAt(drawn, 440, 450), [221, 221, 221]);
    expectNear(rgbAt(drawn, 100, 1500), [255, 255, 255]);

    // The hottest pixels (the palette's red end) are all on #buy, around the click; the colder clicks on #later are
    // drawn, but not red.
    const hot: [number, number][] = [];
    for (let y = 0; y < drawn.height; y++) {
      for (let x = 0; x < drawn.width - 200; x++) {
        const [r, g, b] = rgbAt(drawn, x, y);
        if (r! > 180 && g! < 120 && b! < 60) hot.push([x, y]);
      }
    }
    expect(hot.length).toBeGreaterThan(50);
    for (const [x, y] of hot) {
      expect(x >= 250 && x < 450 && y >= 400 && y < 460, `${x},${y}`).toBe(true);
      expect(Math.hypot(x - 350, y - 430)).toBeLessThan(40);
    }
    const [r, g, b] = rgbAt(drawn, 710, 720);
    expect(r === g && g === b).toBe(false);
    expect(r! > 180 && g! < 120).toBe(false);

    // The same as a PDF (pdf.test.ts reads one back).
    const pdf = await createAndAwait(call, base, 'application/pdf', { heatmap_url: url, width: WIDTH, date_from: '-1d' });
    expect(pdf).toMatchObject({ has_content: true, exception: null });
    expect((await call('GET', `${base}/${pdf.id}/content/`)).rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it("renders the page when only another team saved it, rather than using that team's screenshot", async () => {
    const row = await exportPng({ heatmap_url: pages.url('/basic.html?team=stranger'), width: WIDTH });
    expect(row).toMatchObject({ has_content: true, exception: null });
    const drawn = await decodeRgb((await call('GET', `${base}/${row.id}/content/`)).rawPayload);
    expectNear(rgbAt(drawn, 100, 1100), [255, 255, 255]);
  });

  it('refuses a URL the SSRF guard does not allow, at create or when the page redirects there', async () => {
    const refused = await call('POST', `${base}/`, { export_format: 'image/png', export_context: { heatmap_url: `${canary.origin}/private` } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ attr: 'export_context', detail: expect.stringMatching(/^heatmap_url not allowed: /) });

    const redirected = await exportPng({ heatmap_url: pages.url(`/redirect?to=${encodeURIComponent(`${canary.origin}/private`)}`) });
    expect(redirected.has_content).toBe(false);
    expect(redirected.exception).toMatch(/^heatmap_url not allowed: /);
    expect(canary.requests).toEqual([]);
    const content = await call('GET', `${base}/${redirected.id}/content/`);
    expect(content.statusCode).toBe(400);
    expect(content.json()).toEqual({ type: 'server_error', code: 'export_failed', detail: redirected.exception, attr: null });
  });

  it('fails a URL that does not render as a page', async () => {
    const row = await exportPng({ heatmap_url: pages.url('/download') });
    expect(row.has_content).toBe(false);
    expect(row.exception).toBe(`Could not render ${pages.url('/download')} for the heatmap: The URL starts a file download instead of showing a page (${pages.url('/download')})`);
  });

  it('takes a PNG with session_recording_id and no heatmap_url for a recording frame (recording-frame.test.ts)', async () => {
    const replay = await exportPng({ session_recording_id: 'abc' });
    expect(replay.exception).toBe('Session recording abc does not exist in this project');
  });
});
