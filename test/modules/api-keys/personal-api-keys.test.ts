import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { createApiKeysRepository } from '../../../src/modules/api-keys/repository.js';
import { epochMs, isoZ } from '../../../src/lib/time.js';
import { type AccessRow, accessTable } from '../../helpers/access-table.js';
import { denied, expectError, invalid, notFound, ok } from '../../helpers/api.js';
import { bearer, createTestContext, type TestAccount, type TestContext } from '../../helpers/context.js';
import { type Factories, factories } from '../../helpers/factories.js';

const KEY_FIELDS = [
  'id',
  'label',
  'value',
  'mask_value',
  'created_at',
  'last_used_at',
  'user_id',
  'scopes',
  'scoped_teams',
  'scoped_organizations',
  'last_rolled_at',
];

const UNSUPPORTED = denied('This action does not support Personal API Key access');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/;

interface Key {
  id: string;
  label: string;
  value: string | null;
  mask_value: string;
  created_at: string;
  last_used_at: string | null;
  user_id: number;
  scopes: string[];
  scoped_teams: number[] | null;
  scoped_organizations: string[] | null;
  last_rolled_at: string | null;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

describe('/api/personal_api_keys/', () => {
  let ctx: TestContext;
  let make: Factories;
  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  /** An account (with no key yet) logged in with a browser session, which is what manages keys. */
  async function loggedIn(overrides: Parameters<TestContext['newAccount']>[0] = {}) {
    const account = await ctx.newAccount(overrides);
    return { account, session: await make.session(account.user) };
  }

  /** Another key of the owner's, and the check that it still works, unchanged. */
  const ownedKey: AccessRow['object'] = async (owner) => {
    const made = await make.key(owner.user, ['user:read']);
    const before = ok<Key>(await made.call('GET', '/api/personal_api_keys/@current/'));
    return {
      id: before.id,
      intact: async () =>
        expect(ok<Key>(await made.call('GET', '/api/personal_api_keys/@current/'))).toMatchObject({ id: before.id, label: before.label, scopes: before.scopes }),
    };
  };

  // Sessions manage keys; every key is refused, even a * key; another user's key is 404. GET /:id/ (a key may read
  // itself only) is left to the tests below.
  accessTable(() => ctx, [
    { method: 'GET', path: '/api/personal_api_keys/', scope: 'sessions-only', status: 200 },
    { method: 'POST', path: '/api/personal_api_keys/', scope: 'sessions-only', body: { label: 'Made by the table', scopes: ['user:read'] }, status: 201 },
    { method: 'PATCH', path: '/api/personal_api_keys/:id/', scope: 'sessions-only', object: ownedKey, body: { label: 'Renamed' }, status: 200 },
    { method: 'PUT', path: '/api/personal_api_keys/:id/', scope: 'sessions-only', object: ownedKey, body: { label: 'Put', scopes: ['user:read'] }, status: 200 },
    { method: 'DELETE', path: '/api/personal_api_keys/:id/', scope: 'sessions-only', object: ownedKey, status: 204 },
    { method: 'POST', path: '/api/personal_api_keys/:id/roll/', scope: 'sessions-only', object: ownedKey, status: 200 },
    { method: 'GET', path: '/api/personal_api_keys/@current/', scope: 'any', status: 200 },
  ]);

  const create = (headers: Record<string, string>, payload: unknown) =>
    ctx.app.inject({ method: 'POST', url: '/api/personal_api_keys/', headers, payload: payload as object });
  const list = (headers: Record<string, string>) => ctx.app.inject({ url: '/api/personal_api_keys/', headers });
  const retrieve = (headers: Record<string, string>, id: string) => ctx.app.inject({ url: `/api/personal_api_keys/${id}/`, headers });
  const update = (headers: Record<string, string>, id: string, payload: unknown, method: 'PATCH' | 'PUT' = 'PATCH') =>
    ctx.app.inject({ method, url: `/api/personal_api_keys/${id}/`, headers, payload: payload as object });
  const destroy = (headers: Record<string, string>, id: string) => ctx.app.inject({ method: 'DELETE', url: `/api/personal_api_keys/${id}/`, headers });
  const roll = (headers: Record<string, string>, id: string) => ctx.app.inject({ method: 'POST', url: `/api/personal_api_keys/${id}/roll/`, headers });
  const me = (key: string) => ctx.app.inject({ url: '/api/users/@me/', headers: bearer(key) });

  async function newKey(session: Record<string, string>, payload: Record<string, unknown> = {}): Promise<Key & { value: string }> {
    return ok(await create(session, { label: 'key', scopes: ['*'], ...payload }), 201);
  }

  const invalidKey = {
    type: 'authentication_error',
    code: 'authentication_failed',
    detail: 'Personal API key found in request Authorization header is invalid.',
    attr: null,
  };

  describe('create', () => {
    it('answers 201 with the value once, masked, in PostHog\'s field order', async () => {
      const { account, session } = await loggedIn();
      const before = Date.now();
      const response = await create(session, { label: 'CI', scopes: ['user:read', 'project:write'] });
      const key = ok<Key>(response, 201);
      expect(Object.keys(key)).toEqual(KEY_FIELDS);
      expect(key.value).toMatch(/^phx_[2-9A-HJ-NP-Za-km-z]{48,49}$/);
      const value = key.value!;
      expect(key.mask_value).toBe(`phx_...${value.slice(-4)}`);
      expect(key).toMatchObject({
        label: 'CI',
        last_used_at: null,
        user_id: account.user.id,
        scopes: ['user:read', 'project:write'],
        // Omitted restrictions are stored as empty lists, which the MCP server's schema requires.
        scoped_teams: [],
        scoped_organizations: [],
        last_rolled_at: null,
      });
      expect(key.id).toMatch(/^[2-9A-HJ-NP-Za-km-z]{40,50}$/);
      expect(key.created_at).toMatch(ISO);
      expect(Date.parse(key.created_at)).toBeGreaterThanOrEqual(before - 1000);

      // The value works at once, with its scopes.
      expect(ok(await me(value)).id).toBe(account.user.id);
      // It is never shown again.
      expect(ok<Key>(await retrieve(session, key.id)).value).toBeNull();
      expect(ok<Key[]>(await list(session))[0]!.value).toBeNull();
    });

    it('keeps the team and organization restrictions given', async () => {
      const { account, session } = await loggedIn();
      const key = await newKey(session, { scoped_teams: [account.teamId], scoped_organizations: [account.organizationId.toUpperCase()] });
      expect(key.scoped_teams).toEqual([account.teamId]);
      expect(key.scoped_organizations).toEqual([account.organizationId]);
      ok(await ctx.app.inject({ url: `/api/projects/${account.teamId}/`, headers: bearer(key.value) }));
    });

    it('validates with DRF\'s messages and creates nothing on failure', async () => {
      const { session } = await loggedIn();
      const stranger = await ctx.newAccount();
      const cases: [Record<string, unknown>, ReturnType<typeof invalid>][] = [
        [{ scopes: ['*'] }, invalid('This field is required.', 'label', 'required')],
        [{ label: '', scopes: ['*'] }, invalid('This field may not be blank.', 'label', 'blank')],
        [{ label: '   ', scopes: ['*'] }, invalid('This field may not be blank.', 'label', 'blank')],
        [{ label: 'x'.repeat(41), scopes: ['*'] }, invalid('Ensure this field has no more than 40 characters.', 'label', 'max_length')],
        [{ label: 'k' }, invalid('This field is required.', 'scopes', 'required')],
        [{ label: 'k', scopes: 'user:read' }, invalid('Expected a list of items but got type "str".', 'scopes', 'not_a_list')],
        [{ label: 'k', scopes: ['x'] }, invalid('Invalid scope: x', 'scopes')],
        [{ label: 'k', scopes: ['user:read', 'user:delete'] }, invalid('Invalid scope: user:delete', 'scopes')],
        [{ label: 'k', scopes: ['spaceship:read'] }, invalid('Invalid scope: spaceship:read', 'scopes')],
        [{ label: 'k', scopes: ['user:read:write'] }, invalid('Invalid scope: user:read:write', 'scopes')],
        [
          { label: 'k', scopes: ['*'], scoped_teams: [stranger.teamId] },
          invalid('You must be a member of all teams that you are scoping the key to.', 'scoped_teams'),
        ],
        [
          { label: 'k', scopes: ['*'], scoped_teams: [999_999] },
          invalid('You must be a member of all teams that you are scoping the key to.', 'scoped_teams'),
        ],
        [{ label: 'k', scopes: ['*'], scoped_organizations: ['not-a-uuid'] }, invalid('Invalid organization UUID', 'scoped_organizations')],
        [
          { label: 'k', scopes: ['*'], scoped_organizations: [stranger.organizationId] },
          invalid('You must be a member of all organizations that you are scoping the key to.', 'scoped_organizations'),
        ],
      ];
      for (const [payload, error] of cases) expectError(await create(session, payload), 400, error);
      expect(ok<Key[]>(await list(session))).toEqual([]);
    });

    it('allows ten keys; the eleventh is refused with attr null', async () => {
      const { session } = await loggedIn();
      for (let i = 0; i < 10; i += 1) await newKey(session, { label: `key ${i}` });
      expectError(
        await create(session, { label: 'eleventh', scopes: ['*'] }),
        400,
        invalid('You can only have 10 personal API keys. Remove an existing key before creating a new one.', null),
      );
      const keys = ok<Key[]>(await list(session));
      expect(keys).toHaveLength(10);
      // Deleting one makes room again.
      expect((await destroy(session, keys[0]!.id)).statusCode).toBe(204);
      await newKey(session, { label: 'replacement' });
    });

    // Without credentials: the access table.
    it('needs the CSRF token', async () => {
      const { session } = await loggedIn();
      expectError(await create({ cookie: session.cookie }, { label: 'k', scopes: ['*'] }), 403, denied('CSRF Failed: CSRF token missing.'));
    });

    it('needs a recent password entry in the session (TimeSensitiveActionPermission)', async () => {
      const { account, session } = await loggedIn();
      const key = await newKey(session);
      await ctx.database.db.execute(sql`update sessions set authenticated_at = now() - interval '3 hours' where user_id = ${account.user.id}`);
      const stale = denied('This action requires you to be recently authenticated.');
      expectError(await create(session, { label: 'k', scopes: ['*'] }), 403, stale);
      expectError(await update(session, key.id, { label: 'renamed' }), 403, stale);
      expectError(await roll(session, key.id), 403, stale);
      expectError(await destroy(session, key.id), 403, stale);
      // Reading is not sensitive.
      expect(ok<Key[]>(await list(session))).toHaveLength(1);
      ok(await retrieve(session, key.id));
    });
  });

  describe('list and retrieve', () => {
    it('lists the caller\'s keys only, newest first, as a plain array without values', async () => {
      const { account, session } = await loggedIn();
      const other = await loggedIn();
      const otherKey = await newKey(other.session, { label: 'not yours' });
      const created = [];
      for (const label of ['first', 'second', 'third']) created.push(await newKey(session, { label }));

      const keys = ok<Key[]>(await list(session));
      expect(Array.isArray(keys)).toBe(true);
      expect(keys.map((k) => k.label)).toEqual(['third', 'second', 'first']);
      expect(keys.map((k) => k.id)).not.toContain(otherKey.id);
      for (const key of keys) {
        expect(Object.keys(key)).toEqual(KEY_FIELDS);
        expect(key.value).toBeNull();
        expect(key.user_id).toBe(account.user.id);
        expect(key.mask_value).toMatch(/^phx_\.\.\.[2-9A-HJ-NP-Za-km-z]{4}$/);
      }
      expect(keys[0]!.mask_value).toBe(created[2]!.mask_value);
      ok(await ctx.app.inject({ url: '/api/personal_api_keys', headers: session }));
    });

    it('retrieves the caller\'s own key; another user\'s key is 404', async () => {
      const { session } = await loggedIn();
      const other = await loggedIn();
      const mine = await newKey(session, { label: 'mine', scopes: ['user:read'] });
      const theirs = await newKey(other.session, { label: 'theirs' });

      const body = ok<Key>(await retrieve(session, mine.id));
      expect(Object.keys(body)).toEqual(KEY_FIELDS);
      expect(body).toEqual({ ...mine, value: null });
      expect(ok<Key>(await ctx.app.inject({ url: `/api/personal_api_keys/${mine.id}`, headers: session })).id).toBe(mine.id);

      expectError(await retrieve(session, theirs.id), 404, notFound());
      expectError(await retrieve(session, 'does-not-exist'), 404, notFound());
      // Updating, rolling or deleting it is 404 too: the access table. Their key is untouched and still works.
      expect(ok<Key>(await retrieve(other.session, theirs.id)).label).toBe('theirs');
      ok(await me(theirs.value));
    });
  });

  describe('update', () => {
    it('PATCH changes the label, the scopes and the restrictions, and they apply', async () => {
      const { account, session } = await loggedIn();
      const key = await newKey(session, { label: 'before', scopes: ['user:read'] });
      ok(await me(key.value));

      const patched = ok<Key>(await update(session, key.id, { label: 'after', scopes: ['project:read'] }));
      expect(Object.keys(patched)).toEqual(KEY_FIELDS);
      expect(patched).toMatchObject({ id: key.id, label: 'after', value: null, scopes: ['project:read'], created_at: key.created_at, scoped_teams: [] });
      expect(patched.mask_value).toBe(key.mask_value);
      // The new scopes take effect at once.
      expectError(await me(key.value), 403, denied("API key missing required scope 'user:read'"));
      ok(await ctx.app.inject({ url: `/api/projects/${account.teamId}/`, headers: bearer(key.value) }));

      const second = ok(
        await ctx.app.inject({ method: 'POST', url: '/api/projects/', headers: session, payload: { name: 'Second' } }),
        201,
      );
      const restricted = ok<Key>(await update(session, key.id, { scoped_teams: [second.id] }));
      expect(restricted.scoped_teams).toEqual([second.id]);
      expectError(
        await ctx.app.inject({ url: `/api/projects/${account.teamId}/`, headers: bearer(key.value) }),
        403,
        denied(`API key does not have access to the requested project: ID ${account.teamId}.`),
      );
      ok(await ctx.app.inject({ url: `/api/projects/${second.id}/`, headers: bearer(key.value) }));
    });

    it('PUT replaces the writable fields', async () => {
      const { account, session } = await loggedIn();
      const key = await newKey(session, { label: 'put me', scopes: ['user:read'], scoped_teams: [account.teamId] });
      const body = ok<Key>(
        await update(session, key.id, { label: 'put done', scopes: ['user:write'], scoped_teams: [], scoped_organizations: [account.organizationId] }, 'PUT'),
      );
      expect(body).toMatchObject({
        id: key.id,
        label: 'put done',
        scopes: ['user:write'],
        scoped_teams: [],
        scoped_organizations: [account.organizationId],
      });
      expectError(await update(session, key.id, { label: 'no scopes' }, 'PUT'), 400, invalid('This field is required.', 'scopes', 'required'));
      expect(ok<Key>(await retrieve(session, key.id)).label).toBe('put done');
    });

    it('validates like create', async () => {
      const { session } = await loggedIn();
      const stranger = await ctx.newAccount();
      const key = await newKey(session);
      expectError(await update(session, key.id, { label: '' }), 400, invalid('This field may not be blank.', 'label', 'blank'));
      expectError(await update(session, key.id, { scopes: ['nope'] }), 400, invalid('Invalid scope: nope', 'scopes'));
      expectError(
        await update(session, key.id, { scoped_teams: [stranger.teamId] }),
        400,
        invalid('You must be a member of all teams that you are scoping the key to.', 'scoped_teams'),
      );
      expectError(await update(session, key.id, { scoped_organizations: ['123'] }), 400, invalid('Invalid organization UUID', 'scoped_organizations'));
      expect(ok<Key>(await retrieve(session, key.id))).toEqual({ ...key, value: null });
    });
  });

  describe('delete and roll', () => {
    it('DELETE answers 204 and the key stops working', async () => {
      const { session } = await loggedIn();
      const key = await newKey(session);
      ok(await me(key.value));
      const response = await destroy(session, key.id);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expectError(await me(key.value), 401, invalidKey);
      expectError(await retrieve(session, key.id), 404, notFound());
      expectError(await destroy(session, key.id), 404, notFound());
      expect(ok<Key[]>(await list(session))).toEqual([]);
    });

    it('roll gives a new value at once; the old one is 401 immediately', async () => {
      const { session } = await loggedIn();
      const key = await newKey(session, { label: 'rolling', scopes: ['user:read'] });
      // Used (and cached by the authenticator) just before the roll.
      ok(await me(key.value));
      const before = Date.now();
      const rolled = ok<Key>(await roll(session, key.id));
      expect(Object.keys(rolled)).toEqual(KEY_FIELDS);
      expect(rolled.value).toMatch(/^phx_/);
      expect(rolled.value).not.toBe(key.value);
      expect(rolled.mask_value).toBe(`phx_...${rolled.value!.slice(-4)}`);
      expect(rolled).toMatchObject({ id: key.id, label: 'rolling', scopes: ['user:read'], created_at: key.created_at, scoped_teams: [], scoped_organizations: [] });
      expect(rolled.last_rolled_at).toMatch(ISO);
      expect(Date.parse(rolled.last_rolled_at!)).toBeGreaterThanOrEqual(before - 1000);

      expectError(await me(key.value), 401, invalidKey);
      ok(await me(rolled.value!));
      const again = ok<Key>(await retrieve(session, key.id));
      expect(again).toMatchObject({ value: null, last_rolled_at: rolled.last_rolled_at, mask_value: rolled.mask_value });
      expect(ok<Key[]>(await list(session))).toHaveLength(1);
    });
  });

  describe('with personal API key authentication', () => {
    let account: TestAccount;
    let key: Key & { value: string };
    let sibling: Key & { value: string };
    let session: Record<string, string>;
    beforeAll(async () => {
      ({ account, session } = await loggedIn());
      key = await newKey(session, { label: 'self', scopes: ['*'] });
      sibling = await newKey(session, { label: 'sibling', scopes: ['user:read'] });
    });

    // Listing, creating, and changing another key of the user's: the access table.
    it('a key, even a * key, cannot update, replace, roll or delete itself', async () => {
      const headers = bearer(key.value);
      expectError(await update(headers, key.id, { label: 'x' }), 403, UNSUPPORTED);
      expectError(await update(headers, key.id, { label: 'x', scopes: ['*'] }, 'PUT'), 403, UNSUPPORTED);
      expectError(await roll(headers, key.id), 403, UNSUPPORTED);
      expectError(await destroy(headers, key.id), 403, UNSUPPORTED);
      // Nothing changed.
      const keys = ok<Key[]>(await list(session));
      expect(keys.map((k) => k.label)).toEqual(['sibling', 'self']);
      ok(await me(key.value));
      ok(await me(sibling.value));
    });

    it('GET @current returns the key itself, with or without the trailing slash', async () => {
      for (const url of ['/api/personal_api_keys/@current/', '/api/personal_api_keys/@current']) {
        const body = ok<Key>(await ctx.app.inject({ url, headers: bearer(sibling.value) }));
        expect(Object.keys(body)).toEqual(KEY_FIELDS);
        expect(body).toMatchObject({ id: sibling.id, label: 'sibling', value: null, user_id: account.user.id, scopes: ['user:read'] });
        // The MCP server's zod schema: arrays, never null, for keys created without restrictions.
        expect(body.scoped_teams).toEqual([]);
        expect(body.scoped_organizations).toEqual([]);
        // The request itself was a use.
        expect(body.last_used_at).toMatch(ISO);
      }
      // The key may also be given in the query string.
      const byQuery = ok<Key>(await ctx.app.inject({ url: `/api/personal_api_keys/@current?personal_api_key=${key.value}` }));
      expect(byQuery.id).toBe(key.id);
    });

    it('GET by its own id works; another key\'s id is 403, another user\'s key 404', async () => {
      expect(ok<Key>(await retrieve(bearer(sibling.value), sibling.id)).id).toBe(sibling.id);
      expectError(await retrieve(bearer(sibling.value), key.id), 403, UNSUPPORTED);
      const other = await loggedIn();
      const theirs = await newKey(other.session);
      expectError(await retrieve(bearer(sibling.value), theirs.id), 404, notFound());
    });

    it('is read from the header (whitespace tolerated), then the body, then the query string', async () => {
      ok(await ctx.app.inject({ url: '/api/personal_api_keys/@current/', headers: { authorization: `Bearer  ${sibling.value}  ` } }));
      const invalidIn = (source: string) => ({ ...invalidKey, detail: `Personal API key found in request ${source} is invalid.` });
      expectError(await ctx.app.inject({ url: '/api/users/@me/?personal_api_key=phx_nope' }), 401, invalidIn('query string'));
      expectError(
        await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', payload: { personal_api_key: 'phx_nope', first_name: 'x' } }),
        401,
        invalidIn('body'),
      );
      const viaBody = await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', payload: { personal_api_key: key.value, first_name: 'Body' } });
      expect(ok(viaBody).first_name).toBe('Body');
      // Only the first key found is tried: a good header wins over a bad query parameter.
      ok(await ctx.app.inject({ url: '/api/users/@me/?personal_api_key=phx_nope', headers: bearer(key.value) }));
    });

    it('stops working when its user is deactivated', async () => {
      const { account: owner, session: ownerSession } = await loggedIn();
      const doomed = await newKey(ownerSession, { label: 'doomed' });
      ok(await me(doomed.value));
      await ctx.database.db.execute(sql`update users set is_active = false where id = ${owner.user.id}`);
      ctx.services.auth.invalidateCaches();
      expectError(await me(doomed.value), 401, invalidKey);
    });

    it('an invalid key is 401 on every key endpoint', async () => {
      for (const response of [
        await list(bearer('phx_nope')),
        await retrieve(bearer('phx_nope'), '@current'),
        await create(bearer('phx_nope'), { label: 'k', scopes: ['*'] }),
      ]) {
        expectError(response, 401, invalidKey);
      }
    });
  });

  describe('storage', () => {
    it('stores sha256$<hex> of the key and the plaintext nowhere', async () => {
      const { session } = await loggedIn();
      const key = await newKey(session, { label: 'stored' });
      const rolled = ok<Key>(await roll(session, key.id));
      const [row] = await queryRows<{ secure_value: string; mask_value: string }>(
        ctx.database.db,
        sql`select secure_value, mask_value from personal_api_keys where id = ${key.id}`,
      );
      expect(row!.secure_value).toBe(`sha256$${sha256(rolled.value!)}`);
      expect(row!.mask_value).toBe(rolled.mask_value);

      // Neither value, nor its random part, appears in any column of any table.
      const tables = await queryRows<{ name: string }>(
        ctx.database.db,
        sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
      );
      expect(tables.map((t) => t.name)).toContain('personal_api_keys');
      for (const { name } of tables) {
        const rows = await queryRows<{ row: string }>(ctx.database.db, sql`select row_to_json(t)::text as row from ${sql.identifier(name)} t`);
        for (const { row } of rows) {
          for (const value of [key.value, rolled.value!]) {
            expect(row).not.toContain(value.slice(4));
          }
        }
      }
    });

    it('writes last_used_at on use, at most once an hour', async () => {
      const { account, session } = await loggedIn();
      const key = await newKey(session, { label: 'usage', scopes: ['user:read'] });
      const stored = async () => (await createApiKeysRepository(ctx.database.db).findForUser(key.id, account.user.id))!.lastUsedAt;
      expect(await stored()).toBeNull();

      ok(await me(key.value));
      const first = await stored();
      expect(first).not.toBeNull();

      // Past the authenticator's cache, the second use finds last_used_at fresh and leaves it alone.
      ctx.services.auth.invalidateCaches();
      ok(await me(key.value));
      expect(await stored()).toBe(first);
      expect(ok<Key>(await retrieve(session, key.id)).last_used_at).toBe(isoZ(first));

      // More than an hour later, the next use writes it again.
      await ctx.database.db.execute(sql`update personal_api_keys set last_used_at = now() - interval '2 hours' where id = ${key.id}`);
      const old = await stored();
      ctx.services.auth.invalidateCaches();
      ok(await me(key.value));
      const third = await stored();
      expect(epochMs(third!)).toBeGreaterThan(epochMs(old!) + 3600_000);
      expect(ok<Key>(await retrieve(session, key.id)).last_used_at).toBe(isoZ(third));
    });
  });

  describe('legacy keys', () => {
    /** A key as older PostHog versions stored it: scopes and restrictions written straight to the table. */
    async function legacyKey(userId: number, scopes: 'empty' | 'null', scopedTeams: number[] | null = null) {
      const value = `phx_legacy${Math.random().toString(36).slice(2)}${Date.now()}`;
      const id = `legacy${Math.random().toString(36).slice(2, 12)}`;
      const teams = scopedTeams === null ? sql`null` : sql`${`{${scopedTeams.join(',')}}`}::int[]`;
      await ctx.database.db.execute(sql`
        insert into personal_api_keys (id, user_id, label, secure_value, mask_value, scopes, scoped_teams, scoped_organizations)
        values (${id}, ${userId}, 'legacy', ${`sha256$${sha256(value)}`}, ${`${value.slice(0, 4)}...${value.slice(-4)}`},
                ${scopes === 'empty' ? sql`'{}'::text[]` : sql`null`}, ${teams}, null)`);
      return { id, value };
    }

    it('show scopes ["*"] and the restrictions as stored', async () => {
      const { account, session } = await loggedIn();
      for (const scopes of ['empty', 'null'] as const) {
        const legacy = await legacyKey(account.user.id, scopes);
        const body = ok<Key>(await ctx.app.inject({ url: '/api/personal_api_keys/@current', headers: bearer(legacy.value) }));
        expect(body).toMatchObject({ id: legacy.id, label: 'legacy', scopes: ['*'], scoped_teams: null, scoped_organizations: null });
        expect(ok<Key>(await retrieve(session, legacy.id)).scopes).toEqual(['*']);
      }
      expect(ok<Key[]>(await list(session)).map((k) => k.scopes)).toEqual([['*'], ['*']]);
    });

    it('have full access, before any scope or project restriction is checked', async () => {
      const { account } = await loggedIn();
      const full = await ctx.newKey(account.user);
      const second = ok(await ctx.app.inject({ method: 'POST', url: '/api/projects/', headers: bearer(full), payload: { name: 'Second' } }), 201);
      for (const scopes of ['empty', 'null'] as const) {
        // Restricted to the second project, which legacy keys ignore, as PostHog does.
        const legacy = bearer((await legacyKey(account.user.id, scopes, [second.id])).value);
        ok(await ctx.app.inject({ method: 'PATCH', url: '/api/users/@me/', headers: legacy, payload: { first_name: `Legacy ${scopes}` } }));
        ok(await ctx.app.inject({ method: 'PATCH', url: `/api/projects/${account.teamId}/`, headers: legacy, payload: { anonymize_ips: true } }));
        ok(await ctx.app.inject({ url: '/api/projects/', headers: legacy }));
        ok(await ctx.app.inject({ method: 'PATCH', url: '/api/organizations/@current/', headers: legacy, payload: { name: 'Legacy org' } }));
        // Membership still applies.
        const stranger = await ctx.newAccount();
        expectError(await ctx.app.inject({ url: `/api/projects/${stranger.teamId}/`, headers: legacy }), 403, denied("You don't have access to the project."));
      }
    });

    it('still cannot manage keys: PostHog\'s self-access rule does not look at scopes', async () => {
      const { account, session } = await loggedIn();
      const legacy = await legacyKey(account.user.id, 'empty');
      const headers = bearer(legacy.value);
      expectError(await list(headers), 403, UNSUPPORTED);
      expectError(await create(headers, { label: 'minted', scopes: ['*'] }), 403, UNSUPPORTED);
      expectError(await update(headers, legacy.id, { scopes: ['user:read'] }), 403, UNSUPPORTED);
      expectError(await roll(headers, legacy.id), 403, UNSUPPORTED);
      expectError(await destroy(headers, legacy.id), 403, UNSUPPORTED);
      expect(ok<Key>(await retrieve(headers, legacy.id)).id).toBe(legacy.id);
      expect(ok<Key[]>(await list(session))).toHaveLength(1);
    });
  });
});
