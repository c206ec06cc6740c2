import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personalApiKeys, sessions, users } from '../../../src/db/schema/index.js';
import { bearer, createTestContext, STRONG_PASSWORD, type TestAccount, type TestContext } from '../../helpers/context.js';

const denied = (detail: string) => ({ type: 'authentication_error', code: 'permission_denied', detail, attr: null });
const failed = (detail: string) => ({ type: 'authentication_error', code: 'authentication_failed', detail, attr: null });

describe('authentication', () => {
  let ctx: TestContext;
  let account: TestAccount;
  let key: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    account = await ctx.newAccount();
    key = await ctx.newKey(account.user);
  });
  afterAll(() => ctx.close());

  describe('personal API keys', () => {
    it('refuses a request without credentials with 401 not_authenticated and a WWW-Authenticate header', async () => {
      const response = await ctx.app.inject({ url: '/api/projects/@current/' });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json()).toEqual({
        type: 'authentication_error',
        code: 'not_authenticated',
        detail: 'Authentication credentials were not provided.',
        attr: null,
      });
    });

    it('accepts the key from the Bearer header, surrounding whitespace included', async () => {
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: { authorization: `Bearer  ${key}  ` } })).statusCode).toBe(200);
    });

    it('matches "Bearer" case-sensitively, as PostHog', async () => {
      const response = await ctx.app.inject({ url: '/api/users/@me/', headers: { authorization: `bearer ${key}` } });
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('not_authenticated');
    });

    it('accepts the key from a JSON body, a form body and the query string', async () => {
      const json = await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', payload: { personal_api_key: key, first_name: 'Json' } });
      expect(json.statusCode).toBe(200);
      expect(json.json().first_name).toBe('Json');
      const form = await ctx.app.inject({
        method: 'PATCH',
        url: '/api/users/@me/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `personal_api_key=${encodeURIComponent(key)}&first_name=Form`,
      });
      expect(form.statusCode).toBe(200);
      expect(form.json().first_name).toBe('Form');
      expect((await ctx.app.inject({ url: `/api/users/@me/?personal_api_key=${key}` })).statusCode).toBe(200);
    });

    it('names where an invalid key came from, and tries only the first key found', async () => {
      const header = await ctx.app.inject({ url: `/api/users/@me/?personal_api_key=${key}`, headers: bearer('phx_unknown') });
      expect(header.statusCode).toBe(401);
      expect(header.json()).toEqual(failed('Personal API key found in request Authorization header is invalid.'));
      const body = await ctx.app.inject({ method: 'PATCH', url: `/api/users/@me/?personal_api_key=${key}`, payload: { personal_api_key: 'phx_unknown' } });
      expect(body.json()).toEqual(failed('Personal API key found in request body is invalid.'));
      const query = await ctx.app.inject({ url: '/api/users/@me/?personal_api_key=phx_unknown' });
      expect(query.json()).toEqual(failed('Personal API key found in request query string is invalid.'));
    });

    it('treats any unknown Bearer value, a project token included, as an invalid personal API key', async () => {
      const response = await ctx.app.inject({ url: '/api/users/@me/', headers: bearer('phc_someprojecttoken') });
      expect(response.json()).toEqual(failed('Personal API key found in request Authorization header is invalid.'));
    });

    it("refuses the key of an inactive user", async () => {
      const other = await ctx.newAccount();
      const otherKey = await ctx.newKey(other.user);
      await ctx.database.db.update(users).set({ isActive: false }).where(sql`${users.id} = ${other.user.id}`);
      ctx.services.auth.invalidateCaches();
      const response = await ctx.app.inject({ url: '/api/users/@me/', headers: bearer(otherKey) });
      expect(response.statusCode).toBe(401);
    });

    it('stops accepting a deleted key at once in this process', async () => {
      const other = await ctx.newAccount();
      const otherKey = await ctx.newKey(other.user);
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: bearer(otherKey) })).statusCode).toBe(200);
      const session = await ctx.login(other.user.email);
      const [row] = await ctx.database.db.select().from(personalApiKeys).where(sql`${personalApiKeys.userId} = ${other.user.id}`);
      const deleted = await ctx.app.inject({
        method: 'DELETE',
        url: `/api/personal_api_keys/${row!.id}/`,
        headers: { cookie: session.cookie, 'x-csrftoken': session.csrf },
      });
      expect(deleted.statusCode).toBe(204);
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: bearer(otherKey) })).statusCode).toBe(401);
    });
  });

  describe('scopes', () => {
    const get = (k: string, url: string) => ctx.app.inject({ url, headers: bearer(k) });

    it('names the missing scope', async () => {
      const k = await ctx.newKey(account.user, { scopes: ['user:read'] });
      expect((await get(k, '/api/projects/@current/')).json()).toEqual(denied("API key missing required scope 'project:read'"));
      const patch = await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers: bearer(k), payload: {} });
      expect(patch.json()).toEqual(denied("API key missing required scope 'user:write'"));
    });

    it('lets write imply read, and * allow everything', async () => {
      const writer = await ctx.newKey(account.user, { scopes: ['project:write'] });
      expect((await get(writer, '/api/projects/@current/')).statusCode).toBe(200);
      const all = await ctx.newKey(account.user, { scopes: ['*'] });
      expect((await get(all, '/api/organizations/')).statusCode).toBe(200);
    });

    it('refuses keys on actions without a scope mapping, even a * key', async () => {
      const all = await ctx.newKey(account.user, { scopes: ['*'] });
      expect((await get(all, '/api/personal_api_keys/')).json()).toEqual(denied('This action does not support Personal API Key access'));
    });

    it('lets a legacy key with an empty scope list use every scoped route, but not manage keys', async () => {
      const legacy = await ctx.newKey(account.user, { scopes: ['user:read'], label: 'legacy' });
      await ctx.database.db.update(personalApiKeys).set({ scopes: [] }).where(sql`${personalApiKeys.label} = 'legacy'`);
      ctx.services.auth.invalidateCaches();
      expect((await get(legacy, '/api/projects/@current/')).statusCode).toBe(200);
      expect((await get(legacy, '/api/organizations/')).statusCode).toBe(200);
      expect((await get(legacy, '/api/personal_api_keys/')).json()).toEqual(denied('This action does not support Personal API Key access'));
    });

    it('checks the unmapped action before the team, and the team before the scope', async () => {
      const narrow = await ctx.newKey(account.user, { scopes: ['user:read'] });
      expect((await get(narrow, '/api/projects/999999/')).json()).toMatchObject({ code: 'not_found', detail: 'Project not found.' });
      expect((await get(narrow, '/api/projects/abc/')).json()).toMatchObject({ code: 'not_found', detail: 'Project not found.' });
    });
  });

  describe('browser sessions', () => {
    it('logs in, sets the session and CSRF cookies, and logs out', async () => {
      const response = await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: account.user.email.toUpperCase(), password: STRONG_PASSWORD } });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ success: true });
      const cookies = Object.fromEntries(response.cookies.map((c) => [c.name, c]));
      expect(cookies.sessionid?.httpOnly).toBe(true);
      expect(cookies.posthog_csrftoken?.httpOnly).toBeUndefined();
      const cookie = `sessionid=${cookies.sessionid!.value}; posthog_csrftoken=${cookies.posthog_csrftoken!.value}`;
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie } })).statusCode).toBe(200);

      const logout = await ctx.app.inject({ method: 'POST', url: '/api/logout/', headers: { cookie } });
      expect(logout.statusCode).toBe(200);
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie } })).statusCode).toBe(401);
    });

    it.each(['GET', 'POST'] as const)('ends the session on %s /logout, as the web app does, and redirects to /login', async (method) => {
      const session = await ctx.login(account.user.email);
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie: session.cookie } })).statusCode).toBe(200);
      const logout = await ctx.app.inject({ method, url: '/logout', headers: { cookie: session.cookie } });
      expect(logout.statusCode).toBe(302);
      expect(logout.headers.location).toBe('/login');
      expect(logout.cookies.find((c) => c.name === 'sessionid')?.value).toBe('');
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie: session.cookie } })).statusCode).toBe(401);
    });

    it('refuses a session cookie whose signature was tampered with', async () => {
      const session = await ctx.login(account.user.email);
      const forged = session.cookie.replace(/sessionid=([^.;]+)/, 'sessionid=$1x');
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie: forged } })).statusCode).toBe(401);
    });

    it("gives PostHog's login errors", async () => {
      const wrong = await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: account.user.email, password: 'nope nope nope' } });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json()).toEqual({ type: 'validation_error', code: 'invalid_credentials', detail: 'Invalid email or password.', attr: null });
      const unknown = await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: 'nobody@example.com', password: 'whatever' } });
      expect(unknown.json().code).toBe('invalid_credentials');
      const missing = await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: account.user.email } });
      expect(missing.json()).toEqual({ type: 'validation_error', code: 'required', detail: 'This field is required.', attr: 'password' });
    });

    // Thirty scrypt checks: seconds on a quiet machine, more on a busy one.
    it('locks an account out after 30 failed logins', { timeout: 120_000 }, async () => {
      const victim = await ctx.newAccount();
      for (let i = 0; i < 30; i += 1) {
        await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: victim.user.email, password: `wrong ${i}` } });
      }
      const locked = await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: victim.user.email, password: STRONG_PASSWORD } });
      expect(locked.statusCode).toBe(403);
      expect(locked.json()).toEqual({
        type: 'authentication_error',
        code: 'too_many_failed_attempts',
        detail: 'Too many failed login attempts. Please try again in 10 minutes.',
        attr: null,
      });
    });

    it('issues a CSRF cookie to a session caller that lacks one', async () => {
      const session = await ctx.login(account.user.email);
      const onlySession = session.cookie.split(';')[0]!;
      const response = await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie: onlySession } });
      expect(response.cookies.find((c) => c.name === 'posthog_csrftoken')?.value).toBeTruthy();
    });
  });

  describe('CSRF on unsafe session requests', () => {
    let session: { cookie: string; csrf: string };
    const patch = (headers: Record<string, string>) => ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers, payload: { first_name: 'Csrf' } });

    beforeAll(async () => {
      session = await ctx.login(account.user.email);
    });

    it('passes with the cookie echoed in X-CSRFToken', async () => {
      expect((await patch({ cookie: session.cookie, 'x-csrftoken': session.csrf })).statusCode).toBe(200);
    });

    it('refuses a missing or wrong token, a missing cookie and a foreign origin', async () => {
      expect((await patch({ cookie: session.cookie })).json()).toEqual(denied('CSRF Failed: CSRF token missing.'));
      expect((await patch({ cookie: session.cookie, 'x-csrftoken': 'x'.repeat(43) })).json()).toEqual(
        denied("CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."),
      );
      expect((await patch({ cookie: session.cookie.split(';')[0]!, 'x-csrftoken': session.csrf })).json()).toEqual(
        denied('CSRF Failed: CSRF cookie not set.'),
      );
      expect((await patch({ cookie: session.cookie, 'x-csrftoken': session.csrf, origin: 'https://evil.example' })).json()).toEqual(
        denied('CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins.'),
      );
    });

    it('does not apply to safe methods or to key callers', async () => {
      expect((await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie: session.cookie } })).statusCode).toBe(200);
      expect((await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers: bearer(key), payload: {} })).statusCode).toBe(200);
    });

    it('requires a recent login for sensitive session actions', async () => {
      const fresh = await ctx.login(account.user.email);
      await ctx.database.db.update(sessions).set({ authenticatedAt: sql`now() - interval '3 hours'` });
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/personal_api_keys/',
        headers: { cookie: fresh.cookie, 'x-csrftoken': fresh.csrf },
        payload: { label: 'late', scopes: ['*'] },
      });
      expect(response.json()).toEqual(denied('This action requires you to be recently authenticated.'));
      const reads = await ctx.app.inject({ url: '/api/personal_api_keys/', headers: { cookie: fresh.cookie } });
      expect(reads.statusCode).toBe(200);
    });
  });
});

describe('signup', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  const signup = (payload: Record<string, unknown>) => ctx.app.inject({ method: 'POST', url: '/api/signup/', payload });

  it("checks passwords with PostHog's rules", async () => {
    expect((await signup({ first_name: 'A', email: 'a@example.com', password: 'short' })).json()).toEqual({
      type: 'validation_error',
      code: 'password_too_short',
      detail: 'This password is too short. It must contain at least 8 characters.',
      attr: 'password',
    });
    expect((await signup({ first_name: 'A', email: 'a@example.com', password: '12345678' })).json()).toMatchObject({
      code: 'password_too_weak',
      attr: 'password',
    });
  });

  it('is open on an empty database: creates the user, organization and project and logs in', async () => {
    const response = await signup({ first_name: 'Ada', last_name: 'L', email: 'Ada@Example.com', password: STRONG_PASSWORD, organization_name: 'Engines' });
    expect(response.statusCode).toBe(201);
    expect(Object.keys(response.json())).toEqual([
      'id', 'uuid', 'distinct_id', 'first_name', 'last_name', 'email', 'is_email_verified', 'hedgehog_config', 'role_at_organization', 'redirect_url',
    ]);
    expect(response.json()).toMatchObject({ email: 'ada@example.com', first_name: 'Ada', redirect_url: '/' });
    const cookies = Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));
    const me = await ctx.app.inject({ url: '/api/users/@me/', headers: { cookie: `sessionid=${cookies.sessionid}` } });
    expect(me.json()).toMatchObject({ is_staff: true, organization: { name: 'Engines' }, team: { name: 'Default project' } });
  });

  it('closes once a user exists, unless SIGNUP_ENABLED', async () => {
    const closed = await signup({ first_name: 'B', email: 'b@example.com', password: STRONG_PASSWORD });
    expect(closed.statusCode).toBe(403);
    expect(closed.json()).toEqual(
      denied('New organizations cannot be created in this instance. Contact your administrator if you think this is a mistake.'),
    );

    const open = await createTestContext({ SIGNUP_ENABLED: 'true' });
    try {
      await open.newAccount({ email: 'first@example.com' });
      const second = await open.app.inject({ method: 'POST', url: '/api/signup/', payload: { first_name: 'C', email: 'c@example.com', password: STRONG_PASSWORD } });
      expect(second.statusCode).toBe(201);
      expect(second.json().first_name).toBe('C');
      const me = await open.app.inject({ url: '/api/users/@me/', headers: { cookie: `sessionid=${second.cookies.find((c) => c.name === 'sessionid')!.value}` } });
      expect(me.json()).toMatchObject({ is_staff: false, organization: { name: "C's Organization" } });
      const duplicate = await open.app.inject({ method: 'POST', url: '/api/signup/', payload: { first_name: 'C', email: 'C@example.com', password: STRONG_PASSWORD } });
      expect(duplicate.json()).toEqual({
        type: 'validation_error',
        code: 'unique',
        detail: 'There is already an account with this email address.',
        attr: 'email',
      });
    } finally {
      await open.close();
    }
  });
});
