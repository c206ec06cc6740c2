import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isPermanentRenderError, TransientRenderError } from '../../src/browser/errors.js';
import { budgets, type RenderSettings } from '../../src/modules/heatmaps/screenshots/budgets.js';
import { MOBILE_USER_AGENT } from '../../src/modules/heatmaps/screenshots/device.js';
import type { RenderScreenshotOptions } from '../../src/modules/heatmaps/screenshots/render-widths.js';
import { BLUE, GREEN, near, pixel, RED, settings, useRenderSetup, WHITE } from '../helpers/browser.js';

describe('renderScreenshot', () => {
  const setup = useRenderSetup();
  const render = (path: string, width: number, extra: Partial<RenderScreenshotOptions> = {}) => setup.screenshot(setup.server.url(path), width, extra);

  it.each([320, 375, 768, 1024, 1920])('renders %i px wide as a JPEG of exactly that width', async (width) => {
    const result = await render('/basic.html', width);
    const meta = await sharp(result.jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(width);
    expect(meta.height).toBe(result.height);
    expect(result.height).toBeGreaterThanOrEqual(800);
    expect(result.clipped).toBe(false);
    expect(result.jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    // The page's bands, top to bottom, at device scale 1.
    expect(near(await pixel(result.jpeg, 10, 50), RED)).toBe(true);
    expect(near(await pixel(result.jpeg, 10, 150), GREEN)).toBe(true);
    expect(near(await pixel(result.jpeg, width - 10, 250), BLUE)).toBe(true);
  });

  it('emulates a phone below 500 px and a desktop browser from 500 px', async () => {
    await render('/basic.html', 375);
    const mobile = setup.server.reports.at(-1);
    await render('/basic.html', 1024);
    const desktop = setup.server.reports.at(-1);

    expect(mobile).toMatchObject({ ua: MOBILE_USER_AGENT, coarse: 'true', touch: 'true', innerWidth: '375', dpr: '1' });
    expect(Number(mobile?.maxTouchPoints)).toBeGreaterThan(0);
    expect(desktop).toMatchObject({ coarse: 'false', touch: 'false', maxTouchPoints: '0', innerWidth: '1024', dpr: '1' });
    expect(desktop?.ua).toMatch(/^Mozilla\/5\.0 \(X11; Linux x86_64\) AppleWebKit\/537\.36 \(KHTML, like Gecko\) Chrome\/\d+\.0\.0\.0 Safari\/537\.36$/);
    expect(desktop?.ua).not.toMatch(/Headless|Mobile/);
    // The same user agent on the wire.
    const documentRequests = setup.server.requests.filter((r) => r.path === '/basic.html');
    expect(documentRequests.at(-1)?.headers['user-agent']).toBe(desktop?.ua);
  });

  it('clips a 40,000 px page to the height cap', async () => {
    const result = await render('/tall.html', 1024);
    expect(result.pageHeight).toBe(40_000);
    expect(result.height).toBe(settings.heightCapPx);
    expect(result.clipped).toBe(true);
    const meta = await sharp(result.jpeg).metadata();
    expect([meta.width, meta.height]).toEqual([1024, settings.heightCapPx]);
    // Blocks of 1000 px alternate red and blue all the way down: the bottom of the capture is drawn, not blank.
    expect(near(await pixel(result.jpeg, 500, 500), RED)).toBe(true);
    expect(near(await pixel(result.jpeg, 500, 1500), BLUE)).toBe(true);
    expect(near(await pixel(result.jpeg, 500, 16_200), RED)).toBe(true);
    expect(near(await pixel(result.jpeg, 500, 15_500), BLUE)).toBe(true);
  });

  it('captures a page that never goes quiet within the settle budget', async () => {
    const started = Date.now();
    const result = await render('/never-settles.html', 1024);
    const elapsed = Date.now() - started;
    const limits = budgets(settings);
    expect(result.settled).toBe(false);
    expect(near(await pixel(result.jpeg, 10, 10), GREEN)).toBe(true);
    // Settle, scroll and after-scroll budgets, plus a few seconds for navigation and capture.
    expect(elapsed).toBeLessThan(limits.settleMs + limits.scrollMs + limits.afterScrollMs + 4_000);
    expect(setup.server.hits('/poll')).toBeGreaterThan(5);
  });

  it('scrolls so that lazy content below the fold loads before the capture', async () => {
    const before = { io: setup.server.hits('/lazy.png'), native: setup.server.hits('/lazy-native.png') };
    const result = await render('/lazy.html', 1024);
    expect(setup.server.hits('/lazy.png')).toBe(before.io + 1);
    expect(setup.server.hits('/lazy-native.png')).toBe(before.native + 1);
    // Both images are in the capture (green), not their red placeholders.
    expect(near(await pixel(result.jpeg, 100, 5100), GREEN)).toBe(true);
    expect(near(await pixel(result.jpeg, 100, 6300), GREEN)).toBe(true);
  });

  it('scrolls to the bottom even when frames come so slowly that the pass runs out of time on the way', async () => {
    const before = setup.server.hits('/slow-frames.png');
    const result = await render('/slow-frames.html', 1024);
    expect(setup.server.hits('/slow-frames.png')).toBe(before + 1);
    expect(near(await pixel(result.jpeg, 100, 8100), GREEN)).toBe(true);
  }, 30_000);

  it.each([
    ['frames at the usual pace', '/sentinels.html'],
    ['frames so slow that the pass runs out of time and goes on', '/sentinels.html?burn=150'],
  ])('lets a frame lay out every scroll position, so IntersectionObservers see each (%s)', async (_name, path) => {
    const before = setup.server.hits('/sentinel.png');
    await render(path, 1024);
    expect(setup.server.hits('/sentinel.png') - before).toBe(80);
  }, 30_000);

  it('hides consent banners only when asked to, clicking "Accept all" but not "Book a demo"', async () => {
    const shown = await render('/consent.html', 1024);
    expect(near(await pixel(shown.jpeg, 500, 75), RED)).toBe(true);
    expect(setup.server.reports.some((r) => r.clicked)).toBe(false);

    const hidden = await render('/consent.html', 1024, { blockConsentModals: true });
    expect(near(await pixel(hidden.jpeg, 500, 75), WHITE)).toBe(true);
    await setup.server.waitForRequest('/report');
    expect(setup.server.reports.filter((r) => r.clicked).map((r) => r.clicked)).toEqual(['accept']);
  });

  it('brings a capture over the byte cap under it by re-encoding, keeping its width', async () => {
    const maxBytes = 400_000;
    const plain = await render('/noise.html', 1024);
    expect(plain.jpeg.length).toBeGreaterThan(maxBytes);

    const capped = await render('/noise.html', 1024, { settings: { ...settings, maxBytes } });
    expect(capped.jpeg.length).toBeLessThanOrEqual(maxBytes);
    expect(capped.quality).toBeLessThan(settings.jpegQuality);
    const meta = await sharp(capped.jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(1024);
    expect(meta.height).toBe(capped.height);
    // Quality 30 is not enough for 3,000 px of noise in 400 kB: the image is cut shorter, and says so.
    expect(capped.height).toBeLessThan(plain.height);
    expect(capped.clipped).toBe(true);
  });

  it('fails (to be retried) with a readable message when the page cannot be loaded', async () => {
    const refused = await setup.screenshot('http://127.0.0.1:9/', 1024).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransientRenderError);
    expect((refused as Error).message).toBe('Could not load http://127.0.0.1:9/: Connection refused');

    const quick: RenderSettings = { ...settings, navigationTimeoutMs: 1_500 };
    const started = Date.now();
    const hung = await render('/hang', 1024, { settings: quick }).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(TransientRenderError);
    expect((hung as Error).message).toMatch(new RegExp(`^(Timed out loading|Could not load) ${setup.server.url('/hang')}.*(timed out|navigation timeout)`, 'i'));
    // The quick navigation timeout, not the 10 s of `settings`, plus opening a context on a busy machine.
    expect(Date.now() - started).toBeLessThan(quick.navigationTimeoutMs + 4_000);
  });

  it('stops at once, closing its context, when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const rendering = render('/never-settles.html', 1024, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('lease lost')), 500);
    await expect(rendering).rejects.toThrow('lease lost');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(setup.pool.stats().active).toBe(0);
  });

  it('fails (to be retried) rather than hangs on a page whose renderer is stuck in a loop', async () => {
    const quick: RenderSettings = { ...settings, navigationTimeoutMs: 3_000, settleTimeoutMs: 1_000 };
    const started = Date.now();
    const error = await render('/busy-loop.html', 1024, { settings: quick }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientRenderError);
    expect(isPermanentRenderError(error)).toBe(false);
    expect(Date.now() - started).toBeLessThan(budgets(quick).hardLimitMs);
    // The pool is fine afterwards.
    const after = await render('/basic.html', 1024);
    expect(after.width).toBe(1024);
  }, 60_000);
});
