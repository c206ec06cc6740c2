import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MOBILE_USER_AGENT } from '../../src/modules/heatmaps/screenshots/device.js';
import type { ScreenshotResult } from '../../src/modules/heatmaps/screenshots/render-page.js';
import { renderWidths, type RenderWidthsOptions } from '../../src/modules/heatmaps/screenshots/render-widths.js';
import { DEFAULT_TARGET_WIDTHS } from '../../src/modules/heatmaps/contract.js';
import { GREEN, guard, log, near, pixel, settings, useRenderSetup, WHITE } from '../helpers/browser.js';

/**
 * renderWidths: one page per device kind (phone below 500 px, desktop from 500 px), the kind's other widths
 * rendered after a resize, every width handed over as soon as it is captured.
 */

describe('renderWidths', () => {
  const setup = useRenderSetup();
  let run = 0;

  /** Renders /widths.html for a run of its own; returns what was handed over, in order. */
  async function renderAt(path: string, widths: readonly number[], extra: Partial<RenderWidthsOptions> = {}) {
    const shots: ScreenshotResult[] = [];
    const outcome = await renderWidths({
      pool: setup.pool,
      guard,
      url: setup.server.url(path),
      widths,
      blockConsentModals: false,
      settings,
      log,
      onScreenshot: async (shot) => {
        shots.push(shot);
        return true;
      },
      ...extra,
    });
    return { shots, outcome };
  }

  async function render(widths: readonly number[], extra: Partial<RenderWidthsOptions> = {}) {
    const id = `r${++run}`;
    const { shots, outcome } = await renderAt(`/widths.html?run=${id}`, widths, extra);
    return { id, shots, outcome, reports: () => setup.server.reports.filter((r) => r.run === id) };
  }

  it('loads the page once per device kind: 7 widths, 2 contexts, 2 navigations', async () => {
    const loads = setup.server.hits('/widths.html');
    const contexts = setup.pool.stats().contexts;
    const { shots, outcome } = await render(DEFAULT_TARGET_WIDTHS);

    expect(outcome).toEqual({ stopped: false });
    expect(setup.server.hits('/widths.html') - loads).toBe(2);
    expect(setup.pool.stats().contexts - contexts).toBe(2);
    expect(setup.pool.stats()).toMatchObject({ active: 0 });
    expect(setup.pool.stats().peakActive).toBeLessThanOrEqual(2);
    // Every width once; within a kind in the order asked for.
    expect([...shots.map((s) => s.width)].sort((a, b) => a - b)).toEqual([...DEFAULT_TARGET_WIDTHS].sort((a, b) => a - b));
    expect(shots.map((s) => s.width).filter((w) => w < 500)).toEqual([320, 375, 425]);
    expect(shots.map((s) => s.width).filter((w) => w >= 500)).toEqual([768, 1024, 1440, 1920]);
    for (const shot of shots) {
      const meta = await sharp(shot.jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', shot.width, 6000]);
      expect(shot.clipped).toBe(false);
      // IntersectionObserver lazy loading: the fast scroll pass is enough.
      expect(shot.slowScroll).toBe(false);
    }
  });

  it('emulates a phone below 500 px and a desktop browser from 500 px at every width, resized ones included', async () => {
    const { reports } = await render([320, 375, 425, 768, 1024, 1920]);
    // The first report at a width is from when it started rendering: its page load or its resize. (A full-page
    // capture resizes the page too, and for a moment after it Chromium reports no coarse pointer; Playwright then
    // turns touch emulation back on, and the next width's resize shows it.)
    const seen = (width: number) => reports().filter((r) => r.innerWidth === String(width));

    for (const width of [320, 375, 425]) {
      const report = seen(width).at(0);
      expect(report, `a report at ${width} px`).toMatchObject({ ua: MOBILE_USER_AGENT, coarse: 'true', touch: 'true', dpr: '1', screenWidth: String(width), innerHeight: '800' });
      expect(Number(report?.maxTouchPoints)).toBeGreaterThan(0);
    }
    for (const width of [768, 1024, 1920]) {
      const report = seen(width).at(0);
      expect(report, `a report at ${width} px`).toMatchObject({ coarse: 'false', touch: 'false', maxTouchPoints: '0', dpr: '1', screenWidth: String(width), innerHeight: '800' });
      expect(report?.ua).toMatch(/^Mozilla\/5\.0 \(X11; Linux x86_64\) .* Chrome\/\d+\.0\.0\.0 Safari\/537\.36$/);
    }
    // The first width of each kind was a page load, the others resizes of that page.
    expect(reports().filter((r) => r.event === 'load').map((r) => r.innerWidth).sort()).toEqual(['320', '768']);
    for (const width of [375, 425, 1024, 1920]) expect(seen(width).at(0)?.event).toBe('resize');
  });

  it('captures lazy content below the fold at every width, including content that only shows after a resize', async () => {
    const before = { io: setup.server.hits('/w-io.png'), from360: setup.server.hits('/w-360.png'), from1000: setup.server.hits('/w-1000.png') };
    const { shots } = await render([320, 375, 768, 1024]);
    const at = (width: number) => shots.find((s) => s.width === width)!.jpeg;

    for (const width of [320, 375, 768, 1024]) {
      // Below the fold on every page, loaded by the scroll pass.
      expect(near(await pixel(at(width), 100, 3100), GREEN), `lazy image at ${width} px`).toBe(true);
    }
    // Hidden below 360 px: first shown after the resize to 375 (phone) and at 768 (desktop, loaded then).
    expect(near(await pixel(at(320), 100, 4300), WHITE)).toBe(true);
    expect(near(await pixel(at(375), 100, 4300), GREEN)).toBe(true);
    expect(near(await pixel(at(768), 100, 4300), GREEN)).toBe(true);
    // Hidden below 1000 px: only the resize to 1024 shows it, and the scroll pass after it loads it.
    expect(near(await pixel(at(768), 100, 5500), WHITE)).toBe(true);
    expect(near(await pixel(at(1024), 100, 5500), GREEN)).toBe(true);

    // All of it by the fast scroll passes, the ones after a resize included (not by the slow fallback).
    expect(shots.map((s) => s.slowScroll)).toEqual([false, false, false, false]);
    expect(setup.server.hits('/w-io.png') - before.io).toBe(2);
    expect(setup.server.hits('/w-360.png') - before.from360).toBe(2);
    expect(setup.server.hits('/w-1000.png') - before.from1000).toBe(1);
  });

  /** Renders `path` at `widths` (its own run), returning what was handed over. */
  async function renderPage(path: string, widths: readonly number[]) {
    const { shots } = await renderAt(path, widths);
    return (width: number) => shots.find((s) => s.width === width)!;
  }

  it('leaves out the scroll pass after a resize when all lazy content loaded at an earlier width', async () => {
    const before = { io: setup.server.hits('/lazy.png'), native: setup.server.hits('/lazy-native.png') };
    const shot = await renderPage('/lazy.html', [320, 375, 425, 1024, 1440, 1920]);

    // The first width of each kind scrolls; the later ones find nothing left to load and do not.
    for (const width of [320, 1024]) expect(shot(width).scrollSkipped, `${width} px`).toBe(false);
    for (const width of [375, 425, 1440, 1920]) expect(shot(width).scrollSkipped, `${width} px`).toBe(true);
    // The same picture: both lazy images (IntersectionObserver and loading=lazy) green at every width.
    for (const width of [320, 375, 425, 1024, 1440, 1920]) {
      expect(shot(width).height, `${width} px`).toBe(6900);
      expect(near(await pixel(shot(width).jpeg, 100, 5100), GREEN), `observed image at ${width} px`).toBe(true);
      expect(near(await pixel(shot(width).jpeg, 100, 6300), GREEN), `loading=lazy image at ${width} px`).toBe(true);
    }
    // Loaded once per page.
    expect(setup.server.hits('/lazy.png') - before.io).toBe(2);
    expect(setup.server.hits('/lazy-native.png') - before.native).toBe(2);
  });

  it('scrolls after a resize that shows an IntersectionObserver target never reported intersecting', async () => {
    const before = { early: setup.server.hits('/early.png'), late: setup.server.hits('/late.png') };
    const shot = await renderPage('/late-observed.html', [1024, 1100, 1440, 1920]);

    // 1100 px: #late is still hidden, nothing pending. 1440 px: it shows, observed since the load but never seen.
    expect([1024, 1100, 1440, 1920].map((w) => shot(w).scrollSkipped)).toEqual([false, true, false, true]);
    for (const width of [1024, 1100, 1440, 1920]) expect(near(await pixel(shot(width).jpeg, 100, 3100), GREEN), `#early at ${width} px`).toBe(true);
    expect(near(await pixel(shot(1100).jpeg, 100, 4300), WHITE)).toBe(true);
    expect(near(await pixel(shot(1440).jpeg, 100, 4300), GREEN)).toBe(true);
    expect(near(await pixel(shot(1920).jpeg, 100, 4300), GREEN)).toBe(true);
    expect(setup.server.hits('/early.png') - before.early).toBe(1);
    expect(setup.server.hits('/late.png') - before.late).toBe(1);

    // The wrapped IntersectionObserver looks and behaves like the native one to the page.
    expect(setup.server.reports.filter((r) => r.page === 'late-observed').at(-1)).toMatchObject({
      native: 'true',
      name: 'IntersectionObserver',
      constructor: 'true',
      instance: 'true',
      keys: '',
      throws: 'TypeError',
    });
  });

  it('scrolls again slowly when a throttled scroll listener left lazy images unloaded, once per page', async () => {
    const before = setup.server.hits('/throttled.png');
    const { shots } = await renderAt('/throttled-lazy.html', [1024, 1440]);
    // All 30 loaded: the fast pass alone leaves about half of them (checks at most every 125 ms).
    expect(setup.server.hits('/throttled.png') - before).toBe(30);
    const first = shots[0]!;
    expect(first.slowScroll).toBe(true);
    for (const y of [1050, 5850, 12_650]) expect(near(await pixel(first.jpeg, 50, y), GREEN), `image at ${y} px`).toBe(true);
    // The image that loads only on click was given up on after the slow pass: the next width does not wait for it.
    expect(shots[1]!.slowScroll).toBe(false);
    expect(setup.server.hits('/on-click.png')).toBe(0);
  });

  it('hands each width over before rendering the next one of its kind, and stops when told to', async () => {
    const loads = setup.server.hits('/widths.html');
    const handed: number[] = [];
    const { outcome } = await render([768, 1024, 1440, 1920], {
      onScreenshot: async (shot) => {
        handed.push(shot.width);
        return false; // a newer render generation took over
      },
    });
    expect(outcome).toEqual({ stopped: true });
    expect(handed).toEqual([768]);
    expect(setup.server.hits('/widths.html') - loads).toBe(1);
    expect(setup.pool.stats().active).toBe(0);

    // Both kinds: the first "stop" ends the other kind too, without handing it anything more.
    const mixed: number[] = [];
    const started = Date.now();
    const both = await render(DEFAULT_TARGET_WIDTHS, {
      onScreenshot: async (shot) => {
        mixed.push(shot.width);
        return false;
      },
    });
    expect(both.outcome).toEqual({ stopped: true });
    // Each kind may have had one width in hand when the first answer came; never more.
    expect(mixed.length).toBeGreaterThanOrEqual(1);
    expect(mixed.length).toBeLessThanOrEqual(2);
    expect(new Set(mixed.map((w) => w < 500)).size).toBe(mixed.length);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(setup.pool.stats().active).toBe(0);
  });

  it('stops at once, closing its pages, when the signal aborts mid-way', async () => {
    const controller = new AbortController();
    const handed: number[] = [];
    const started = Date.now();
    let abortedAt = 0;
    const rendering = render(DEFAULT_TARGET_WIDTHS, {
      signal: controller.signal,
      onScreenshot: async (shot) => {
        handed.push(shot.width);
        if (handed.length === 1) {
          abortedAt = Date.now();
          controller.abort(new Error('lease lost'));
        }
        return true;
      },
    });
    await expect(rendering).rejects.toThrow('lease lost');
    expect(Date.now() - abortedAt).toBeLessThan(2_000);
    expect(handed.length).toBeLessThan(DEFAULT_TARGET_WIDTHS.length);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(setup.pool.stats().active).toBe(0);
  });

  it('fails with the error onScreenshot throws, unchanged', async () => {
    const failure = new Error('database gone');
    const error = await render([1024, 1440], { onScreenshot: () => Promise.reject(failure) }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(setup.pool.stats().active).toBe(0);
  });

  it('renders one width through renderScreenshot, the same code path', async () => {
    const result = await setup.screenshot(setup.server.url('/widths.html?run=single'), 425);
    expect(result.width).toBe(425);
    expect(near(await pixel(result.jpeg, 100, 4300), GREEN)).toBe(true);
    expect(setup.server.reports.filter((r) => r.run === 'single' && r.event === 'load')).toHaveLength(1);
  });

  it('keeps many sub-requests in flight without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const before = setup.server.hits('/slow');
      const result = await setup.screenshot(setup.server.url('/many-requests.html'), 1024);
      expect(result.width).toBe(1024);
      expect(setup.server.hits('/slow') - before).toBe(20);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });
});
