import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestContext, type TestContext } from '../helpers/context.js';

const error = (type: string, code: string, detail: string, attr: string | null = null) => ({ type, code, detail, attr });

describe('PostHog conventions', () => {
  let ctx: TestContext;
  let key: string;

  beforeAll(async () => {
    ctx = await createTestContext({ BODY_LIMIT_BYTES: '2048' }, { captureLogs: true });
    const account = await ctx.newAccount();
    key = await ctx.newKey(account.user);
  });
  afterAll(() => ctx.close());

  describe('error bodies', () => {
    it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const)('answers an unknown /api path with 404 "Endpoint not found." for %s, without credentials', async (method) => {
      const response = await ctx.app.inject({ method, url: '/api/no_such_thing/1/' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual(error('invalid_request', 'not_found', 'Endpoint not found.'));
    });

    it('answers an unrouted method on a known path with 405, after authentication', async () => {
      const unauthenticated = await ctx.app.inject({ method: 'PUT', url: '/api/users/@me/' });
      expect(unauthenticated.statusCode).toBe(401);
      const response = await ctx.app.inject({ method: 'PUT', url: '/api/users/@me/', headers: bearer(key), payload: {} });
      expect(response.statusCode).toBe(405);
      expect(response.json()).toEqual(error('invalid_request', 'method_not_allowed', 'Method "PUT" not allowed.'));
      const del = await ctx.app.inject({ method: 'DELETE', url: '/api/projects/@current', headers: bearer(key) });
      expect(del.json()).toEqual(error('invalid_request', 'method_not_allowed', 'Method "DELETE" not allowed.'));
    });

    it('answers malformed JSON with a parse error', async () => {
      const response = await ctx.app.inject({
        method: 'PATCH',
        url: '/api/users/@me/',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        payload: '{"first_name": ',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ type: 'invalid_request', code: 'parse_error', attr: null });
      expect(response.json().detail).toMatch(/^JSON parse error - /);
    });

    it('answers an unsupported content type with 415', async () => {
      const response = await ctx.app.inject({
        method: 'PATCH',
        url: '/api/users/@me/',
        headers: { ...bearer(key), 'content-type': 'text/plain' },
        payload: 'first_name=x',
      });
      expect(response.statusCode).toBe(415);
      expect(response.json()).toEqual(error('invalid_request', 'unsupported_media_type', 'Unsupported media type "text/plain" in request.'));
    });

    it('answers an oversized body with 413 in the same body shape', async () => {
      const response = await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers: bearer(key), payload: { first_name: 'x'.repeat(5000) } });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toMatchObject({ type: 'invalid_request', code: 'payload_too_large', attr: null });
    });

    it('answers a body that is not an object as DRF does', async () => {
      const response = await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers: bearer(key), payload: [1, 2] });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(error('validation_error', 'invalid_input', 'Invalid data. Expected a dictionary, but got list.'));
    });
  });

  describe('validation messages are DRF’s', () => {
    const patch = (payload: unknown) => ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers: bearer(key), payload: payload as object });
    const createKey = (payload: unknown, cookie: { cookie: string; csrf: string }) =>
      ctx.app.inject({
        method: 'POST',
        url: '/api/personal_api_keys/',
        headers: { cookie: cookie.cookie, 'x-csrftoken': cookie.csrf },
        payload: payload as object,
      });

    it('maps each kind of field error to its code, message and attr', async () => {
      expect((await patch({ first_name: 'x'.repeat(151) })).json()).toEqual(
        error('validation_error', 'max_length', 'Ensure this field has no more than 150 characters.', 'first_name'),
      );
      expect((await patch({ first_name: null })).json()).toEqual(error('validation_error', 'null', 'This field may not be null.', 'first_name'));
      expect((await patch({ first_name: { a: 1 } })).json()).toEqual(error('validation_error', 'invalid_input', 'Not a valid string.', 'first_name'));
      expect((await patch({ anonymize_data: 'perhaps' })).json()).toEqual(
        error('validation_error', 'invalid_input', 'Must be a valid boolean.', 'anonymize_data'),
      );
      expect((await patch({ theme_mode: 'neon' })).json()).toEqual(error('validation_error', 'invalid_choice', '"neon" is not a valid choice.', 'theme_mode'));
      expect((await patch({ email: 'not-an-email' })).json()).toEqual(error('validation_error', 'invalid_input', 'Enter a valid email address.', 'email'));

      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      expect((await createKey({ label: '  ', scopes: ['*'] }, session)).json()).toEqual(
        error('validation_error', 'blank', 'This field may not be blank.', 'label'),
      );
      expect((await createKey({ label: 'x' }, session)).json()).toEqual(error('validation_error', 'required', 'This field is required.', 'scopes'));
      expect((await createKey({ label: 'x', scopes: '*' }, session)).json()).toEqual(
        error('validation_error', 'not_a_list', 'Expected a list of items but got type "str".', 'scopes'),
      );
      expect((await createKey({ label: 'x', scopes: ['*'], scoped_teams: ['one'] }, session)).json()).toEqual(
        error('validation_error', 'invalid_input', 'A valid integer is required.', 'scoped_teams__0'),
      );
    });

    it('coerces input the way DRF fields do', async () => {
      const response = await patch({ first_name: 12345, last_name: '  Spaced  ', anonymize_data: 'true' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ first_name: '12345', last_name: 'Spaced', anonymize_data: true });
    });
  });

  describe('request bodies', () => {
    it('accepts form-encoded bodies, where a repeated key gives its last value to a scalar field', async () => {
      const response = await ctx.app.inject({
        method: 'PATCH',
        url: '/api/users/@me/',
        headers: { ...bearer(key), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'first_name=First&first_name=Formy&anonymize_data=on',
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ first_name: 'Formy', anonymize_data: true });
    });

    it('accepts multipart bodies, where repeated keys fill a list field', async () => {
      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      const boundary = 'burrowboundary';
      const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/personal_api_keys/',
        headers: { cookie: session.cookie, 'x-csrftoken': session.csrf, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: `${part('label', 'multipart')}${part('scopes', 'user:read')}${part('scopes', 'project:read')}--${boundary}--\r\n`,
      });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json()).toMatchObject({ label: 'multipart', scopes: ['user:read', 'project:read'] });
    });

    it('reads a form body with a single value for a list field as a one-item list', async () => {
      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/personal_api_keys/',
        headers: { cookie: session.cookie, 'x-csrftoken': session.csrf, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'label=form&scopes=user%3Aread',
      });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json().scopes).toEqual(['user:read']);
    });

    it('treats an empty JSON body as no fields', async () => {
      const response = await ctx.app.inject({
        method: 'PATCH',
        url: '/api/users/@me/',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        payload: '',
      });
      expect(response.statusCode).toBe(200);
    });
  });

  describe('routing', () => {
    it('serves every route with and without the trailing slash, never redirecting', async () => {
      for (const url of ['/api/users/@me', '/api/users/@me/', '/api/projects/@current', '/api/projects/@current/', '/api/organizations', '/api/organizations/']) {
        const response = await ctx.app.inject({ url, headers: bearer(key) });
        expect(response.statusCode, url).toBe(200);
      }
      const query = await ctx.app.inject({ url: '/api/organizations?limit=1', headers: bearer(key) });
      expect(query.statusCode).toBe(200);
    });
  });

  describe('datetimes', () => {
    it('writes ISO 8601 UTC with Z, with six fraction digits or none', async () => {
      const me = (await ctx.app.inject({ url: '/api/users/@me/', headers: bearer(key) })).json();
      expect(me.date_joined).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/);
      expect(Date.parse(me.date_joined)).toBeGreaterThan(Date.now() - 60_000);
    });
  });

  describe('logging', () => {
    it('puts a request id on every log line of a request and echoes it in X-Request-ID', async () => {
      const response = await ctx.app.inject({ url: '/api/users/@me/', headers: { ...bearer(key), 'x-request-id': 'trace-abc-123' } });
      expect(response.headers['x-request-id']).toBe('trace-abc-123');
      const lines = ctx.logs!.lines.filter((l) => l.reqId === 'trace-abc-123');
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
      const generated = await ctx.app.inject({ url: '/api/users/@me/', headers: { ...bearer(key), 'x-request-id': 'bad id with spaces' } });
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('never logs keys, cookies, CSRF tokens or passwords', async () => {
      const account = await ctx.newAccount();
      const secretKey = await ctx.newKey(account.user);
      await ctx.app.inject({ url: `/api/users/@me/?personal_api_key=${secretKey}` });
      await ctx.app.inject({ url: '/api/users/@me/', headers: bearer(secretKey) });
      const session = await ctx.login(account.user.email);
      await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers: { cookie: session.cookie, 'x-csrftoken': session.csrf }, payload: {} });
      await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: account.user.email, password: 'wrong password here' } });
      const text = ctx.logs!.text;
      expect(text).not.toContain(secretKey);
      expect(text).not.toContain(session.csrf);
      expect(text).not.toContain(session.cookie.split(';')[0]!.split('=')[1]!);
      expect(text).not.toContain(account.password);
      expect(text).not.toContain('wrong password here');
      expect(text).toContain('personal_api_key=[Redacted]');
    });

    it('never logs a key sent in the query string, however its name or value is encoded', async () => {
      const account = await ctx.newAccount();
      const key = await ctx.newKey(account.user);
      const body = key.slice('phx_'.length);
      const percentEncoded = (text: string, pick: RegExp) => text.replace(pick, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
      const queries = [
        `personal_api_key=${key}`,
        `personal%5Fapi%5Fkey=${key}`,
        `personal%5fapi%5fkey=${key}`,
        `${percentEncoded('personal_api_key', /./g)}=${key}`,
        `personal_api_key=${percentEncoded(key, /_/g)}`,
        `personal_api_key=${percentEncoded(key, /./g)}`,
        `search=x&personal_api_key=${key}&limit=1`,
        `personal_api_key=not-a-key&personal_api_key=${key}`,
      ];
      for (const query of queries) {
        const response = await ctx.app.inject({ url: `/api/users/@me/?${query}` });
        expect(response.statusCode, query).toBe(200);
      }
      await ctx.app.inject({ url: '/api/users/@me/', headers: bearer(key) });
      await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', payload: { personal_api_key: key, first_name: 'Keyed' } });
      // A key sent where no key is read is still not logged.
      await ctx.app.inject({ url: `/api/users/@me/?note=${key}`, headers: bearer(key) });
      await ctx.app.inject({ url: `/api/${key}/` });
      const text = ctx.logs!.text;
      for (const secret of [key, body, percentEncoded(key, /_/g), percentEncoded(body, /./g)]) expect(text).not.toContain(secret);
      expect(text).toContain('personal%5Fapi%5Fkey=[Redacted]');
      expect(text).toContain('note=[Redacted]');
    });
  });
});

describe('unexpected failures', () => {
  it('answer 500 with PostHog’s generic body and log the cause', async () => {
    const ctx = await createTestContext({}, { captureLogs: true });
    const account = await ctx.newAccount();
    const key = await ctx.newKey(account.user);
    await ctx.database.close();
    const response = await ctx.app.inject({ url: '/api/users/@me/', headers: bearer(key) });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual(error('server_error', 'error', 'A server error occurred.'));
    expect(ctx.logs!.lines.some((l) => l.level === 50 && l.msg === 'unhandled error')).toBe(true);
    await ctx.app.close();
  });
});
