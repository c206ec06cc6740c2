import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestContext, type TestContext } from '../helpers/context.js';
import { factories, projectUrl } from '../helpers/factories.js';
import { sessionHeaders } from '../helpers/api.js';

/**
 * Malformed variants of every operation the app documents (its own OpenAPI document, built from the route table, so a
 * new route is covered without touching this file), sent with a personal API key and with a browser session. Any 5xx,
 * or an error body outside PostHog's shapes, fails.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
}
interface Operation {
  method: Method;
  url: string;
  pathParams: string[];
  queryParams: string[];
  body: Schema | null;
}
interface Variant {
  name: string;
  url: string;
  payload?: string;
  contentType?: string;
}

const ERROR_TYPES = new Set(['validation_error', 'authentication_error', 'invalid_request', 'throttled_error', 'server_error']);

/**
 * The error bodies a client may see: PostHog's {type, code, detail, attr}, and the bare forms its views build by hand
 * that the specs document ({"detail": ...} from the tree's actions, {"error": ...} from the heatmap views), or no body
 * at all (a deleted heatmap's content, a 405 on saved heatmaps).
 */
function errorShapeProblem(response: LightMyRequestResponse): string | null {
  if (response.body === '') return [404, 405].includes(response.statusCode) ? null : 'empty body';
  let body: unknown;
  try {
    body = response.json();
  } catch {
    return `not JSON: ${response.body.slice(0, 200)}`;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `not an object: ${response.body.slice(0, 200)}`;
  const record = body as Record<string, unknown>;
  const keys = Object.keys(record).join(',');
  if (keys === 'type,code,detail,attr') {
    const { type, code, detail, attr } = record;
    const valid = ERROR_TYPES.has(type as string) && typeof code === 'string' && typeof detail === 'string' && (attr === null || typeof attr === 'string');
    return valid ? null : `bad PostHog error body: ${response.body.slice(0, 200)}`;
  }
  if ((keys === 'detail' && typeof record.detail === 'string') || (keys === 'error' && typeof record.error === 'string')) return null;
  return `unknown error shape: ${response.body.slice(0, 300)}`;
}

function deepJson(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

/** Text that Postgres cannot compress, so its length is its size in an index row. */
function incompressible(length: number): string {
  let seed = 7;
  let out = '';
  while (out.length < length) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out += String.fromCharCode(97 + (seed % 26));
    if (out.length % 40 === 0) out += '/';
  }
  return out.slice(0, length);
}

const HUGE = '99999999999999999999999';
const BAD_STRINGS: [string, unknown][] = [
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'a\ud800b'],
  ['huge integer', 99999999999999999999999],
  ['int4 overflow', 2147483648],
  ['object', { a: 1 }],
  ['list', ['a']],
  ['list of NUL', ['a\u0000b']],
  ['null', null],
  ['multi-byte 5000 bytes', 'é'.repeat(2500)],
  ['3990 ASCII characters', incompressible(3990)],
  ['51 segments', Array.from({ length: 51 }, (_, i) => `s${i}`).join('/')],
];

/** Sets one bad value at each leaf of the body schema (two levels deep, lists as one item). */
function bodyLeaves(schema: Schema | null, resolve: (s: Schema) => Schema): { name: string; build: (value: unknown) => unknown }[] {
  if (!schema) return [];
  const object = resolve(schema);
  const leaves: { name: string; build: (value: unknown) => unknown }[] = [];
  for (const [name, raw] of Object.entries(object.properties ?? {})) {
    leaves.push({ name, build: (value) => ({ [name]: value }) });
    const field = resolve(raw);
    const item = field.items && resolve(field.items);
    for (const [sub] of Object.entries(item?.properties ?? {})) {
      leaves.push({ name: `${name}[]__${sub}`, build: (value) => ({ [name]: [{ [sub]: value }] }) });
    }
    for (const [sub] of Object.entries(field.properties ?? {})) {
      leaves.push({ name: `${name}__${sub}`, build: (value) => ({ [name]: { [sub]: value } }) });
    }
  }
  return leaves;
}

function variants(op: Operation, url: (overrides?: Record<string, string>) => string, resolve: (s: Schema) => Schema): Variant[] {
  const base = url();
  const out: Variant[] = [];
  const query = (name: string, q: string) => out.push({ name, url: `${base}?${q}` });
  for (const param of new Set([...op.queryParams, 'type', 'limit', 'offset'])) {
    query(`query ${param} NUL`, `${param}=a%00b&limit=1`);
    query(`query ${param} huge`, `${param}=-${HUGE}&${param}=${HUGE}`);
    query(`query ${param} int4 overflow`, `${param}=2147483648&limit=1`);
    query(`query ${param} invalid UTF-8`, `${param}=a%ED%A0%80b&${param}=%FF`);
  }
  query('query personal_api_key NUL', 'personal_api_key=phx_%00');
  query('query bad escapes', 'x=%zz&y=%E0%A4%A&limit=1');
  query('query bad escape in a key', '%zz=1&limit=1&offset=1');
  query('query bad escape with offset', 'a=%&limit=1&offset=1');
  for (const param of op.pathParams) {
    for (const [name, value] of [
      ['bad escape', '%zz'],
      ['truncated escape', '%E0%A4%A'],
      ['NUL', 'a%00b'],
      ['huge integer', HUGE],
      ['over-long', 'a'.repeat(2000)],
      ['multi-byte over-long', encodeURIComponent('é'.repeat(400))],
    ] as const) {
      out.push({ name: `path ${param} ${name}`, url: url({ [param]: value }) });
    }
  }
  if (op.method === 'GET' || op.method === 'DELETE') return out;

  const json = (name: string, payload: string) => out.push({ name, url: base, payload, contentType: 'application/json' });
  json('empty object', '{}');
  json('only unknown fields', '{"zzz_unknown": 1}');
  json('a list', '[]');
  json('null', 'null');
  json('a string', '"a\\u0000b"');
  json('malformed JSON', '{"a":');
  json('deep JSON body', deepJson(50_000));
  json('deep object body', '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000));
  for (const leaf of bodyLeaves(op.body, resolve)) {
    for (const [name, value] of BAD_STRINGS) json(`body ${leaf.name} ${name}`, JSON.stringify(leaf.build(value)));
    json(`body ${leaf.name} deep JSON`, JSON.stringify(leaf.build(0)).replace('0', deepJson(30_000)));
    json(`body ${leaf.name} escaped NUL`, JSON.stringify(leaf.build('a\\u0000b')).replace('\\\\u0000', '\\u0000'));
  }
  const multipart = (name: string, contentType: string, payload: string) => out.push({ name, url: base, payload, contentType });
  multipart('multipart without boundary', 'multipart/form-data', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n');
  multipart('multipart with an over-long boundary', `multipart/form-data; boundary=${'b'.repeat(200)}`, `--${'b'.repeat(200)}\r\n\r\n`);
  multipart('multipart truncated', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb');
  multipart('multipart garbage', 'multipart/form-data; boundary=x', 'no parts here');
  multipart('multipart NUL field', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\na\u0000b\r\n--x--\r\n');
  multipart('JSON in another charset', 'application/json; charset=utf-16', '{"a": 1}');
  multipart('plain text', 'text/plain', 'a\u0000b');
  multipart('form bad escapes', 'application/x-www-form-urlencoded', 'name=%zz&path=%00&first_name=a%00b');
  return out;
}

// Every operation of the document with every variant, twice: minutes on a loaded machine.
describe('malformed input on every operation', { timeout: 600_000 }, () => {
  let ctx: TestContext;
  let operations: Operation[];
  let resolve: (schema: Schema) => Schema;
  const ids: Record<string, string> = {};
  let keyHeaders: Record<string, string>;
  let login: () => Promise<Record<string, string>>;

  beforeAll(async () => {
    ctx = await createTestContext({ RATE_LIMIT_ENABLED: 'false', SIGNUP_ENABLED: 'true' });
    const make = factories(ctx);
    const tenant = await make.tenant();
    keyHeaders = bearer(tenant.key);
    login = async () => sessionHeaders(await ctx.login(tenant.user.email));

    const folder = await make.treeEntry(tenant, 'Docs', { type: 'folder' });
    for (let i = 0; i < 3; i += 1) await make.treeEntry(tenant, `Docs/${'x'.repeat(40)}/entry ${i}`);
    const heatmap = await make.heatmap(tenant, { type: 'iframe' });
    const shortcut = await make.shortcut(tenant, { path: 'Star', type: 'folder', ref: 'Docs' });
    const persisted = await make.persistedFolder(tenant, { type: 'pinned', path: 'Docs' });
    const victim = await ctx.app.inject({ method: 'POST', url: '/api/personal_api_keys/', headers: keyHeaders, payload: { label: 'victim', scopes: ['*'] } });
    const organization = await ctx.app.inject({ method: 'POST', url: '/api/organizations/', headers: keyHeaders, payload: { name: 'Throwaway' } });
    const organizationId = (organization.json() as { id: string }).id;
    const project = await ctx.app.inject({ method: 'POST', url: '/api/projects/', headers: keyHeaders, payload: { name: 'Throwaway' } });
    Object.assign(ids, {
      project_id: String(tenant.teamId),
      environment_id: String(tenant.teamId),
      file_system: folder.id,
      file_system_shortcut: shortcut.id,
      persisted_folder: persisted.id,
      saved: heatmap.short_id as string,
      heatmap_screenshots: '1',
      personal_api_keys: (victim.json() as { id: string }).id,
      organizations: organizationId,
      projects: String((project.json() as { id: number }).id ?? tenant.teamId),
      environments: String((project.json() as { id: number }).id ?? tenant.teamId),
      users: '@me',
    });
    expect(ctx.app.inject).toBeDefined();
    expect((await ctx.app.inject({ method: 'GET', url: projectUrl(tenant.teamId, '/file_system/?limit=1'), headers: keyHeaders })).json()).toHaveProperty('next');

    const document = ctx.app.swagger() as unknown as {
      paths: Record<string, Record<string, { operationId?: string; parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
      components: { schemas: Record<string, Schema> };
    };
    resolve = (schema) => (schema.$ref ? document.components.schemas[schema.$ref.split('/').pop()!]! : (schema.anyOf?.find((s) => s.type !== 'null') ?? schema));
    // The web app's allow-list (operation ids ending in _empty) is one handler answering some fifty paths: one path of
    // each kind (projects, environments, users, organizations …) exercises it, and all of them doubled this test's time.
    const emptyKinds = new Set<string>();
    const firstOfItsKind = (url: string, operationId: string | undefined) => {
      if (!operationId?.endsWith('_empty')) return true;
      const kind = url.split('/').slice(0, 3).join('/');
      return !emptyKinds.has(kind) && Boolean(emptyKinds.add(kind));
    };
    operations = Object.entries(document.paths)
      .flatMap(([url, item]) =>
        Object.entries(item)
          .filter(([, op]) => firstOfItsKind(url, op.operationId))
          .map(([method, op]) => ({
            method: method.toUpperCase() as Method,
            url,
            pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
            queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
            body: op.requestBody?.content['application/json']?.schema ?? null,
          })),
      )
      // Deletes last, so the objects the other operations need are still there.
      .sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
  });
  afterAll(() => ctx?.close());

  /** The URL with each path parameter set to a real object of that operation (or an override). */
  function urlOf(op: Operation, overrides: Record<string, string> = {}): string {
    return op.url.replace(/\{([^}]+)\}/g, (_, name: string, offset: number) => {
      if (name in overrides) return overrides[name]!;
      if (ids[name]) return ids[name]!;
      const collection = op.url.slice(0, offset).split('/').filter(Boolean).at(-1)!;
      return ids[collection] ?? '1';
    });
  }

  it('never answers 5xx, and answers every error in PostHog’s shapes, with a key and with a session', async () => {
    const failures: string[] = [];
    let sent = 0;
    const answered = { key: 0, session: 0 };
    let session = await login();
    for (const op of operations) {
      for (const variant of variants(op, (overrides) => urlOf(op, overrides), resolve)) {
        // The two credentials at once: the app answers requests concurrently, as a server would.
        const credentials = [
          ['key', keyHeaders],
          ['session', session],
        ] as const;
        await Promise.all(
          credentials.map(async ([auth, headers]) => {
            const response = await ctx.app.inject({
              method: op.method,
              url: variant.url,
              headers: { ...headers, ...(variant.contentType && { 'content-type': variant.contentType }) },
              ...(variant.payload !== undefined && { payload: variant.payload }),
            });
            sent += 1;
            if (response.statusCode < 300) answered[auth] += 1;
            const label = `${op.method} ${op.url} [${variant.name}, ${auth}] -> ${response.statusCode}`;
            if (response.statusCode >= 500) failures.push(`${label}: ${response.body.slice(0, 200)}`);
            else if (response.statusCode >= 400) {
              const problem = errorShapeProblem(response);
              if (problem) failures.push(`${label}: ${problem}`);
            }
          }),
        );
        if (op.url.includes('logout')) session = await login();
      }
    }
    expect(sent).toBeGreaterThan(1000);
    // Both credentials held throughout: some variants were let through (ignored parameters, empty PATCHes).
    expect(answered.key).toBeGreaterThan(200);
    expect(answered.session).toBeGreaterThan(200);
    expect(failures.slice(0, 60), `${failures.length} failures`).toEqual([]);
  });

  it('answers malformed credentials on every operation in PostHog’s shapes', async () => {
    const credentials: Record<string, string>[] = [
      { cookie: 'sessionid=a%00b; posthog_csrftoken=%zz', 'x-csrftoken': '%zz' },
      { cookie: `sessionid=${'é'.repeat(3000)}` },
      { authorization: 'Bearer phx_\u00ff' },
      { authorization: `Bearer ${'x'.repeat(10_000)}` },
    ];
    const failures: string[] = [];
    for (const op of operations) {
      for (const headers of credentials) {
        const response = await ctx.app.inject({ method: op.method, url: `${urlOf(op)}?personal_api_key=phx_%00`, headers });
        const problem = response.statusCode >= 500 ? response.body.slice(0, 200) : response.statusCode >= 400 ? errorShapeProblem(response) : null;
        if (problem) failures.push(`${op.method} ${op.url} [${Object.keys(headers).join(', ')}] -> ${response.statusCode}: ${problem}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
