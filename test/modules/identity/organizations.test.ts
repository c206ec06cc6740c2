import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MembershipLevel } from '../../../src/db/enums.js';
import { type AccessRow, accessTable, readBack } from '../../helpers/access-table.js';
import { denied, expectError, invalid, notFound, ok, sessionHeaders } from '../../helpers/api.js';
import { bearer, createTestContext, type TestContext } from '../../helpers/context.js';
import { type Factories, factories, type Tenant } from '../../helpers/factories.js';
import { expectPostHogSchema } from '../../helpers/posthog-schemas.js';

const ORGANIZATION_FIELDS = [
  'id',
  'name',
  'slug',
  'logo_media_id',
  'created_at',
  'updated_at',
  'membership_level',
  'plugins_access_level',
  'teams',
  'projects',
  'available_product_features',
  'is_member_join_email_enabled',
  'metadata',
  'customer_id',
  'enforce_2fa',
  'members_can_invite',
  'members_can_use_personal_api_keys',
  'allow_publicly_shared_resources',
  'member_count',
  'is_ai_data_processing_approved',
  'default_experiment_stats_method',
];

const INSUFFICIENT = 'Your organization access level is insufficient.';

describe('/api/organizations/', () => {
  let ctx: TestContext;
  let make: Factories;
  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  /** The owner's organization, which a refused PATCH must leave alone. */
  const unchanged: AccessRow['object'] = (owner) => readBack(owner, '', `/api/organizations/${owner.organizationId}/`);

  // Keys, scopes, credentials, and another organization's 404s for every route.
  accessTable(() => ctx, [
    { method: 'GET', path: '/api/organizations/', scope: 'organization:read', status: 200 },
    { method: 'POST', path: '/api/organizations/', scope: 'organization:write', body: { name: 'Made by the table' }, status: 201 },
    { method: 'GET', path: '/api/organizations/:org/', scope: 'organization:read', status: 200 },
    { method: 'PATCH', path: '/api/organizations/:org/', scope: 'organization:write', object: unchanged, body: { name: 'Renamed by the table' }, status: 200 },
    { method: 'GET', path: '/api/organizations/:org/projects/', scope: 'project:read', status: 200 },
  ]);

  const get = (url: string, headers: Record<string, string>) => ctx.app.inject({ url, headers });
  const post = (url: string, headers: Record<string, string>, payload: unknown) => ctx.app.inject({ method: 'POST', url, headers, payload: payload as object });
  const patch = (url: string, headers: Record<string, string>, payload: unknown) => ctx.app.inject({ method: 'PATCH', url, headers, payload: payload as object });

  describe('list', () => {
    it('is a DRF page of the caller\'s organizations only, in PostHog\'s Organization shape', async () => {
      const account = await ctx.newAccount({ organizationName: 'Listed One' });
      await ctx.newAccount({ organizationName: 'Somebody Else' });
      const key = bearer(await ctx.newKey(account.user));
      const created = ok(await post('/api/organizations/', key, { name: 'Listed Two' }), 201);

      const page = ok(await get('/api/organizations/', key));
      expect(Object.keys(page)).toEqual(['count', 'next', 'previous', 'results']);
      expect(page).toMatchObject({ count: 2, next: null, previous: null });
      expect(page.results.map((o: { name: string }) => o.name)).toEqual(['Listed One', 'Listed Two']);
      expect(page.results.map((o: { id: string }) => o.id)).toEqual([account.organizationId, created.id]);
      for (const organization of page.results) {
        expectPostHogSchema(organization, 'Organization');
        expect(Object.keys(organization).slice(0, ORGANIZATION_FIELDS.length)).toEqual(ORGANIZATION_FIELDS);
        expect(organization.membership_level).toBe(MembershipLevel.owner);
      }
    });

    it('paginates with limit and offset, links absolute with sorted query keys', async () => {
      const account = await make.tenant();
      const key = account.headers;
      for (const name of ['B', 'C']) ok(await post('/api/organizations/', key, { name }), 201);

      const first = ok(await get('/api/organizations/?limit=1', key));
      expect(first.count).toBe(3);
      expect(first.results).toHaveLength(1);
      expect(first.previous).toBeNull();
      expect(first.next).toMatch(/^http:\/\/[^/]+\/api\/organizations\/\?limit=1&offset=1$/);

      const second = ok(await get('/api/organizations/?offset=1&limit=1', key));
      expect(second.results[0].name).toBe('B');
      expect(second.next).toMatch(/\/api\/organizations\/\?limit=1&offset=2$/);
      expect(second.previous).toMatch(/\/api\/organizations\/\?limit=1$/);

      const last = ok(await get('/api/organizations/?limit=1&offset=2', key));
      expect(last.results[0].name).toBe('C');
      expect(last.next).toBeNull();
      expect(last.previous).toMatch(/\/api\/organizations\/\?limit=1&offset=1$/);
    });
  });

  describe('create', () => {
    it('answers 201; the creator owns it, gets a "Default project" and switches to it', async () => {
      const account = await make.tenant();
      const key = account.headers;
      const response = await post('/api/organizations/', key, { name: 'Brand New' });
      const body = ok(response, 201);
      expectPostHogSchema(body, 'Organization');
      expect(Object.keys(body).slice(0, ORGANIZATION_FIELDS.length)).toEqual(ORGANIZATION_FIELDS);
      expect(body).toMatchObject({
        name: 'Brand New',
        slug: 'brand-new',
        membership_level: MembershipLevel.owner,
        member_count: 1,
        members_can_use_personal_api_keys: true,
        logo_media_id: null,
        metadata: { instance_tag: expect.any(String) },
      });
      expect(body.teams).toHaveLength(1);
      const team = body.teams[0];
      expectPostHogSchema(team, 'TeamBasic');
      expect(team).toMatchObject({ name: 'Default project', organization: body.id, project_id: team.id });
      expect(body.projects).toEqual([{ id: team.id, organization_id: body.id, name: 'Default project' }]);

      const me = ok(await get('/api/users/@me/', key));
      expect(me.organization.id).toBe(body.id);
      expect(me.team.id).toBe(team.id);
      expect(me.organizations).toHaveLength(2);
      expect(ok(await get('/api/organizations/@current/', key)).id).toBe(body.id);
    });

    it('gives a taken name its own slug', async () => {
      const account = await make.tenant();
      const key = account.headers;
      const a = ok(await post('/api/organizations/', key, { name: 'Same Name' }), 201);
      const b = ok(await post('/api/organizations/', key, { name: 'Same Name' }), 201);
      expect(a.slug).not.toBe(b.slug);
      expect(b.slug).toMatch(/^same-name/);
    });

    it('validates the name', async () => {
      const account = await make.tenant();
      const key = account.headers;
      expectError(await post('/api/organizations/', key, {}), 400, invalid('This field is required.', 'name', 'required'));
      expectError(await post('/api/organizations/', key, { name: '' }), 400, invalid('This field may not be blank.', 'name', 'blank'));
      expectError(
        await post('/api/organizations/', key, { name: 'x'.repeat(65) }),
        400,
        invalid('Ensure this field has no more than 64 characters.', 'name', 'max_length'),
      );
    });

    it('works from a browser session', async () => {
      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      const body = ok(await post('/api/organizations/', sessionHeaders(session), { name: 'From the browser' }), 201);
      expectPostHogSchema(body, 'Organization');
    });
  });

  describe('retrieve', () => {
    let account: Tenant;
    let key: Record<string, string>;
    beforeAll(async () => {
      account = await make.tenant({ organizationName: 'Retrievable' });
      key = account.headers;
    });

    it('by id and by @current, with or without the trailing slash', async () => {
      const byId = ok(await get(`/api/organizations/${account.organizationId}/`, key));
      expectPostHogSchema(byId, 'Organization');
      expect(byId).toMatchObject({ id: account.organizationId, name: 'Retrievable', membership_level: MembershipLevel.owner });
      expect(byId.teams.map((t: { id: number }) => t.id)).toEqual([account.teamId]);
      expect(ok(await get('/api/organizations/@current/', key))).toEqual(byId);
      expect(ok(await get(`/api/organizations/${account.organizationId}`, key))).toEqual(byId);
      expect(ok(await get('/api/organizations/@current', key))).toEqual(byId);
    });

    // Another organization's id: the access table.
    it('hides organizations that do not exist: 404 "Not found."', async () => {
      expectError(await get('/api/organizations/01900000-0000-7000-8000-000000000000/', key), 404, notFound());
      expectError(await get('/api/organizations/not-a-uuid/', key), 404, notFound());
    });

    it('counts members and shows each member their own level', async () => {
      const owner = await ctx.newAccount();
      const admin = await make.member(owner, MembershipLevel.admin);
      const plain = await make.member(owner, MembershipLevel.member);
      const asAdmin = ok(await get(`/api/organizations/${owner.organizationId}/`, bearer(admin.key)));
      expect(asAdmin.membership_level).toBe(MembershipLevel.admin);
      expect(asAdmin.member_count).toBe(3);
      expectPostHogSchema(asAdmin, 'Organization');
      const asMember = ok(await get(`/api/organizations/${owner.organizationId}/`, bearer(plain.key)));
      expect(asMember.membership_level).toBe(MembershipLevel.member);
    });
  });

  describe('update', () => {
    it('an owner or an admin may rename; a member gets 403', async () => {
      const owner = await ctx.newAccount({ organizationName: 'Before' });
      const url = `/api/organizations/${owner.organizationId}/`;
      const renamed = ok(await patch(url, bearer(await ctx.newKey(owner.user)), { name: 'After' }));
      expectPostHogSchema(renamed, 'Organization');
      expect(renamed.name).toBe('After');
      expect(Date.parse(renamed.updated_at)).toBeGreaterThanOrEqual(Date.parse(renamed.created_at));

      const admin = await make.member(owner, MembershipLevel.admin);
      expect(ok(await patch(url, bearer(admin.key), { name: 'By admin' })).name).toBe('By admin');

      const plain = await make.member(owner, MembershipLevel.member);
      expectError(await patch(url, bearer(plain.key), { name: 'By member' }), 403, denied(INSUFFICIENT));
      expectError(await patch('/api/organizations/@current/', bearer(plain.key), { name: 'By member' }), 403, denied(INSUFFICIENT));
      // A member's browser session is refused the same way.
      const session = await ctx.login(plain.user.email);
      expectError(await patch(url, sessionHeaders(session), { name: 'By member' }), 403, denied(INSUFFICIENT));
      expect(ok(await get(url, bearer(plain.key))).name).toBe('By admin');
    });

    it('PATCH @current updates the current organization; validation errors are DRF\'s', async () => {
      const owner = await make.tenant();
      const key = owner.headers;
      expect(ok(await patch('/api/organizations/@current/', key, { name: 'Current' })).name).toBe('Current');
      expectError(await patch('/api/organizations/@current/', key, { name: '' }), 400, invalid('This field may not be blank.', 'name', 'blank'));
      expectError(
        await patch('/api/organizations/@current/', key, { members_can_use_personal_api_keys: 'maybe' }),
        400,
        invalid('Must be a valid boolean.', 'members_can_use_personal_api_keys'),
      );
    });
  });

  describe('/api/organizations/:id/projects/', () => {
    it('lists the organization\'s projects as a DRF page', async () => {
      const owner = await make.tenant();
      const key = owner.headers;
      const second = ok(await post('/api/projects/', key, { name: 'Second project' }), 201);
      const page = ok(await get(`/api/organizations/${owner.organizationId}/projects/`, key));
      expect(Object.keys(page)).toEqual(['count', 'next', 'previous', 'results']);
      expect(page.count).toBe(2);
      expect(page.results.map((p: { id: number; name: string }) => [p.id, p.name])).toEqual([
        [owner.teamId, 'Default project'],
        [second.id, 'Second project'],
      ]);
      for (const project of page.results) {
        expect(Object.keys(project)).toEqual([
          'id',
          'uuid',
          'organization',
          'api_token',
          'name',
          'completed_snippet_onboarding',
          'has_completed_onboarding_for',
          'ingested_event',
          'is_demo',
          'timezone',
          'access_control',
        ]);
        expect(project.organization).toBe(owner.organizationId);
      }
      const limited = ok(await get('/api/organizations/@current/projects/?limit=1', key));
      expect(limited.results).toHaveLength(1);
      expect(limited.next).toMatch(/\/api\/organizations\/@current\/projects\/\?limit=1&offset=1$/);
    });
  });

  describe('personal API keys', () => {
    it('scoped_organizations: another of the user\'s organizations is 403', async () => {
      const owner = await make.tenant();
      const key = owner.headers;
      const other = ok(await post('/api/organizations/', key, { name: 'Outside the key' }), 201);
      const scoped = bearer(await ctx.newKey(owner.user, { scoped_organizations: [owner.organizationId] }));
      const message = denied(`API key does not have access to the requested organization: ID ${other.id}.`);
      expectError(await get(`/api/organizations/${other.id}/`, scoped), 403, message);
      expectError(await patch(`/api/organizations/${other.id}/`, scoped, { name: 'No' }), 403, message);
      expectError(await get(`/api/organizations/${other.id}/projects/`, scoped), 403, message);
      // @current is the organization created last, which the key does not cover.
      expectError(await get('/api/organizations/@current/', scoped), 403, message);
      expectError(await get(`/api/projects/${other.teams[0].id}/`, scoped), 403, message);
      ok(await get(`/api/organizations/${owner.organizationId}/`, scoped));
      ok(await get(`/api/projects/${owner.teamId}/`, scoped));
    });

    it('scoped_teams keys are refused on organization endpoints, which have no project', async () => {
      const owner = await ctx.newAccount();
      const scoped = bearer(await ctx.newKey(owner.user, { scoped_teams: [owner.teamId] }));
      const message = denied('API keys with scoped projects are only supported on project-based endpoints.');
      expectError(await get('/api/organizations/', scoped), 403, message);
      expectError(await get(`/api/organizations/${owner.organizationId}/`, scoped), 403, message);
      expectError(await post('/api/organizations/', scoped, { name: 'x' }), 403, message);
      ok(await get(`/api/projects/${owner.teamId}/`, scoped));
    });

    it('an organization that disallows keys refuses members\' keys but not admins\'', async () => {
      const owner = await make.tenant({ organizationName: 'Strict Org' });
      const ownerKey = owner.headers;
      const plain = await make.member(owner, MembershipLevel.member);
      const admin = await make.member(owner, MembershipLevel.admin);
      const url = `/api/organizations/${owner.organizationId}/`;

      const updated = ok(await patch(url, ownerKey, { members_can_use_personal_api_keys: false }));
      expect(updated.members_can_use_personal_api_keys).toBe(false);
      expect(ok(await get('/api/users/@me/', ownerKey)).organizations[0].members_can_use_personal_api_keys).toBe(false);

      const message = denied(
        "Organization 'Strict Org' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.",
      );
      expectError(await get(url, bearer(plain.key)), 403, message);
      expectError(await get(`/api/projects/${owner.teamId}/`, bearer(plain.key)), 403, message);
      expectError(await get(`/api/environments/${owner.teamId}/`, bearer(plain.key)), 403, message);
      expectError(await get('/api/projects/@current/', bearer(plain.key)), 403, message);
      // The user's own account is not an organization resource.
      ok(await get('/api/users/@me/', bearer(plain.key)));
      // The member's browser session is unaffected.
      ok(await get(url, { cookie: (await ctx.login(plain.user.email)).cookie }));

      ok(await get(url, bearer(admin.key)));
      ok(await get(`/api/projects/${owner.teamId}/`, bearer(admin.key)));
      ok(await get(`/api/projects/${owner.teamId}/`, ownerKey));

      ok(await patch(url, ownerKey, { members_can_use_personal_api_keys: true }));
      ok(await get(url, bearer(plain.key)));
    });
  });
});
