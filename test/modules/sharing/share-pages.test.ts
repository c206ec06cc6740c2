import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, ok, sessionHeaders } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';
import { record } from '../recordings/fixtures.js';

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...BROWSER };

/** The JSON of one of a page's <script type="application/json" id=...> elements. */
function pageJson(html: string, id: string): Record<string, unknown> {
  const match = new RegExp(`<script type="application/json" id="${id}">(.*?)</script>`, 's').exec(html);
  if (!match) throw new Error(`no #${id} in the page`);
  return JSON.parse(match[1]!) as Record<string, unknown>;
}

const jwtPayload = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('share links: public pages, password unlock, organization policy, the signed-in player', () => {
  let ctx: TestContext;
  let make: Factories;
  let owner: Tenant;
  let projectToken: string;
  const start = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
  const sharing = (recording: string, path = '') => `/api/projects/${owner.teamId}/session_recordings/${recording}/sharing/${path}`;
  const recordingUrl = (recording: string, path = '') => `/api/projects/${owner.teamId}/session_recordings/${recording}/${path}`;
  const page = (path: string, headers: Record<string, string> = BROWSER) => ctx.app.inject({ method: 'GET', url: path, headers });
  const unlock = (token: string, password: string, headers: Record<string, string> = {}, prefix = '/shared') =>
    ctx.app.inject({ method: 'POST', url: `${prefix}/${token}`, headers, payload: headers['content-type']?.includes('form') ? `password=${encodeURIComponent(password)}` : { password } });

  /** A recording shared with `changes`; answers its link's access token. */
  async function share(sessionId: string, changes: object): Promise<string> {
    await record(ctx, projectToken, { sessionId, distinctId: 'visitor', start, durationSeconds: 30, url: 'https://shop.example.com/' });
    return ok(await owner.call('PATCH', sharing(sessionId), { enabled: true, ...changes })).access_token as string;
  }

  beforeAll(async () => {
    ctx = await createTestContext({}, { captureLogs: true });
    make = factories(ctx);
    owner = await make.tenant();
    projectToken = await make.projectToken(owner);
  });
  afterAll(() => ctx.close());

  describe('public pages', () => {
    it('serve the player with a strict CSP, the exported_data shape in .json, and a 404 page for a link that does not open', async () => {
      const token = await share('page-1', { settings: { showInspector: true, noHeader: false, theme: 'dark' } });
      const full = await page(`/shared/${token}`);
      expect(full.statusCode).toBe(200);
      expect(full.headers['content-type']).toMatch(/^text\/html/);
      const csp = String(full.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('https:');
      const data = pageJson(full.body, 'share-data');
      expect(data).toMatchObject({ type: 'scene', accessToken: token, showInspector: true, theme: 'dark', recording: { id: 'page-1', recording_duration: 30 } });
      expect(data).not.toHaveProperty('noHeader');
      expect(pageJson(full.body, 'player-source')).toEqual({
        snapshotsUrl: `/api/projects/${owner.teamId}/session_recordings/page-1/snapshots/?sharing_access_token=${token}`,
        credentials: 'omit',
      });

      const embedded = await page(`/embedded/${token}`);
      expect(embedded.headers['content-security-policy']).toContain('frame-ancestors *');
      expect(pageJson(embedded.body, 'share-data')).toMatchObject({ type: 'embed' });
      expect(ok(await page(`/shared/${token}.json`, {}))).toEqual({ type: 'scene', accessToken: token, showInspector: true, theme: 'dark', recording: data.recording });

      const missing = await page('/shared/no-such-token');
      expect(missing.statusCode).toBe(404);
      expect(missing.body).toContain('<h1>Not found</h1>');
      expect((await page('/shared/no-such-token.json', {})).statusCode).toBe(404);
    });

    it('let the viewer’s browser load the recorded page’s assets only when the project opts in', async () => {
      const token = await share('page-assets', {});
      const project = ok(await owner.call('GET', `/api/projects/${owner.teamId}/`));
      expect(project.session_recording_remote_assets_opt_in).toBe(false);
      ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { session_recording_remote_assets_opt_in: true }));
      const csp = String((await page(`/shared/${token}`)).headers['content-security-policy']);
      expect(csp).toContain("img-src 'self' data: blob: https:");
      expect(csp).toContain("font-src 'self' data: https:");
      expect(csp).toContain("script-src 'self';");
      ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { session_recording_remote_assets_opt_in: false }));
      expect(String((await page(`/shared/${token}`)).headers['content-security-policy'])).not.toContain('https:');
    });
  });

  describe('password-protected links', () => {
    let token: string;
    let password: string;

    beforeAll(async () => {
      token = await share('locked-1', { password_required: true });
      password = ok(await owner.call('POST', sharing('locked-1', 'passwords/'), { raw_password: 'open sesame 1' }), 201).password as string;
      await share('open-1', {});
    });

    it('show the unlock form until unlocked, and refuse a wrong password with 401 and a log line', async () => {
      const locked = await page(`/shared/${token}`);
      expect(locked.statusCode).toBe(200);
      expect(locked.body).toContain('<form method="post">');
      expect(locked.body).not.toContain('share-data');
      const plain = (response: { statusCode: number; json: () => unknown }) => [response.statusCode, response.json()];
      expect(plain(await page(`/shared/${token}.json`, {}))).toEqual([401, { error: 'Password required' }]);
      expect(plain(await unlock(token, 'wrong password'))).toEqual([401, { error: 'Incorrect password' }]);
      expect(plain(await unlock(token, ''))).toEqual([401, { error: 'Incorrect password' }]);
      expect(ctx.logs!.lines.filter((line) => line.msg === 'share password attempt failed' && line.recording_id === 'locked-1')).toHaveLength(2);
      expect((await unlock('no-such-token', password)).statusCode).toBe(404);
    });

    it('unlock with a right password: a 24-hour JWT, also as an HttpOnly cookie of the link’s path, which opens the page', async () => {
      const unlocked = await unlock(token, password);
      expect(unlocked.statusCode).toBe(200);
      const { shareToken } = unlocked.json() as { shareToken: string };
      const claims = jwtPayload(shareToken);
      expect(claims).toMatchObject({ team_id: owner.teamId, access_token: token, aud: 'posthog:sharing_password_protected' });
      expect(Number(claims.exp) - Date.now() / 1000).toBeGreaterThan(24 * 3600 - 60);
      const cookie = String(unlocked.headers['set-cookie']);
      expect(cookie).toContain(`posthog_sharing_token=${shareToken}`);
      expect(cookie).toMatch(/Max-Age=86400/);
      expect(cookie).toContain(`Path=/shared/${token}`);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
      expect(ctx.logs!.lines.some((line) => line.msg === 'share password accepted' && line.recording_id === 'locked-1')).toBe(true);

      const opened = await page(`/shared/${token}`, { ...BROWSER, cookie: `posthog_sharing_token=${shareToken}` });
      expect(pageJson(opened.body, 'share-data')).toMatchObject({ type: 'scene', accessToken: token, shareToken, recording: { id: 'locked-1' } });
      expect(pageJson(opened.body, 'player-source')).toEqual({
        snapshotsUrl: `/api/projects/${owner.teamId}/session_recordings/locked-1/snapshots/`,
        authorization: `Bearer ${shareToken}`,
        credentials: 'omit',
      });
      expect(ok(await page(`/shared/${token}.json`, { authorization: `Bearer ${shareToken}` }))).toMatchObject({ shareToken, recording: { id: 'locked-1' } });
    });

    it('unlock from the page’s form: a redirect back with the cookie, or the form again with the error', async () => {
      const wrong = await unlock(token, 'nope', FORM);
      expect(wrong.statusCode).toBe(401);
      expect(wrong.body).toContain('Incorrect password');
      const right = await unlock(token, password, FORM, '/embedded');
      expect(right.statusCode).toBe(303);
      expect(right.headers.location).toBe(`/embedded/${token}`);
      expect(String(right.headers['set-cookie'])).toContain(`Path=/embedded/${token}`);
    });

    it('let the JWT GET that recording and its snapshots, and nothing else', async () => {
      const { shareToken } = (await unlock(token, password)).json() as { shareToken: string };
      const asJwt = (url: string, method: 'GET' | 'PATCH' = 'GET') => ctx.app.inject({ method, url, headers: { authorization: `Bearer ${shareToken}` } });
      expect(ok(await asJwt(recordingUrl('locked-1')))).toMatchObject({ id: 'locked-1', recording_duration: 30 });
      expect(ok(await asJwt(recordingUrl('locked-1', 'snapshots/'))).sources).toHaveLength(1);
      expect((await asJwt(recordingUrl('locked-1', 'snapshots/?source=blob_v2&start_blob_key=0&end_blob_key=0'))).statusCode).toBe(200);
      expect((await asJwt(recordingUrl('open-1'))).statusCode).toBe(403);
      expect((await asJwt(`/api/projects/${owner.teamId}/session_recordings/`)).statusCode).toBe(401);
      expect((await asJwt(recordingUrl('locked-1'), 'PATCH')).statusCode).toBe(401);
      expect((await asJwt(sharing('locked-1'))).statusCode).toBe(401);

      // Tampered, for another link, or from a password since deleted: refused.
      const [header, body] = shareToken.split('.') as [string, string];
      const forged = Buffer.from(JSON.stringify({ ...jwtPayload(shareToken), team_id: owner.teamId + 1 })).toString('base64url');
      const foreign = `${header}.${body}.${createHmac('sha256', 'not the key').update(`${header}.${body}`).digest('base64url')}`;
      for (const bad of [`${header}.${forged}.${shareToken.split('.')[2]}`, foreign]) {
        expect((await ctx.app.inject({ method: 'GET', url: recordingUrl('locked-1'), headers: { authorization: `Bearer ${bad}` } })).statusCode).toBe(401);
        expect((await page(`/shared/${token}`, { ...BROWSER, cookie: `posthog_sharing_token=${bad}` })).body).toContain('<form method="post">');
      }
      const [{ id }] = ok(await owner.call('GET', sharing('locked-1'))).share_passwords as [{ id: number }];
      expect((await owner.call('DELETE', sharing('locked-1', `passwords/${id}/`))).statusCode).toBe(204);
      expect((await asJwt(recordingUrl('locked-1'))).statusCode).toBe(401);
    });

    it('throttle password attempts per link and address', async () => {
      const throttled = await share('locked-2', { password_required: true });
      const statuses = [];
      for (let i = 0; i < 11; i++) statuses.push((await unlock(throttled, `guess ${i}`)).statusCode);
      expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
      expect(statuses[10]).toBe(429);
    });
  });

  describe('an organization that disallows public sharing', () => {
    it('refuses to turn links on, and every existing link stops opening until it allows them again', async () => {
      const tenant = await make.tenant();
      const token = await (async () => {
        await record(ctx, await make.projectToken(tenant), { sessionId: 'policy-1', distinctId: 'v', start, durationSeconds: 10, url: 'https://shop.example.com/' });
        return ok(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/session_recordings/policy-1/sharing/`, { enabled: true })).access_token as string;
      })();
      const organization = `/api/organizations/${tenant.organizationId}/`;
      expect(ok(await tenant.call('GET', organization)).allow_publicly_shared_resources).toBe(true);
      expect(ok(await tenant.call('PATCH', organization, { allow_publicly_shared_resources: false })).allow_publicly_shared_resources).toBe(false);

      expectError(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/session_recordings/policy-1/sharing/`, { enabled: true }), 403, {
        type: 'authentication_error',
        code: 'permission_denied',
        detail: 'Public sharing is disabled for this organization.',
        attr: null,
      });
      expect((await page(`/shared/${token}`)).statusCode).toBe(404);
      const viaToken = () => ctx.app.inject({ method: 'GET', url: `/api/projects/${tenant.teamId}/session_recordings/policy-1/?sharing_access_token=${token}` });
      expect((await viaToken()).statusCode).toBe(401);

      ok(await tenant.call('PATCH', organization, { allow_publicly_shared_resources: true }));
      expect((await page(`/shared/${token}`)).statusCode).toBe(200);
      expect((await viaToken()).statusCode).toBe(200);
    });
  });

  describe('the player for signed-in users', () => {
    it('plays a recording of the user’s project at its player_url, with the session as the player’s credential', async () => {
      await record(ctx, projectToken, { sessionId: 'mine-1', distinctId: 'v', start, durationSeconds: 12, url: 'https://shop.example.com/' });
      const session = sessionHeaders(await ctx.login(owner.user.email));
      const { player_url: playerUrl } = ok(await owner.call('GET', recordingUrl('mine-1')));
      expect(playerUrl).toBe(`http://localhost:80/project/${owner.teamId}/replay/mine-1`);

      const player = await page(new URL(playerUrl as string).pathname, { ...BROWSER, cookie: session.cookie });
      expect(player.statusCode).toBe(200);
      expect(player.headers['content-security-policy']).toContain("script-src 'self'");
      expect(pageJson(player.body, 'share-data')).toMatchObject({ type: 'scene', recording: { id: 'mine-1', recording_duration: 12 } });
      expect(pageJson(player.body, 'share-data')).not.toHaveProperty('accessToken');
      expect(pageJson(player.body, 'player-source')).toEqual({ snapshotsUrl: recordingUrl('mine-1', 'snapshots/'), credentials: 'same-origin' });

      const redirect = await page('/replay/mine-1?t=5', { ...BROWSER, cookie: session.cookie });
      expect(redirect.statusCode).toBe(302);
      expect(redirect.headers.location).toBe('/project/@current/replay/mine-1?t=5');
      expect((await page('/project/@current/replay/mine-1?t=5', { ...BROWSER, cookie: session.cookie })).statusCode).toBe(200);
    });

    it('refuses keys, strangers and recordings that are not there', async () => {
      const path = `/project/${owner.teamId}/replay/mine-1`;
      expect((await page(path)).statusCode).toBe(401);
      expect((await page(path, { authorization: `Bearer ${owner.key}` })).statusCode).toBe(403);
      const stranger = await make.tenant();
      expect((await page(path, { cookie: sessionHeaders(await ctx.login(stranger.user.email)).cookie })).statusCode).toBe(403);
      const session = sessionHeaders(await ctx.login(owner.user.email));
      expect((await page(`/project/${owner.teamId}/replay/no-such-recording`, { cookie: session.cookie })).statusCode).toBe(404);
    });
  });
});
