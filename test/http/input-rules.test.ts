import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, invalid, notFound, ok } from '../helpers/api.js';
import { bearer, createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/context.js';
import { TEST_DATABASE_URL } from '../helpers/database.js';
import { factories, projectUrl, type Tenant } from '../helpers/factories.js';

/** Each class of malformed input that once reached the database or the framework, answered as PostHog answers it. */

const parseError = (detail: string) => ({ type: 'invalid_request', code: 'parse_error', detail, attr: null });

/** ASCII text Postgres cannot compress, so its length is its size in an index row. */
function incompressible(length: number): string {
  let seed = 11;
  let out = '';
  while (out.length < length) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out += String.fromCharCode(97 + (seed % 26));
  }
  return out;
}

describe('malformed input', () => {
  let ctx: TestContext;
  let t: Tenant;
  let session: Record<string, string>;
  const tree = (path = '/') => projectUrl(t.teamId, `/file_system${path}`);
  const send = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: string, contentType = 'application/json') =>
    ctx.app.inject({ method, url, headers: { ...t.headers, 'content-type': contentType }, ...(payload !== undefined && { payload }) });

  beforeAll(async () => {
    ctx = await createTestContext({ RATE_LIMIT_ENABLED: 'false' });
    t = await factories(ctx).tenant();
    session = await factories(ctx).session(t.user);
  });
  afterAll(() => ctx.close());

  describe('text Postgres cannot store', () => {
    it('refuses NUL in a body string with DRF’s message, naming the field', async () => {
      expectError(await t.call('PATCH', '/api/users/@me/', { first_name: 'a\u0000b' }), 400, invalid('Null characters are not allowed.', 'first_name', 'null_characters_not_allowed'));
    });

    it('refuses NUL in a query parameter, and in a key inside a JSON field', async () => {
      expectError(await t.call('GET', tree('/?type=a%00b')), 400, invalid('Null characters are not allowed.', 'type', 'null_characters_not_allowed'));
      const response = await t.call('POST', tree('/'), { path: 'Notes', meta: { ['k\u0000']: 1 } });
      expectError(response, 400, invalid('Null characters are not allowed.', 'meta', 'null_characters_not_allowed'));
    });

    it('refuses a lone UTF-16 surrogate, and keeps a surrogate pair', async () => {
      const lone = await send('PATCH', '/api/users/@me/', '{"first_name": "a\\ud800b"}');
      expectError(lone, 400, invalid('Surrogate characters are not allowed: U+D800.', 'first_name', 'surrogate_characters_not_allowed'));
      expect(ok(await t.call('PATCH', '/api/users/@me/', { first_name: 'a😀b' })).first_name).toBe('a😀b');
    });
  });

  describe('bodies', () => {
    it('answers malformed multipart bodies with DRF’s parse error', async () => {
      const noBoundary = await send('PATCH', '/api/users/@me/', '--x\r\n\r\n', 'multipart/form-data');
      expectError(noBoundary, 400, parseError('Multipart form parse error - Multipart: Boundary not found'));
      const truncated = await send('PATCH', '/api/users/@me/', '--x\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nAda', 'multipart/form-data; boundary=x');
      expectError(truncated, 400, parseError('Multipart form parse error - Unexpected end of multipart data'));
      const longBoundary = await send('PATCH', '/api/users/@me/', `--${'b'.repeat(200)}\r\n`, `multipart/form-data; boundary=${'b'.repeat(200)}`);
      expect(longBoundary.statusCode).toBe(400);
    });

    it('still reads a well-formed multipart body, repeated fields as lists', async () => {
      const body = '--x\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nAda\r\n--x--\r\n';
      expect(ok(await send('PATCH', '/api/users/@me/', body, 'multipart/form-data; boundary=x')).first_name).toBe('Ada');
      const scopes = ['read', 'write'].map((a) => `--x\r\nContent-Disposition: form-data; name="scopes"\r\n\r\nuser:${a}\r\n`).join('');
      const key = await ctx.app.inject({
        method: 'POST',
        url: '/api/personal_api_keys/',
        headers: { ...session, 'content-type': 'multipart/form-data; boundary=x' },
        payload: `--x\r\nContent-Disposition: form-data; name="label"\r\n\r\nk\r\n${scopes}--x--\r\n`,
      });
      expect(ok(key, 201).scopes).toEqual(['user:read', 'user:write']);
    });

    it('refuses JSON nested deeper than 100 levels before anything walks it', async () => {
      const deep = `{"theme_mode": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
      expectError(await send('PATCH', '/api/users/@me/', deep), 400, parseError('JSON parse error - Nesting deeper than 100 levels'));
      const fine = `{"path": "Deep", "meta": {"a": ${'['.repeat(90)}${']'.repeat(90)}}}`;
      ok(await send('POST', tree('/'), fine), 201);
    });

    it('refuses events_column_config: null as DRF does for a JSONField without null', async () => {
      expectError(await t.call('PATCH', '/api/users/@me/', { events_column_config: null }), 400, invalid('This field may not be null.', 'events_column_config', 'null'));
    });
  });

  describe('empty updates', () => {
    it('answers an empty PATCH, or one of unknown fields only, with the object unchanged', async () => {
      const entry = ok(await t.call('POST', tree('/'), { path: 'Unchanged', type: 'folder' }), 201);
      expect(ok(await t.call('PATCH', tree(`/${entry.id}/`), {}))).toEqual(entry);
      expect(ok(await t.call('PATCH', tree(`/${entry.id}/`), { no_such_field: 1 }))).toEqual(entry);
      const [key] = ok<Record<string, unknown>[]>(await ctx.app.inject({ method: 'GET', url: '/api/personal_api_keys/', headers: session }));
      for (const payload of [{}, { no_such_field: 1 }]) {
        const response = await ctx.app.inject({ method: 'PATCH', url: `/api/personal_api_keys/${key!.id as string}/`, headers: session, payload });
        expect(ok(response)).toEqual(key);
      }
    });
  });

  describe('query strings', () => {
    it('builds next and previous links from a query with malformed %-escapes, as Python’s parse_qsl and urlencode do', async () => {
      for (const name of ['One', 'Two', 'Three']) await t.call('POST', tree('/'), { path: `Esc/${name}` });
      const page = ok(await t.call('GET', tree('/?parent=Esc&limit=1&offset=1&x=%zz&y=100%&%zz=1')));
      const base = `http://localhost:80${tree('/')}`;
      expect(page.next).toBe(`${base}?%25zz=1&limit=1&offset=2&parent=Esc&x=%25zz&y=100%25`);
      expect(page.previous).toBe(`${base}?%25zz=1&limit=1&parent=Esc&x=%25zz&y=100%25`);
    });

    it('reads limits and offsets beyond any table as the largest safe integer', async () => {
      const page = ok(await t.call('GET', tree('/?offset=99999999999999999999999&limit=99999999999999999999999')));
      expect(page.results).toEqual([]);
      expect(page.previous).toContain('limit=9007199254740991');
    });

    it('answers integers beyond the column’s type in filters with a 400', async () => {
      expectError(await t.call('GET', tree('/?depth=2147483648')), 400, invalid('A number in the request is out of range.', null));
      expectError(await t.call('GET', tree('/?depth=99999999999999999999999')), 400, invalid('A valid integer is required.', null));
      expect((await t.call('GET', projectUrl(t.teamId, '/saved/?created_by=99999999999999999999999'))).statusCode).toBe(400);
    });
  });

  describe('paths', () => {
    it('holds a path of 2600 bytes that Postgres cannot compress, and refuses one byte more, in characters of any width', async () => {
      ok(await t.call('POST', tree('/'), { path: incompressible(2600) }), 201);
      expectError(await t.call('POST', tree('/'), { path: incompressible(2601) }), 400, invalid('Path must be 2600 bytes or fewer.', 'path'));
      expectError(await t.call('POST', tree('/'), { path: 'é'.repeat(1301) }), 400, invalid('Path must be 2600 bytes or fewer.', 'path'));
    });

    it('applies the rule to every path a move or a link writes, before anything changes', async () => {
      const folder = ok(await t.call('POST', tree('/'), { path: 'Mv', type: 'folder' }), 201);
      const child = ok(await t.call('POST', tree('/'), { path: 'Mv/child' }), 201);
      const target = incompressible(2595);
      for (const action of ['move', 'link']) {
        const response = await t.call('POST', tree(`/${folder.id}/${action}/`), { new_path: target });
        expectError(response, 400, invalid('Path must be 2600 bytes or fewer.', 'new_path'));
        expectError(await t.call('POST', tree(`/${folder.id}/${action}/`), { new_path: incompressible(2601) }), 400, invalid('Path must be 2600 bytes or fewer.', 'new_path'));
      }
      expect(ok(await t.call('GET', tree(`/${child.id}/`))).path).toBe('Mv/child');
      expect(ok(await t.call('GET', tree(`/?path=${target}`))).count).toBe(0);
    });

    it('applies it to the folder an object is filed in', async () => {
      const response = await t.call('POST', projectUrl(t.teamId, '/saved/'), { url: 'http://93.184.215.14/', type: 'iframe', _create_in_folder: incompressible(2601) });
      expectError(response, 400, invalid('Path must be 2600 bytes or fewer.', '_create_in_folder'));
    });
  });

  describe('URLs the router refuses', () => {
    it('answers a path it cannot decode, or an over-long parameter, with PostHog’s 404', async () => {
      expectError(await ctx.app.inject({ method: 'GET', url: '/api/users/%zz/', headers: t.headers }), 404, notFound('Endpoint not found.'));
      expectError(await ctx.app.inject({ method: 'GET', url: `/api/users/${'a'.repeat(5000)}/`, headers: t.headers }), 404, notFound('Endpoint not found.'));
    });
  });
});

describe.runIf(TEST_DATABASE_URL)('racing requests on Postgres', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext({ RATE_LIMIT_ENABLED: 'false', SIGNUP_ENABLED: 'true' });
  });
  afterAll(() => ctx.close());

  it('answers concurrent signups with one email as the sequential case: one 201, then the "already an account" 400', async () => {
    const signup = () =>
      ctx.app.inject({ method: 'POST', url: '/api/signup/', payload: { first_name: 'Ada', email: 'race@example.com', password: STRONG_PASSWORD } });
    const responses = await Promise.all(Array.from({ length: 6 }, signup));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([201, 400, 400, 400, 400, 400]);
    for (const response of responses.filter((r) => r.statusCode === 400)) {
      expectError(response, 400, invalid('There is already an account with this email address.', 'email', 'unique'));
    }
  });

  it('creates every one of concurrent organizations with one name, each with its own slug', async () => {
    const tenant = await factories(ctx).tenant();
    const create = () => ctx.app.inject({ method: 'POST', url: '/api/organizations/', headers: bearer(tenant.key), payload: { name: 'Same Name' } });
    const responses = await Promise.all(Array.from({ length: 6 }, create));
    expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(new Set(responses.map((r) => (r.json() as { slug: string }).slug)).size).toBe(6);
  });
});
