import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../../src/browser/chromium.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { expectError, notFound, ok, sessionHeaders } from '../../helpers/api.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { heatmapEvents, insertRecording, savedHeatmapAt } from './demo-data.js';

/**
 * Burrow's own pages in real Chromium against the real app over HTTP: sign-in (keyboard only), the home page's
 * snippet and API keys, heatmaps with their overlay, replay with filters, exports and subscriptions; and the same
 * pages under the base path '/burrow'. Another team's objects never show.
 */

/** Address literals: no DNS on this closed network, and the SSRF guard lets a public one through (exports check it). */
const PAGE = 'http://93.184.215.14/pricing';
const OTHER_PAGE = 'http://93.184.215.14/hidden';
const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

let browser: Browser;

/** expect.poll with room for a loaded machine (its default gives up after a second). */
const poll = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 45_000, interval: 100 });

beforeAll(async () => {
  const location = findChromium();
  if (!location.found) throw new Error(location.problem);
  browser = await chromium.launch({ executablePath: location.path, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}, 180_000);
afterAll(() => browser?.close());

/** Signs in through the form with the keyboard only, starting from `path` (a page that sends the visitor there). */
async function signInWithKeyboard(page: Page, origin: string, path: string, email: string) {
  await page.goto(`${origin}${path}`);
  await poll(() => page.evaluate('document.activeElement?.id')).toBe('email');
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(STRONG_PASSWORD);
  await page.keyboard.press('Enter');
}

/** Waits for the image to be shown and loaded; answers its natural width. (Page code is a string: no DOM types here.) */
async function imageLoaded(page: Page, selector: string): Promise<number> {
  const width = () => page.evaluate<number>(`(() => { const img = document.querySelector(${JSON.stringify(selector)}); return img && !img.hidden && img.complete ? img.naturalWidth : 0; })()`);
  await poll(width).toBeGreaterThan(0);
  return width();
}
const naturalWidth = (page: Page) => page.evaluate<number>("document.querySelector('#heatmap-image').naturalWidth");

describe("Burrow's pages", { timeout: 180_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let stranger: Tenant;
  let origin: string;
  let context: BrowserContext;
  let page: Page;
  let worker: Worker;
  let heatmap: { shortId: string; id: string };
  let otherHeatmap: { shortId: string };

  beforeAll(async () => {
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '1' });
    const make = factories(ctx);
    owner = await make.tenant();
    stranger = await make.tenant();
    const token = await make.projectToken(owner);

    const saved = await savedHeatmapAt(ctx.database, owner.teamId, PAGE, [375, 1024], 'Pricing page');
    heatmap = { shortId: saved.shortId, id: saved.id };
    otherHeatmap = { shortId: (await savedHeatmapAt(ctx.database, stranger.teamId, OTHER_PAGE, [1024], 'Secret page')).shortId };
    const points = Array.from({ length: 30 }, (_, i) => ({ x: 100 + (i % 6) * 20, y: 310 + (i % 3) * 10, type: i % 10 === 0 ? 'rageclick' : i % 2 ? 'mousemove' : 'click' }));
    expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch: heatmapEvents(PAGE, 1024, points) } })).statusCode).toBe(200);

    await insertRecording(ctx.database, owner.teamId, { id: 'rec-checkout', minutesAgo: 30, seconds: 300, url: 'https://shop.example.com/checkout', consoleErrors: ['TypeError: x is undefined'] });
    await insertRecording(ctx.database, owner.teamId, { id: 'rec-pricing', minutesAgo: 60, seconds: 40, url: 'https://shop.example.com/pricing' });
    await insertRecording(ctx.database, stranger.teamId, { id: 'rec-secret', minutesAgo: 10, seconds: 100, url: OTHER_PAGE });
    ok(await stranger.call('POST', `/api/projects/${stranger.teamId}/subscriptions/`, {
      title: 'Secret report', target_type: 'email', target_value: 'spy@example.org', frequency: 'weekly', interval: 1, start_date: new Date().toISOString(), saved_heatmap: otherHeatmap.shortId,
    }), 201);

    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 1, pollIntervalMs: 50, leaseMs: 30_000 } });
    origin = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    context.setDefaultTimeout(60_000);
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await worker?.stop();
    await ctx?.close();
  });

  it('sends a visit without a session to the sign-in page, keeping where it was going; API clients get JSON', async () => {
    for (const path of ['/', '/heatmaps', `/heatmaps/${heatmap.shortId}`, '/replay?url=checkout', '/exports', '/subscriptions']) {
      const response = await ctx.app.inject({ url: path, headers: { accept: HTML } });
      expect(response.statusCode, path).toBe(302);
      expect(response.headers.location, path).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    expectError(await ctx.app.inject({ url: '/', headers: { accept: 'application/json' } }), 404, notFound('Endpoint not found.'));
    expectError(await ctx.app.inject({ url: '/' }), 404, notFound('Endpoint not found.'));
    // A key is not a browser session: the pages are for people.
    expect((await ctx.app.inject({ url: '/heatmaps', headers: { ...owner.headers, accept: HTML } })).statusCode).toBe(403);
    // The sign-in page only ever sends the browser on to a path of this server.
    const login = await ctx.app.inject({ url: '/login?next=//evil.example/x' });
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain('"next":"/"');
    expect(login.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('serves its style and script with long caching under their version', async () => {
    const login = (await ctx.app.inject({ url: '/login' })).body;
    const [, script] = /src="(\/web-assets\/web\.js\?v=[0-9a-f]+)"/.exec(login) ?? [];
    const [, style] = /href="(\/web-assets\/web\.css\?v=[0-9a-f]+)"/.exec(login) ?? [];
    for (const url of [script!, style!]) {
      const response = await ctx.app.inject({ url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    expect((await ctx.app.inject({ url: '/web-assets/web.js' })).headers['cache-control']).toBe('no-cache');
    expect((await ctx.app.inject({ url: '/web-assets/nope.js' })).statusCode).toBe(404);
  });

  it('signs in with the keyboard only and comes back to the page asked for', async () => {
    await signInWithKeyboard(page, origin, '/replay?url=checkout', 'wrong@example.com');
    await poll(() => page.locator('#login-error').textContent()).not.toBe('');
    await page.fill('#email', '');
    await page.focus('#email');
    await page.keyboard.type(owner.user.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(STRONG_PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${origin}/replay?url=checkout`);
    expect(await page.locator('#url').inputValue()).toBe('checkout');
  });

  it('shows the project with its posthog-js snippet, and creates, rolls and deletes a key whose value shows once', async () => {
    const token = await factories(ctx).projectToken(owner);
    await page.goto(`${origin}/`);
    await poll(() => page.locator('#project-token').textContent()).toBe(token);
    const snippet = await page.locator('#snippet').textContent();
    expect(snippet).toContain(`posthog.init("${token}"`);
    expect(snippet).toContain('api_host: "http://localhost:8000"');
    expect(await page.locator('a[href="/docs"]').count()).toBeGreaterThan(0);

    await page.fill('#key-label', 'from the page');
    await page.click('#key-form button[type=submit]');
    const value = (await page.locator('#new-key-value').textContent())!;
    expect(value).toMatch(/^phx_/);
    expect((await ctx.client(value)('GET', '/api/users/@me/')).statusCode).toBe(200);
    const row = page.locator('#keys tr', { hasText: 'from the page' });
    await poll(() => row.count()).toBe(1);

    await page.reload();
    await poll(() => row.count()).toBe(1);
    expect(await page.content()).not.toContain(value);

    await row.getByRole('button', { name: 'Roll from the page' }).click();
    await poll(() => page.locator('#new-key-value').textContent()).toMatch(/^phx_/);
    const rolled = (await page.locator('#new-key-value').textContent())!;
    expect(rolled).not.toBe(value);
    expect((await ctx.client(value)('GET', '/api/users/@me/')).statusCode).toBe(401);
    expect((await ctx.client(rolled)('GET', '/api/users/@me/')).statusCode).toBe(200);

    await row.getByRole('button', { name: 'Delete from the page' }).click();
    await poll(() => row.count()).toBe(0);
    expect((await ctx.client(rolled)('GET', '/api/users/@me/')).statusCode).toBe(401);

    // A key with chosen scopes.
    await page.fill('#key-label', 'read heatmaps');
    await page.check('input[name=access][value=scoped]');
    await page.selectOption('#scope-heatmap', 'read');
    await page.click('#key-form button[type=submit]');
    await poll(() => page.locator('#keys tr', { hasText: 'read heatmaps' }).textContent()).toContain('heatmap:read');
    const session = await ctx.login(owner.user.email);
    const keys = ok<any[]>(await ctx.app.inject({ url: '/api/personal_api_keys/', headers: sessionHeaders(session) }));
    expect(keys.find((k) => k.label === 'read heatmaps')?.scopes).toEqual(['heatmap:read']);
  });

  it('lists the saved heatmaps with thumbnails, and draws one over its screenshot at the width picked', async () => {
    await page.goto(`${origin}/heatmaps`);
    const card = page.locator('#heatmaps li', { hasText: 'Pricing page' });
    await poll(() => card.count()).toBe(1);
    expect(await page.locator('#heatmaps').textContent()).not.toContain('Secret page');
    expect(await imageLoaded(page, '#heatmaps img.thumb')).toBeGreaterThan(0);
    expect(await card.locator('.status').textContent()).toBe('completed');

    await card.locator('a').click();
    await page.waitForURL(`${origin}/heatmaps/${heatmap.shortId}`);
    expect(await imageLoaded(page, '#heatmap-image')).toBe(1024);
    expect(await page.locator('#heatmap-image').getAttribute('src')).toContain(`/saved/${heatmap.shortId}/overlay/?width=1024&type=click`);
    await page.selectOption('#width', '375');
    await poll(() => naturalWidth(page)).toBe(375);
    expect(await page.locator('#heatmap-image').getAttribute('src')).toContain('width=375');
    await page.selectOption('#width', '1024');
    await poll(() => naturalWidth(page)).toBe(1024);
    for (const type of ['rageclick', 'mousemove', 'scrolldepth']) {
      await page.selectOption('#type', type);
      expect(await page.locator('#heatmap-image').getAttribute('src')).toContain(`type=${type}`);
      expect(await imageLoaded(page, '#heatmap-image')).toBe(1024);
    }
    await page.selectOption('#type', 'click');
    await page.selectOption('#date_from', '-30d');
    expect(await page.locator('#heatmap-image').getAttribute('src')).toContain('date_from=-30d');
    await page.uncheck('#show-overlay');
    expect(await page.locator('#heatmap-image').getAttribute('src')).toContain(`/heatmap_screenshots/${heatmap.id}/content/?width=1024`);
    await page.check('#show-overlay');

    await page.click('#export-png');
    const link = page.locator('#export-link');
    await poll(async () => (await link.count()) || (await page.locator('#message').textContent())).toBe(1);
    const download = await page.request.get(`${origin}${await link.getAttribute('href')}`);
    expect(download.status()).toBe(200);
    expect(download.headers()['content-type']).toBe('image/png');

    // Another team's heatmap: the page opens, the API says it is not there.
    await page.goto(`${origin}/heatmaps/${otherHeatmap.shortId}`);
    await poll(() => page.locator('#message').textContent()).toBe('Not found.');
    expect(await page.locator('#heatmap-image').isHidden()).toBe(true);
  }, 180_000);

  it('lists the exports with working download links, and only the user’s own', async () => {
    ok(await stranger.call('POST', `/api/projects/${stranger.teamId}/exports/`, { export_format: 'image/png', export_context: { heatmap_url: OTHER_PAGE } }), 201);
    await page.goto(`${origin}/exports`);
    const rows = page.locator('#exports tbody tr[data-export-id]');
    await poll(() => rows.count()).toBe(1);
    const href = await rows.first().getByRole('link', { name: /^Download / }).getAttribute('href');
    const [download] = await Promise.all([page.waitForEvent('download'), rows.first().getByRole('link', { name: /^Download / }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.png$/);
    expect((await page.request.get(`${origin}${href}`)).status()).toBe(200);
  }, 180_000);

  it('lists recordings, narrows them with the filters, plays, shares and exports one', async () => {
    await worker.stop();
    await page.goto(`${origin}/replay`);
    const rows = page.locator('#recordings tbody tr[data-session-id]');
    await poll(() => rows.count()).toBe(2);
    expect(await page.locator('#recordings').textContent()).not.toContain(OTHER_PAGE);

    await page.fill('#url', 'checkout');
    await page.click('#replay-filters button[type=submit]');
    await page.waitForURL(/url=checkout/);
    await poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-session-id')).toBe('rec-checkout');

    await page.goto(`${origin}/replay?min_duration=100`);
    await poll(() => page.locator('#message').textContent()).toBe('1 recording.');
    expect(await rows.first().getAttribute('data-session-id')).toBe('rec-checkout');
    await page.goto(`${origin}/replay?console_errors=1`);
    await poll(() => page.locator('#message').textContent()).toBe('1 recording.');
    expect(await rows.first().getAttribute('data-session-id')).toBe('rec-checkout');
    await page.goto(`${origin}/replay?url=nowhere`);
    await poll(() => page.locator('#recordings tbody').textContent()).toBe('No recordings match these filters.');

    await page.goto(`${origin}/replay`);
    await poll(() => rows.count()).toBe(2);
    const pricing = page.locator('tr[data-session-id="rec-pricing"]');
    await pricing.getByRole('button', { name: 'Share recording rec-pricing' }).click();
    const shared = await page.locator('#shared-link').getAttribute('href');
    expect(shared).toMatch(new RegExp(`^${origin}/shared/`));
    expect(ok(await owner.call('GET', `/api/projects/${owner.teamId}/session_recordings/rec-pricing/sharing/`)).enabled).toBe(true);
    expect((await page.request.get(shared!)).status()).toBe(200);

    await pricing.getByRole('button', { name: 'Export recording rec-pricing as video' }).click();
    await poll(() => page.locator('#message').textContent()).toMatch(/^Export \d+ of recording rec-pricing started/);
    const exports = ok(await owner.call('GET', `/api/projects/${owner.teamId}/exports/?session_recording_id=rec-pricing`));
    expect(exports.results.map((e: any) => e.export_format)).toEqual(['video/mp4']);

    const play = pricing.getByRole('link', { name: 'Play recording rec-pricing' });
    expect(await play.getAttribute('href')).toBe(`/project/${owner.teamId}/replay/rec-pricing`);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/project/${owner.teamId}/replay/rec-pricing`)), play.click()]);
    expect(response.status()).toBe(200);
  }, 180_000);

  it('creates a subscription for a heatmap and one for a recordings query, and lists only the project’s', async () => {
    await page.goto(`${origin}/subscriptions`);
    await poll(() => page.locator('#subscriptions tbody').textContent()).toBe('No subscriptions yet.');
    await poll(() => page.locator('#saved_heatmap option').count()).toBe(1);

    await page.fill('#title', 'Weekly pricing heatmap');
    await page.fill('#target_value', 'me@example.com');
    await page.click('#subscription-form button[type=submit]');
    await poll(() => page.locator('#subscriptions tbody tr[data-subscription-id]').count()).toBe(1);

    await page.fill('#title', 'Checkout recordings');
    await page.check('input[name=resource][value=recordings]');
    await page.fill('#recordings_url', 'checkout');
    await page.selectOption('#frequency', 'daily');
    await page.fill('#target_value', 'me@example.com');
    await page.click('#subscription-form button[type=submit]');
    await poll(() => page.locator('#subscriptions tbody tr[data-subscription-id]').count()).toBe(2);
    expect(await page.locator('#subscriptions').textContent()).not.toContain('Secret report');
    expect(await page.getByRole('link', { name: 'Heatmap: Pricing page' }).getAttribute('href')).toBe(`/heatmaps/${heatmap.shortId}`);
    expect(await page.getByRole('link', { name: 'Recordings visiting “checkout”' }).getAttribute('href')).toBe('/replay?date_from=-7d&url=checkout');

    const { results } = ok(await owner.call('GET', `/api/projects/${owner.teamId}/subscriptions/`));
    const byTitle = Object.fromEntries(results.map((s: any) => [s.title, s]));
    expect(byTitle['Weekly pricing heatmap']).toMatchObject({ saved_heatmap: heatmap.shortId, target_type: 'email', target_value: 'me@example.com', frequency: 'weekly' });
    expect(byTitle['Checkout recordings']).toMatchObject({
      resource_type: 'recordings',
      frequency: 'daily',
      recordings_query: { date_from: '-7d', having_predicates: [{ type: 'recording', key: 'visited_page', operator: 'icontains', value: 'checkout' }] },
    });
  });

  it('renders a heatmap’s screenshots again on request', async () => {
    // The worker is stopped: the render stays queued and the page shows the heatmap as processing.
    await page.goto(`${origin}/heatmaps/${heatmap.shortId}`);
    await imageLoaded(page, '#heatmap-image');
    await page.click('#regenerate');
    await poll(() => page.locator('#heatmap-status').textContent()).toBe('processing');
    expect(ok(await owner.call('GET', `/api/projects/${owner.teamId}/saved/${heatmap.shortId}/`)).status).toBe('processing');
    expect(await page.locator('#message').textContent()).toBe('Rendering the screenshots again…');
  });

  it('signs out', async () => {
    await page.goto(`${origin}/exports`);
    await page.click('#sign-out');
    await page.waitForURL(`${origin}/login`);
    await page.goto(`${origin}/exports`);
    await page.waitForURL(`${origin}/login?next=%2Fexports`);
  });
});

describe("Burrow's pages under the base path '/burrow' (beside the PostHog web app)", { timeout: 180_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let origin: string;

  beforeAll(async () => {
    // A PostHog frontend configured (the web app tests' stand-in bundle) moves Burrow's pages under /burrow.
    ctx = await createTestContext({ POSTHOG_FRONTEND_DIR: fileURLToPath(new URL('../webapp/fake-bundle', import.meta.url)) });
    owner = await factories(ctx).tenant();
    await insertRecording(ctx.database, owner.teamId, { id: 'rec-base', minutesAgo: 5, seconds: 90, url: 'https://shop.example.com/' });
    origin = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  }, 180_000);
  afterAll(() => ctx?.close());

  it('serves every page, asset and link under the base path, and leaves the root to the PostHog web app', async () => {
    const response = await ctx.app.inject({ url: '/burrow/replay', headers: { accept: HTML } });
    expect(response.headers.location).toBe(`/burrow/login?next=${encodeURIComponent('/burrow/replay')}`);
    // The root paths are the PostHog web app's.
    expect((await ctx.app.inject({ url: '/heatmaps', headers: { accept: HTML } })).headers.location).toBe('/login?next=/heatmaps');
    expect((await ctx.app.inject({ url: '/login', headers: { accept: HTML } })).body).toContain('POSTHOG_APP_CONTEXT');

    const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    await signInWithKeyboard(page, origin, '/burrow/replay', owner.user.email);
    await page.waitForURL(`${origin}/burrow/replay`);
    await poll(() => page.locator('#recordings tbody tr[data-session-id]').count()).toBe(1);
    const play = await page.getByRole('link', { name: 'Play recording rec-base' }).getAttribute('href');
    expect(play).toBe(`/burrow/project/${owner.teamId}/replay/rec-base`);
    const links = await page.locator('nav a, header a.brand').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links.filter((href) => href !== '/docs').every((href) => href!.startsWith('/burrow/'))).toBe(true);
    const assets = await page.locator('link[rel=stylesheet], script[src]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('href') ?? n.getAttribute('src')));
    expect(assets.every((url) => url!.startsWith('/burrow/web-assets/'))).toBe(true);
    // Nothing is wider than the 375-px screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.goto(`${origin}/burrow/`);
    await poll(() => page.locator('#project-id').textContent()).toBe(String(owner.teamId));
    // The signed-in player moved under the base path with the pages.
    expect((await page.goto(`${origin}${play}`))!.status()).toBe(200);
    await context.close();
  }, 180_000);
});
