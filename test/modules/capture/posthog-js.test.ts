import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { and, asc, eq } from 'drizzle-orm';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../../src/browser/chromium.js';
import { events, heatmapPoints, recordingBlocks, sessionRecordings } from '../../../src/db/schema/index.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { ROOT } from '../../helpers/process.js';

/**
 * posthog-js from npm, unchanged, in headless Chromium, on a page of another origin than Burrow's (so every request
 * is cross-origin, as on a customer's site), sending to a real Burrow server.
 */

const SDK = path.join(ROOT, 'node_modules/posthog-js/dist/array.full.js');

/**
 * A page with what PostHog's snippet does (written here, not copied): a queue standing in for posthog until
 * `<api_host>/static/array.js` has loaded, as a crossorigin="anonymous" script, and taken the queued init over.
 */
function snippetPage(token: string, apiHost: string): string {
  const init = [token, { api_host: apiHost, opt_out_useragent_filter: true, request_batching: false }];
  return `<!doctype html><html><head><title>Snippet</title>
<script>
  window.posthog = Object.assign([], { __SV: 1, people: [], _i: [${JSON.stringify(init)}] });
  const script = document.createElement('script');
  script.crossOrigin = 'anonymous';
  script.async = true;
  script.src = ${JSON.stringify(`${apiHost}/static/array.js`)};
  document.head.appendChild(script);
</script></head>
<body><button id="buy">Buy</button></body></html>`;
}

function page(token: string, apiHost: string, title: string, next?: string): string {
  return `<!doctype html><html><head><title>${title}</title>
<script src="/array.full.js"></script>
<script>
  posthog.init(${JSON.stringify(token)}, {
    api_host: ${JSON.stringify(apiHost)},
    opt_out_useragent_filter: true,
    capture_heatmaps: { flush_interval_milliseconds: 500 },
    request_batching: false,
  });
</script></head>
<body style="margin:0">
  <script>try { parent.document.body.dataset.compromised = 'yes'; } catch (error) {}</script>
  <button id="buy" style="position:absolute; left:100px; top:200px; width:120px; height:40px">Buy</button>
  <input id="email" style="position:absolute; left:100px; top:300px">
  ${next ? `<a id="next" href="${next}" style="position:absolute; left:100px; top:400px">Next</a>` : ''}
</body></html>`;
}

describe('posthog-js sending to Burrow', () => {
  let ctx: TestContext;
  let tenant: Tenant;
  let token: string;
  let site: http.Server;
  let siteOrigin: string;
  let browser: Browser;
  let apiHost: string;
  /** The session of the visit the first test records, which the second one plays. */
  let recordedSession: string | undefined;

  beforeAll(async () => {
    ctx = await createTestContext();
    const make = factories(ctx);
    tenant = await make.tenant();
    token = await make.projectToken(tenant);
    ok(
      await tenant.call('PATCH', `/api/projects/${tenant.teamId}/`, { heatmaps_opt_in: true, session_recording_opt_in: true, capture_console_log_opt_in: true }),
    );
    apiHost = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const sdk = await readFile(SDK);
    site = http.createServer((request, response) => {
      if (request.url === '/array.full.js') return response.writeHead(200, { 'content-type': 'application/javascript' }).end(sdk);
      if (request.url === '/snippet') return response.writeHead(200, { 'content-type': 'text/html' }).end(snippetPage(token, apiHost));
      const html = request.url === '/second' ? page(token, apiHost, 'Second', undefined) : page(token, apiHost, 'First', '/second');
      return response.writeHead(200, { 'content-type': 'text/html' }).end(html);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const location = findChromium();
    if (!location.found) throw new Error(location.problem);
    browser = await chromium.launch({ executablePath: location.path, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await ctx.close();
  });

  const stored = () => ctx.database.db.select().from(events).where(eq(events.teamId, tenant.teamId)).orderBy(asc(events.timestamp));

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('stores the pageviews, clicks, heatmap points and recording of a visit, in the visitor’s session, across a navigation', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const tab = await context.newPage();
    const consoleErrors: string[] = [];
    tab.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await tab.goto(`${siteOrigin}/`);
    await tab.waitForFunction(() => typeof (globalThis as unknown as { posthog?: { get_session_id?: unknown } }).posthog?.get_session_id === 'function');
    const sessionId = await tab.evaluate(() => (globalThis as unknown as { posthog: { get_session_id(): string } }).posthog.get_session_id());
    const distinctId = await tab.evaluate(() => (globalThis as unknown as { posthog: { get_distinct_id(): string } }).posthog.get_distinct_id());

    // Recording starts once the remote config has arrived; what happens before it is not recorded.
    await tab.waitForFunction(() => (globalThis as unknown as { posthog: { sessionRecordingStarted(): boolean } }).posthog.sessionRecordingStarted());
    await tab.evaluate(() => console.log('checking out'));
    await tab.click('#buy');
    await tab.fill('#email', 'visitor@example.com');
    // The recorder flushes its buffer every 2 s; wait for what happened to be stored before navigating.
    await waitFor('the recorded console log, click and typing', async () => {
      const [row] = await ctx.database.db
        .select()
        .from(sessionRecordings)
        .where(and(eq(sessionRecordings.teamId, tenant.teamId), eq(sessionRecordings.sessionId, sessionId)));
      return row && row.consoleLogCount >= 1 && row.clickCount >= 1 && row.keypressCount >= 1 ? row : undefined;
    });
    const click = await waitFor('a heatmap click', async () => {
      const points = await ctx.database.db.select().from(heatmapPoints).where(eq(heatmapPoints.teamId, tenant.teamId));
      return points.find((p) => p.type === 'click' && p.url === `${siteOrigin}/`);
    });
    await tab.click('#next');
    await tab.waitForURL(`${siteOrigin}/second`);
    const second = await waitFor('the second pageview', async () => {
      const views = (await stored()).filter((e) => e.event === '$pageview');
      return views.length >= 2 ? views : undefined;
    });
    await context.close();

    expect(second.map((e) => e.currentUrl)).toEqual([`${siteOrigin}/`, `${siteOrigin}/second`]);
    for (const view of second) expect(view).toMatchObject({ distinctId, sessionId });

    const clicks = (await stored()).filter((e) => e.event === '$autocapture' && (e.properties as { $event_type?: string }).$event_type === 'click');
    expect(clicks.length).toBeGreaterThanOrEqual(1);

    // The click on #buy (left 100, top 200, 120 x 40) is a heatmap point inside the button, with the viewport it was seen in.
    expect(click.x).toBeGreaterThanOrEqual(100);
    expect(click.x).toBeLessThanOrEqual(220);
    expect(click.y).toBeGreaterThanOrEqual(200);
    expect(click.y).toBeLessThanOrEqual(240);
    expect(click).toMatchObject({ viewportWidth: 1024, viewportHeight: 768, targetFixed: false, distinctId, sessionId });
    // The heatmap query API answers it on PostHog's 16-px grid, still within the button (x as a share of 1024 px).
    const heatmap = ok(await tenant.call('GET', `/api/projects/${tenant.teamId}/heatmaps/?${new URLSearchParams({ url_exact: `${siteOrigin}/`, type: 'click' })}`));
    const cells = heatmap.results as { pointer_relative_x: number; pointer_y: number; count: number }[];
    const inButton = (cell: (typeof cells)[number]) =>
      cell.pointer_relative_x * 1024 >= 100 - 8 && cell.pointer_relative_x * 1024 <= 220 + 8 && cell.pointer_y >= 200 - 8 && cell.pointer_y <= 240 + 8;
    expect(cells.filter(inButton).map((cell) => cell.count)).toEqual([1]);
    expect(consoleErrors.filter((text) => /posthog|127\.0\.0\.1/i.test(text))).toEqual([]);

    // The same visit was recorded: rrweb's full snapshot and the page's Meta event, the click, the typing.
    const [recorded] = await ctx.database.db
      .select()
      .from(sessionRecordings)
      .where(and(eq(sessionRecordings.teamId, tenant.teamId), eq(sessionRecordings.sessionId, sessionId)));
    expect(recorded).toMatchObject({ distinctId, firstUrl: `${siteOrigin}/`, snapshotSource: 'web', snapshotLibrary: 'web' });
    expect(recorded!.consoleLogCount).toBeGreaterThanOrEqual(1);
    // The recorder may still deliver the batch it sent as the page closed: read the blocks once they stop changing.
    let seen = -1;
    await waitFor('the recording to stop growing', async () => {
      const count = (await ctx.database.db.select({ id: recordingBlocks.id }).from(recordingBlocks).where(eq(recordingBlocks.sessionId, sessionId))).length;
      if (count === seen) return true;
      seen = count;
      await new Promise((r) => setTimeout(r, 1500));
      return undefined;
    });
    const blocks = await ctx.database.db
      .select()
      .from(recordingBlocks)
      .where(eq(recordingBlocks.sessionId, sessionId))
      .orderBy(asc(recordingBlocks.firstTimestamp), asc(recordingBlocks.id));
    const contents = await Promise.all(blocks.map(async (block) => gunzipSync((await ctx.services.blobs.get(block.blobKey))!).toString('utf8')));
    const replayed = contents.flatMap((content) => content.split('\n').map((line) => JSON.parse(line) as [string, { type: number; data: { href?: string } }]));
    expect(replayed.some(([, event]) => event.type === 4 && event.data.href === `${siteOrigin}/`)).toBe(true);
    expect(replayed.some(([, event]) => event.type === 2)).toBe(true);

    // The recordings API serves the visit as the PostHog web app and player read it.
    const api = `/api/projects/${tenant.teamId}/session_recordings/`;
    const listed = ok(await tenant.call('GET', `${api}?session_ids=${encodeURIComponent(JSON.stringify([sessionId]))}`));
    expect(listed.results).toHaveLength(1);
    expect(listed.results[0]).toMatchObject({ id: sessionId, distinct_id: distinctId, start_url: `${siteOrigin}/`, snapshot_source: 'web' });
    expect(listed.results[0].click_count).toBeGreaterThanOrEqual(1);
    expect(listed.results[0].keypress_count).toBeGreaterThanOrEqual(1);
    const { sources } = ok(await tenant.call('GET', `${api}${sessionId}/snapshots/`));
    expect(sources.length).toBe(blocks.length);
    const served = await tenant.call('GET', `${api}${sessionId}/snapshots/?source=blob_v2&start_blob_key=0&end_blob_key=${sources.length - 1}`);
    expect(served.body.split('\n').map((line) => JSON.parse(line))).toEqual(replayed);
    recordedSession = sessionId;
  });

  it('serves posthog-js to PostHog’s snippet: array.js from api_host, then the recorder it loads beside it', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const tab = await context.newPage();
    const fromBurrow: { url: string; status: number; allowOrigin: string | undefined }[] = [];
    tab.on('response', (response) => {
      if (response.url().startsWith(`${apiHost}/static/`)) fromBurrow.push({ url: response.url(), status: response.status(), allowOrigin: response.headers()['access-control-allow-origin'] });
    });
    await tab.goto(`${siteOrigin}/snippet`);
    await tab.waitForFunction(() => (globalThis as unknown as { posthog: { __loaded?: boolean } }).posthog.__loaded === true);
    await tab.waitForFunction(() => (globalThis as unknown as { posthog: { sessionRecordingStarted(): boolean } }).posthog.sessionRecordingStarted());
    const sessionId = await tab.evaluate(() => (globalThis as unknown as { posthog: { get_session_id(): string } }).posthog.get_session_id());
    await tab.click('#buy');
    await waitFor('the snippet page’s pageview', async () => (await stored()).find((e) => e.event === '$pageview' && e.currentUrl === `${siteOrigin}/snippet`));
    await waitFor('its recording', async () => (await ctx.database.db.select({ id: recordingBlocks.id }).from(recordingBlocks).where(eq(recordingBlocks.sessionId, sessionId)))[0]);
    await context.close();

    // The recorder's file name changes between posthog-js versions (recorder.js, posthog-recorder.js, lazy-recorder.js).
    const paths = fromBurrow.map(({ url }) => new URL(url).pathname);
    expect(paths[0]).toBe('/static/array.js');
    expect(paths.filter((path) => /^\/static\/[a-z-]*recorder\.js$/.test(path))).toHaveLength(1);
    for (const served of fromBurrow) expect(served).toMatchObject({ status: 200, allowOrigin: '*' });
    // The SDK's own files only: anything else under /static/ is still a 404.
    expect((await fetch(`${apiHost}/static/package.json`)).status).toBe(404);
    expect((await fetch(`${apiHost}/static/..%2Fpackage.json`)).status).toBe(404);
  });

  it('plays the recording on its share page, the recorded page as data: its text is shown, its scripts never run', async () => {
    expect(recordedSession, 'the visit recorded by the first test').toBeDefined();
    const sharing = `/api/projects/${tenant.teamId}/session_recordings/${recordedSession}/sharing/`;
    const { access_token: accessToken } = ok(await tenant.call('PATCH', sharing, { enabled: true, settings: { noHeader: true } }));
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const tab = await context.newPage();
    const requested: string[] = [];
    tab.on('request', (request) => requested.push(request.url()));
    const response = await tab.goto(`${apiHost}/shared/${accessToken}`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await tab.waitForSelector('body[data-state="playing"]', { timeout: 20_000 });
    const replay = tab.frameLocator('.replayer-wrapper iframe');
    await replay.locator('#buy').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await replay.locator('#buy').textContent()).toBe('Buy');
    await tab.screenshot({ path: path.join(ROOT, 'test-results', 'shared-recording-player.png') });
    expect(await tab.locator('body').getAttribute('data-compromised')).toBeNull();
    expect(await tab.locator('header').count()).toBe(0);
    // Nothing was fetched from the recorded site: the page is replayed from the snapshots alone.
    expect(requested.filter((url) => url.startsWith(siteOrigin))).toEqual([]);
    await context.close();

    const embedded = await fetch(`${apiHost}/embedded/${accessToken}.json`);
    expect(await embedded.json()).toMatchObject({ type: 'embed', accessToken, recording: { id: recordedSession }, noHeader: true });
    expect((await fetch(`${apiHost}/shared/not-a-token`)).status).toBe(404);
  });
});
