import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../../src/browser/chromium.js';
import { loadConfig } from '../../../src/config.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { nextUuid } from '../recordings/fixtures.js';

/**
 * PostHog's web app served by Burrow (POSTHOG_FRONTEND_DIR / POSTHOG_FRONTEND_URL), with a small fake bundle
 * (fake-bundle/: an index.html written as PostHog's build leaves it, a Django template, and an app script that reads
 * POSTHOG_APP_CONTEXT and calls the API as the app does, with the CSRF cookie) in real Chromium, on the real app
 * listening on a port.
 */

const BUNDLE = path.join(import.meta.dirname, 'fake-bundle');

function launchChromium(): Promise<Browser> {
  const location = findChromium();
  if (!location.found) throw new Error(location.problem);
  return chromium.launch({ executablePath: location.path, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

interface FakeApp {
  context: Record<string, any>;
  preflight: { status: number; body: Record<string, any> };
  me: { status: number; body: Record<string, any> } | null;
}

// Real Chromium and a second database on a shared, loaded machine: generous timeouts.
describe('the PostHog web app from POSTHOG_FRONTEND_DIR', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let host: string;
  let browser: Browser;
  let dir: string;
  let outside: string;

  beforeAll(async () => {
    // A copy of the bundle, with a file beside it and a symlink out of it that /static/ must never serve.
    outside = mkdtempSync(path.join(os.tmpdir(), 'burrow-webapp-'));
    dir = path.join(outside, 'dist');
    cpSync(BUNDLE, dir, { recursive: true });
    writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'static', 'leak.txt'));
    ctx = await createTestContext({ POSTHOG_FRONTEND_DIR: dir });
    owner = await factories(ctx).tenant();
    host = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
    rmSync(outside, { recursive: true, force: true });
  });

  async function open(pathname: string, tab?: Page): Promise<{ tab: Page; context: BrowserContext; app: FakeApp }> {
    const page = tab ?? (await (await browser.newContext()).newPage());
    await page.goto(`${host}${pathname}`);
    await page.waitForSelector('body[data-ready="yes"]', { timeout: 20_000 });
    const app = await page.evaluate(() => {
      const fake = (globalThis as unknown as { fakeApp: FakeApp }).fakeApp;
      return { context: fake.context, preflight: fake.preflight, me: fake.me };
    });
    return { tab: page, context: page.context(), app };
  }

  /** Logs in through the page as the app's login scene does: POST /api/login/ from the page, with the CSRF cookie. */
  async function signedIn(): Promise<Page> {
    const { tab } = await open('/login');
    const result = await tab.evaluate(
      ([email, password]) => (globalThis as unknown as { fakeApp: { login(e: string, p: string): Promise<{ status: number }> } }).fakeApp.login(email!, password!),
      [owner.user.email, STRONG_PASSWORD],
    );
    expect(result.status).toBe(200);
    return tab;
  }

  const call = (tab: Page, method: string, url: string, body?: unknown, options: { csrf?: boolean } = {}) =>
    tab.evaluate(
      ([m, u, b, o]) =>
        (globalThis as unknown as { fakeApp: { api(m: string, u: string, b: unknown, o: object): Promise<{ status: number; body: any }> } }).fakeApp.api(
          m as string,
          u as string,
          b,
          o as object,
        ),
      [method, url, body, options] as const,
    );

  it('answers the shell on /login for an anonymous visitor, with the context injected as PostHog renders it', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/login' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    // The Django template is rendered: no tag or comment is left, the head include carries the context.
    expect(response.body).not.toMatch(/\{[%#{]/);
    expect(response.body).toContain('id="posthog-app-user-preload"');
    expect(response.body).not.toContain('rel="preconnect"');
    expect(response.headers['set-cookie']).toEqual(expect.stringContaining('posthog_csrftoken='));

    const { app, context } = await open('/login');
    expect(app.context).toMatchObject({
      current_user: null,
      current_team: null,
      current_project: null,
      anonymous: true,
      switched_team: null,
      default_event_name: '$pageview',
      persisted_feature_flags: [],
      commit_sha: expect.any(String),
      preflight: { realm: 'hobby', cloud: false, available_social_auth_providers: {} },
    });
    expect(app.context.preflight.site_url).toBeUndefined();
    expect(app.preflight.status).toBe(200);
    expect(await context.pages()[0]!.evaluate('document.documentElement.dataset.tags')).toBe(`Hobby deployment / Commit: ${app.context.commit_sha}`);
    await context.close();
  });

  it('sends an anonymous visitor of any other page to /login?next=, as login_required does', async () => {
    for (const url of ['/', '/project/1/heatmaps', `/replay/abc?t=3`]) {
      const response = await ctx.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(302);
      expect(response.headers.location, url).toBe(`/login?next=${encodeURIComponent(url).replace(/%2F/g, '/')}`);
    }
  });

  it('logs in through the page with POST /api/login/, then every page carries the signed-in context', async () => {
    const tab = await signedIn();
    for (const pathname of ['/', `/project/${owner.teamId}/heatmaps`, `/project/${owner.teamId}/replay/some-session`, '/heatmaps', '/replay/home']) {
      const { app } = await open(pathname, tab);
      expect(app.context, pathname).toMatchObject({
        anonymous: false,
        current_user: { email: owner.user.email, uuid: owner.user.uuid, team: { id: owner.teamId } },
        current_team: { id: owner.teamId, api_token: expect.stringMatching(/^phc_/) },
        current_project: { id: owner.teamId },
        switched_team: null,
        frontend_apps: {},
        preflight: { realm: 'hobby', site_url: new URL(host).origin, instance_preferences: { debug_queries: false, disable_paid_fs: false } },
      });
      expect(Object.keys(app.context.preflight.available_timezones)).toContain('Europe/Paris');
      // The app's own call to users/@me answers the same user as the context.
      expect(app.me?.body).toMatchObject({ uuid: owner.user.uuid });
    }
    await tab.context().close();
  });

  it('switches the user to the project a /project/<id>/ page names, as PostHog’s middleware does', async () => {
    // Creating a project moves its creator to it, as in PostHog.
    const other = ok(await owner.call('POST', '/api/projects/', { name: 'Second' }), 201);
    const tab = await signedIn();
    const { app } = await open(`/project/${owner.teamId}/replay`, tab);
    expect(app.context).toMatchObject({ switched_team: other.id, current_team: { id: owner.teamId }, current_user: { team: { id: owner.teamId } } });
    expect((await open(`/project/${other.id}/`, tab)).app.context).toMatchObject({ switched_team: owner.teamId, current_team: { id: other.id } });
    // A project the user cannot reach switches nothing; nor does the current one.
    expect((await open('/project/999999/', tab)).app.context).toMatchObject({ switched_team: null, current_team: { id: other.id } });
    expect((await open(`/project/${owner.teamId}/`, tab)).app.context).toMatchObject({ switched_team: other.id, current_team: { id: owner.teamId } });
    expect((await open(`/project/${owner.teamId}/heatmaps`, tab)).app.context.switched_team).toBeNull();
    await tab.context().close();
  });

  it('lets the page write with the CSRF cookie echoed in X-CSRFToken, and refuses it without', async () => {
    const tab = await signedIn();
    expect((await call(tab, 'PATCH', `/api/projects/${owner.teamId}/`, { name: 'Renamed from the app' })).status).toBe(200);
    const refused = await call(tab, 'PATCH', `/api/projects/${owner.teamId}/`, { name: 'No token' }, { csrf: false });
    expect(refused).toEqual({ status: 403, body: expect.objectContaining({ detail: 'CSRF Failed: CSRF token missing.' }) });
    await tab.context().close();
  });

  it('answers the allow-listed calls with empty results in PostHog’s shapes, under both prefixes, and never a write', async () => {
    const tab = await signedIn();
    const empty = { count: 0, next: null, previous: null, results: [] };
    expect(await call(tab, 'GET', `/api/projects/${owner.teamId}/dashboards/`)).toEqual({ status: 200, body: empty });
    expect(await call(tab, 'GET', `/api/environments/${owner.teamId}/session_recording_playlists/`)).toEqual({ status: 200, body: empty });
    expect(await call(tab, 'GET', `/api/environments/@current/comments/count/`)).toEqual({ status: 200, body: { count: 0 } });
    expect(await call(tab, 'GET', `/api/projects/${owner.teamId}/data_color_themes/`)).toEqual({ status: 200, body: [] });
    expect(await call(tab, 'GET', '/api/user_home_settings/@me/')).toEqual({ status: 200, body: {} });
    expect(await call(tab, 'GET', '/api/users/@me/hedgehog_config/')).toEqual({ status: 200, body: {} });
    expect(await call(tab, 'GET', '/api/organizations/@current/members/')).toEqual({ status: 200, body: empty });
    expect((await call(tab, 'GET', '/api/billing/')).body).toMatchObject({ products: [], license: null });
    // Integrations are Burrow's own (not shadowed): a real, empty list of the project's integrations.
    expect((await call(tab, 'GET', `/api/projects/${owner.teamId}/integrations/`)).status).toBe(200);
    // Writes are not served: 405 with the CSRF token, as any path without the method.
    for (const url of [`/api/projects/${owner.teamId}/dashboards/`, `/api/environments/${owner.teamId}/notebooks/`, '/api/user_home_settings/@me/']) {
      const write = await call(tab, 'POST', url, { name: 'x' });
      expect(write.status, url).toBe(405);
    }
    expect((await call(tab, 'DELETE', `/api/projects/${owner.teamId}/dashboards/1/`)).status).toBe(404);
    // Authenticated as any other route: anonymous callers get 401, another organization's project 403/404.
    expect((await ctx.app.inject({ method: 'GET', url: `/api/projects/${owner.teamId}/dashboards/` })).statusCode).toBe(401);
    const stranger = await factories(ctx).tenant();
    expect((await stranger.call('GET', `/api/projects/${owner.teamId}/dashboards/`)).statusCode).toBe(403);
    expect((await stranger.call('GET', `/api/projects/${stranger.teamId}/dashboards/`)).statusCode).toBe(200);
    await tab.context().close();
  });

  it('serves /static/ from the directory with immutable caching for hashed names, and nothing outside it', async () => {
    const get = (url: string) => ctx.app.inject({ method: 'GET', url });
    const script = await get('/static/index-FAKE1234.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get('/static/index-FAKE1234.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await get('/static/icons/favicon-32x32.png?v=2023-07-07');
    expect([icon.statusCode, icon.headers['content-type']]).toEqual([200, 'image/png']);
    const manifest = await get('/static/site.webmanifest');
    expect(manifest.headers['content-type']).toBe('application/manifest+json; charset=utf-8');
    expect(manifest.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    // The player's own files still come first.
    expect((await get('/static/recording-player.js')).statusCode).toBe(200);
    for (const url of [
      '/static/..%2Fsecret.txt',
      '/static/%2e%2e/secret.txt',
      '/static/icons/..%2F..%2Fsecret.txt',
      '/static/icons/%2e%2e/%2e%2e/secret.txt',
      '/static/leak.txt',
      '/static/icons',
      '/static/nope.js',
      '/static/%00.js',
    ]) {
      const response = await get(url);
      // 404, or (when the router already resolved the dots out of the path) the login redirect of a page outside /static/.
      expect([302, 400, 404], url).toContain(response.statusCode);
      expect(response.body, url).not.toContain('secret');
    }
    expect((await get('/static/index-FAKE1234.js')).body).toContain('POSTHOG_APP_CONTEXT');
  });

  it('leaves the API, capture, Burrow’s own pages and other modules’ paths alone', async () => {
    for (const url of ['/api/nothing-here/', '/burrow/anything', '/shared/a/b', '/exporter/x/y', '/docs/nope/nope']) {
      const response = await ctx.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).toContain('application/json');
    }
    expect((await ctx.app.inject({ method: 'GET', url: '/_health' })).statusCode).toBe(200);
    // Burrow's signed-in player moved under /burrow; /project/.../replay/... is the app's.
    const session = await ctx.login(owner.user.email);
    const redirect = await ctx.app.inject({ method: 'GET', url: '/burrow/replay/s1?t=4', headers: { cookie: session.cookie } });
    expect(redirect.headers.location).toBe('/burrow/project/@current/replay/s1?t=4');
    expect((await ctx.app.inject({ method: 'GET', url: `/burrow/project/${owner.teamId}/replay/s1`, headers: { cookie: session.cookie } })).statusCode).toBe(404);
    const appPage = await ctx.app.inject({ method: 'GET', url: `/project/${owner.teamId}/replay/s1`, headers: { cookie: session.cookie } });
    expect(appPage.body).toContain('POSTHOG_APP_CONTEXT');
    // A recording's player_url is the app's own path, which the app now serves.
  });

  it('answers GET /_preflight/ with the fields the app reads', async () => {
    const anonymous = ok(await ctx.app.inject({ method: 'GET', url: '/_preflight/' }));
    expect(anonymous).toEqual({
      django: true,
      redis: true,
      plugins: true,
      celery: true,
      clickhouse: true,
      kafka: true,
      db: true,
      initiated: true,
      cloud: false,
      demo: false,
      realm: 'hobby',
      region: null,
      available_social_auth_providers: {},
      can_create_org: true,
      email_service_available: false,
      slack_service: { available: true, client_id: null },
      data_warehouse_integrations: { hubspot: { client_id: null }, salesforce: { client_id: null } },
      object_storage: true,
      public_egress_ip_addresses: [],
      is_debug: false,
    });
    const session = await ctx.login(owner.user.email);
    const signedIn = ok(await ctx.app.inject({ method: 'GET', url: '/_preflight', headers: { cookie: session.cookie } }));
    expect(signedIn).toMatchObject({ ...anonymous, opt_out_capture: false, licensed_users_available: null, openai_available: false, buffer_conversion_seconds: 60 });
    // SITE_URL, or without it the address the request came to.
    expect(signedIn.site_url).toBe('http://localhost');
  });

  describe('the scenes’ newer calls', () => {
    it('lists the file system by refs= and searches it by name: from the page', async () => {
      for (const [p, ref] of [
        ['Heatmaps/Pricing clicks', 'h1'],
        ['Heatmaps/Checkout', 'h2'],
        ['Replay/Pricing sessions', 'r1'],
      ] as const) {
        ok(await owner.call('POST', `/api/projects/${owner.teamId}/file_system/`, { path: p, type: 'heatmap', ref }), 201);
      }
      const tab = await signedIn();
      const byRefs = await call(tab, 'GET', `/api/projects/${owner.teamId}/file_system/?refs=h2,r1`);
      expect(byRefs.body.results.map((e: { path: string }) => e.path).sort()).toEqual(['Heatmaps/Checkout', 'Replay/Pricing sessions']);
      const search = await call(tab, 'GET', `/api/environments/${owner.teamId}/file_system/?search=${encodeURIComponent('name:pricing')}`);
      expect(search.body.results.map((e: { path: string }) => e.path).sort()).toEqual(['Heatmaps/Pricing clicks', 'Replay/Pricing sessions']);
      await tab.context().close();
    });

    it('lists subscriptions by resource and polls exports from the page', async () => {
      const tab = await signedIn();
      const subscriptions = await call(tab, 'GET', `/api/environments/${owner.teamId}/subscriptions/?resource_type=heatmap`);
      expect(subscriptions).toEqual({ status: 200, body: expect.objectContaining({ count: 0, results: [] }) });
      expect((await call(tab, 'GET', `/api/projects/${owner.teamId}/exports/`)).status).toBe(200);
      expect((await call(tab, 'GET', `/api/projects/${owner.teamId}/exports/999999/`)).status).toBe(404);
      await tab.context().close();
    });

    it('answers the legacy GET /api/heatmap/ in the current project, as …/heatmaps/', async () => {
      const token = await factories(ctx).projectToken(owner);
      const url = 'https://shop.example.com/pricing';
      const event = {
        uuid: nextUuid(),
        event: '$$heatmap',
        distinct_id: 'visitor-1',
        timestamp: new Date(Date.now() - 3600_000).toISOString(),
        properties: {
          $session_id: 'session-1',
          $viewport_width: 1280,
          $viewport_height: 800,
          $current_url: url,
          $heatmap_data: { [url]: [{ x: 640, y: 336, target_fixed: false, type: 'click' }, { x: 640, y: 336, target_fixed: false, type: 'click' }] },
        },
      };
      expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch: [event] } })).statusCode).toBe(200);
      const query = `?url_exact=${encodeURIComponent(url)}&type=click&date_from=-7d`;
      const legacy = ok(await owner.call('GET', `/api/heatmap/${query}`));
      expect(legacy.results).toEqual([{ count: 2, pointer_y: 336, pointer_relative_x: 0.5, pointer_target_fixed: false }]);
      expect(legacy).toEqual(ok(await owner.call('GET', `/api/projects/${owner.teamId}/heatmaps/${query}`)));
      // From the page, with the session, as the app's heatmaps scene calls it.
      const tab = await signedIn();
      expect((await call(tab, 'GET', `/api/heatmap/${query}`)).body).toEqual(legacy);
      await tab.context().close();
      // A key restricted to another project than the current one is refused, as for the project path.
      const scoped = await factories(ctx).key(owner.user, ['heatmap:read'], { teams: [owner.teamId] });
      expect((await scoped.call('GET', `/api/heatmap/${query}`)).statusCode).toBe(200);
      ok(await owner.call('POST', '/api/projects/', { name: 'Now current' }), 201);
      expect((await scoped.call('GET', `/api/heatmap/${query}`)).statusCode).toBe(403);
      expect(ok(await owner.call('GET', `/api/heatmap/${query}`)).results).toEqual([]);
    });
  });
});

describe('the PostHog web app from POSTHOG_FRONTEND_URL (a Vite dev server)', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let host: string;
  let devServer: Server;
  let devUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    // What the dev server answers that PostHog's DEBUG page loads: the React refresh runtime, Vite's client and
    // src/index.tsx (here the fake app, as a module).
    const app = (await import('node:fs')).readFileSync(path.join(BUNDLE, 'static', 'index-FAKE1234.js'), 'utf8');
    const modules: Record<string, string> = {
      '/@react-refresh': 'export default { injectIntoGlobalHook() { window.refreshInjected = true } }',
      '/@vite/client': 'window.viteClient = true',
      '/src/index.tsx': app,
    };
    devServer = createServer((request, response) => {
      const body = modules[request.url ?? ''];
      response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' });
      response.end(body ?? '');
    });
    await new Promise<void>((resolve) => devServer.listen(0, '127.0.0.1', resolve));
    devUrl = `http://127.0.0.1:${(devServer.address() as AddressInfo).port}`;
    ctx = await createTestContext({ POSTHOG_FRONTEND_URL: devUrl, SITE_URL: 'https://burrow.example.com', EMAIL_HOST: 'smtp.example.com' });
    owner = await factories(ctx).tenant();
    host = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
    await new Promise((resolve) => devServer?.close(resolve));
  });

  it('loads the dev server’s app into the shell, with JS_URL pointing at it, and sends /static/ there', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    const session = await ctx.login(owner.user.email);
    const cookies = session.cookie.split('; ').map((pair) => {
      const [name, value] = pair.split('=') as [string, string];
      return { name, value, url: host };
    });
    await context.addCookies(cookies);
    await tab.goto(`${host}/project/${owner.teamId}/heatmaps`);
    await tab.waitForSelector('body[data-ready="yes"]', { timeout: 20_000 });
    const state = (await tab.evaluate(
      "({ context: fakeApp.context, jsUrl: JS_URL, refresh: window.refreshInjected, vite: window.viteClient, text: document.getElementById('root').textContent })",
    )) as { context: Record<string, any>; jsUrl: string; refresh: boolean; vite: boolean; text: string };
    expect(state).toMatchObject({ jsUrl: devUrl, refresh: true, vite: true, text: `Hello ${owner.user.email} in Default project` });
    expect(state.context.preflight).toMatchObject({ site_url: 'https://burrow.example.com', email_service_available: true });
    await context.close();

    const asset = await ctx.app.inject({ method: 'GET', url: '/static/icons/favicon-32x32.png' });
    expect([asset.statusCode, asset.headers.location]).toEqual([302, `${devUrl}/static/icons/favicon-32x32.png`]);
  });

  it('serves /_preflight/ without a frontend too, and refuses both settings at once', async () => {
    const plain = await createTestContext({ EMAIL_HOST: 'smtp.example.com' });
    try {
      expect(ok(await plain.app.inject({ method: 'GET', url: '/_preflight/' }))).toMatchObject({ realm: 'hobby', email_service_available: true });
      // Without a frontend, / and /login are Burrow's own pages (modules/web) and the signed-in player is at the root.
      expect((await plain.app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })).headers.location).toBe('/login?next=%2F');
      expect((await plain.app.inject({ method: 'GET', url: '/login', headers: { accept: 'text/html' } })).body).not.toContain('POSTHOG_APP_CONTEXT');
      expect((await plain.app.inject({ method: 'GET', url: '/replay/s1' })).headers.location).toBe('/project/@current/replay/s1');
    } finally {
      await plain.close();
    }
    expect(() => loadConfig({ POSTHOG_FRONTEND_URL: 'http://localhost:8234', POSTHOG_FRONTEND_DIR: BUNDLE })).toThrow(/not both/);
    expect(() => loadConfig({ POSTHOG_FRONTEND_DIR: '/nonexistent' })).toThrow(/POSTHOG_FRONTEND_DIR/);
    expect(() => loadConfig({ POSTHOG_FRONTEND_URL: 'localhost:8234' })).toThrow(/POSTHOG_FRONTEND_URL/);
  });
});
