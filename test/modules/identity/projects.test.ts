import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MembershipLevel } from '../../../src/db/enums.js';
import { type AccessRow, accessTable, readBack } from '../../helpers/access-table.js';
import { denied, expectError, invalid, notFound, ok, sessionHeaders } from '../../helpers/api.js';
import { bearer, createTestContext, type TestContext } from '../../helpers/context.js';
import { type Factories, factories, type Tenant } from '../../helpers/factories.js';
import { expectPostHogSchema } from '../../helpers/posthog-schemas.js';

const PROJECT_BASIC_FIELDS = [
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
];

const NO_ACCESS = denied("You don't have access to the project.");
const PROJECT_NOT_FOUND = notFound('Project not found.');
const INSUFFICIENT = denied('Your organization access level is insufficient.');

describe('/api/projects/ and /api/environments/', () => {
  let ctx: TestContext;
  let make: Factories;
  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  /** The owner's project, which a refused PATCH must leave alone. */
  const unchanged: AccessRow['object'] = (owner) => readBack(owner, '', `/api/projects/${owner.teamId}/`);

  // Keys, scopes, credentials and another organization's 403s for every route.
  accessTable(() => ctx, [
    { method: 'GET', path: '/api/projects/', scope: 'project:read', status: 200 },
    { method: 'POST', path: '/api/projects/', scope: 'project:write', body: { name: 'Made by the table' }, status: 201 },
    { method: 'GET', path: '/api/projects/:team/', scope: 'project:read', status: 200 },
    { method: 'PATCH', path: '/api/projects/:team/', scope: 'project:write', object: unchanged, body: { name: 'Renamed by the table' }, status: 200 },
    { method: 'GET', path: '/api/environments/', scope: 'project:read', status: 200 },
    { method: 'GET', path: '/api/environments/:team/', scope: 'project:read', status: 200 },
  ]);

  const get = (url: string, headers: Record<string, string>) => ctx.app.inject({ url, headers });
  const post = (url: string, headers: Record<string, string>, payload: unknown) => ctx.app.inject({ method: 'POST', url, headers, payload: payload as object });
  const patch = (url: string, headers: Record<string, string>, payload: unknown) => ctx.app.inject({ method: 'PATCH', url, headers, payload: payload as object });

  describe('list', () => {
    it('/api/projects/ is a DRF page of the projects in all the caller\'s organizations', async () => {
      const account = await ctx.newAccount();
      const stranger = await ctx.newAccount();
      const key = bearer(await ctx.newKey(account.user));
      const secondOrg = ok(await post('/api/organizations/', key, { name: 'Second' }), 201);

      const page = ok(await get('/api/projects/', key));
      expect(Object.keys(page)).toEqual(['count', 'next', 'previous', 'results']);
      expect(page).toMatchObject({ count: 2, next: null, previous: null });
      expect(page.results.map((p: { id: number }) => p.id)).toEqual([account.teamId, secondOrg.teams[0].id]);
      expect(page.results.map((p: { id: number }) => p.id)).not.toContain(stranger.teamId);
      for (const project of page.results) {
        expect(Object.keys(project)).toEqual(PROJECT_BASIC_FIELDS);
        expect(project.api_token).toMatch(/^phc_/);
        expect(project.name).toBe('Default project');
      }
      expect(page.results[0].organization).toBe(account.organizationId);

      const limited = ok(await get('/api/projects?limit=1&offset=1', key));
      expect(limited.results.map((p: { id: number }) => p.id)).toEqual([secondOrg.teams[0].id]);
      expect(limited.previous).toMatch(/\/api\/projects\?limit=1$/);
    });

    it('/api/environments/ is a DRF page of PostHog\'s TeamBasic', async () => {
      const account = await make.tenant();
      const key = account.headers;
      const page = ok(await get('/api/environments/', key));
      expect(page).toMatchObject({ count: 1, next: null, previous: null });
      const [team] = page.results;
      expectPostHogSchema(team, 'TeamBasic');
      expect(team).toMatchObject({ id: account.teamId, organization: account.organizationId, project_id: account.teamId, name: 'Default project' });
    });
  });

  describe('create', () => {
    it('an owner creates a project in the current organization and switches to it', async () => {
      const account = await make.tenant();
      const key = account.headers;
      const body = ok(await post('/api/projects/', key, { name: 'Website', timezone: 'Europe/Berlin' }), 201);
      expect(body).toMatchObject({
        name: 'Website',
        organization: account.organizationId,
        timezone: 'Europe/Berlin',
        effective_membership_level: MembershipLevel.owner,
      });
      expect(body.id).not.toBe(account.teamId);
      expect(body.project_id).toBe(body.id);
      expect(body.api_token).toMatch(/^phc_/);
      expect(body.secret_api_token).toMatch(/^phs_/);

      const me = ok(await get('/api/users/@me/', key));
      expect(me.team.id).toBe(body.id);
      expect(me.team.name).toBe('Website');
      expect(ok(await get('/api/projects/@current/', key)).id).toBe(body.id);
      expect(ok(await get('/api/projects/', key)).count).toBe(2);
      const organization = ok(await get('/api/organizations/@current/', key));
      expect(organization.projects.map((p: { name: string }) => p.name)).toEqual(['Default project', 'Website']);
      for (const team of organization.teams) expectPostHogSchema(team, 'TeamBasic');
    });

    it('names a project "Default project" when no name is given', async () => {
      const account = await ctx.newAccount();
      const body = ok(await post('/api/projects/', bearer(await ctx.newKey(account.user)), {}), 201);
      expect(body.name).toBe('Default project');
    });

    it('admins may create; members get 403', async () => {
      const owner = await ctx.newAccount();
      const admin = await make.member(owner, MembershipLevel.admin);
      const plain = await make.member(owner, MembershipLevel.member);
      ok(await post('/api/projects/', bearer(admin.key), { name: 'By admin' }), 201);
      expectError(await post('/api/projects/', bearer(plain.key), { name: 'By member' }), 403, INSUFFICIENT);
      const session = await ctx.login(plain.user.email);
      expectError(await post('/api/projects/', sessionHeaders(session), { name: 'By member' }), 403, INSUFFICIENT);
      const names = ok(await get('/api/projects/', bearer(await ctx.newKey(owner.user)))).results.map((p: { name: string }) => p.name);
      expect(names).toEqual(['Default project', 'By admin']);
    });

    it('validates fields', async () => {
      const account = await make.tenant();
      const key = account.headers;
      expectError(await post('/api/projects/', key, { name: '' }), 400, invalid('This field may not be blank.', 'name', 'blank'));
      expectError(await post('/api/projects/', key, { timezone: 'Mars/Olympus' }), 400, invalid('"Mars/Olympus" is not a valid choice.', 'timezone', 'invalid_choice'));
      expect(ok(await get('/api/projects/', key)).count).toBe(1);
    });

    it('takes PostHog’s time zones, the old names and the new (pytz.all_timezones), spelled as it spells them', async () => {
      const account = await make.tenant();
      const url = `/api/projects/${account.teamId}/`;
      // Asia/Kolkata, Europe/Kyiv and US/Pacific are not in Intl.supportedValuesOf; Asia/Calcutta is.
      for (const timezone of ['Asia/Kolkata', 'Asia/Calcutta', 'Europe/Kyiv', 'US/Pacific', 'Etc/GMT+5', 'UTC']) {
        expect(ok(await patch(url, account.headers, { timezone })).timezone).toBe(timezone);
      }
      for (const timezone of ['asia/kolkata', 'America/Coyhaique', 'utc']) {
        expectError(await patch(url, account.headers, { timezone }), 400, invalid(`"${timezone}" is not a valid choice.`, 'timezone', 'invalid_choice'));
      }
    });
  });

  describe('retrieve and update', () => {
    let account: Tenant;
    let key: Record<string, string>;
    beforeAll(async () => {
      account = await make.tenant();
      key = account.headers;
    });

    it('retrieves by id and by @current under both prefixes', async () => {
      const byId = ok(await get(`/api/projects/${account.teamId}/`, key));
      expect(byId).toMatchObject({ id: account.teamId, project_id: account.teamId, organization: account.organizationId, name: 'Default project' });
      expect(Object.keys(byId).slice(0, 5)).toEqual(['id', 'organization', 'name', 'created_at', 'effective_membership_level']);
      expect(ok(await get('/api/projects/@current/', key))).toEqual(byId);
      expect(ok(await get(`/api/projects/${account.teamId}`, key))).toEqual(byId);
      expect(ok(await get(`/api/environments/${account.teamId}/`, key))).toEqual(byId);
      expect(ok(await get('/api/environments/@current', key))).toEqual(byId);
    });

    it('returns PostHog\'s project settings with their defaults', async () => {
      const fresh = await ctx.newAccount();
      const body = ok(await get('/api/projects/@current/', bearer(await ctx.newKey(fresh.user))));
      expect(body).toMatchObject({
        timezone: 'UTC',
        app_urls: [],
        anonymize_ips: false,
        completed_snippet_onboarding: false,
        ingested_event: false,
        is_demo: false,
        access_control: false,
        has_group_types: false,
        group_types: [],
        effective_membership_level: MembershipLevel.owner,
        product_description: null,
        test_account_filters: [],
        test_account_filters_default_checked: null,
        path_cleaning_filters: [],
        data_attributes: ['data-attr'],
        correlation_config: {},
        autocapture_opt_out: null,
        session_recording_opt_in: false,
        session_recording_sample_rate: null,
        capture_dead_clicks: false,
        week_start_day: null,
        primary_dashboard: null,
        recording_domains: null,
        surveys_opt_in: null,
        heatmaps_opt_in: null,
        flags_persistence_default: false,
        base_currency: 'USD',
        is_pending_deletion: false,
      });
      expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
    });

    it('PATCH by id and @current changes names and settings, and keeps the rest', async () => {
      const own = await make.tenant();
      const ownKey = own.headers;
      const first = ok(
        await patch(`/api/projects/${own.teamId}/`, ownKey, {
          name: 'Renamed',
          anonymize_ips: true,
          app_urls: ['https://example.com'],
          timezone: 'America/New_York',
          week_start_day: 1,
          session_recording_opt_in: true,
          test_account_filters: [{ key: 'email', value: '@example.com', operator: 'not_icontains', type: 'person' }],
        }),
      );
      expect(first).toMatchObject({
        name: 'Renamed',
        anonymize_ips: true,
        app_urls: ['https://example.com'],
        timezone: 'America/New_York',
        week_start_day: 1,
        session_recording_opt_in: true,
        data_attributes: ['data-attr'],
        base_currency: 'USD',
      });
      expect(Date.parse(first.updated_at)).toBeGreaterThanOrEqual(Date.parse(first.created_at));

      const second = ok(await patch('/api/projects/@current/', ownKey, { base_currency: 'EUR', data_attributes: ['data-test'] }));
      expect(second).toMatchObject({ name: 'Renamed', timezone: 'America/New_York', week_start_day: 1, base_currency: 'EUR', data_attributes: ['data-test'] });
      expect(second.test_account_filters).toHaveLength(1);

      // Every view of the team agrees.
      expect(ok(await get(`/api/environments/${own.teamId}/`, ownKey))).toEqual(second);
      const me = ok(await get('/api/users/@me/', ownKey));
      expect(me.team).toMatchObject({ name: 'Renamed', timezone: 'America/New_York' });
      expectPostHogSchema(me.team, 'TeamBasic');
      expect(ok(await get('/api/projects/', ownKey)).results[0].name).toBe('Renamed');
      expect(ok(await get('/api/organizations/@current/', ownKey)).projects[0].name).toBe('Renamed');
    });

    it('validates settings with DRF\'s messages', async () => {
      const url = `/api/projects/${account.teamId}/`;
      expectError(await patch(url, key, { timezone: 'x' }), 400, invalid('"x" is not a valid choice.', 'timezone', 'invalid_choice'));
      expectError(await patch(url, key, { week_start_day: 3 }), 400, invalid('"3" is not a valid choice.', 'week_start_day', 'invalid_choice'));
      expectError(await patch(url, key, { name: '' }), 400, invalid('This field may not be blank.', 'name', 'blank'));
      expectError(await patch(url, key, { anonymize_ips: 'sometimes' }), 400, invalid('Must be a valid boolean.', 'anonymize_ips'));
      expectError(
        await patch(url, key, { app_urls: 'https://example.com' }),
        400,
        invalid('Expected a list of items but got type "str".', 'app_urls', 'not_a_list'),
      );
      expect(ok(await get(url, key)).timezone).toBe('UTC');
    });

    it('members of the organization may read and edit its projects', async () => {
      const owner = await ctx.newAccount();
      const plain = await make.member(owner, MembershipLevel.member);
      const body = ok(await get(`/api/projects/${owner.teamId}/`, bearer(plain.key)));
      expect(body.effective_membership_level).toBe(MembershipLevel.member);
      expect(body.user_access_level).toBe('member');
      ok(await patch(`/api/projects/${owner.teamId}/`, bearer(plain.key), { session_recording_opt_in: true }));
    });
  });

  describe('tenant isolation', () => {
    let mine: Tenant;
    let theirs: Tenant;
    let key: Record<string, string>;
    beforeAll(async () => {
      mine = await make.tenant({ organizationName: 'Mine' });
      theirs = await make.tenant({ organizationName: 'Theirs' });
      key = mine.headers;
    });

    // With a key: the access table.
    it('another organization\'s team is 403 under both prefixes for a browser session too, and stays as it was', async () => {
      const session = sessionHeaders(await ctx.login(mine.user.email));
      for (const prefix of ['projects', 'environments']) {
        expectError(await get(`/api/${prefix}/${theirs.teamId}/`, session), 403, NO_ACCESS);
      }
      expectError(await patch(`/api/projects/${theirs.teamId}/`, session, { name: 'Pwned' }), 403, NO_ACCESS);
      expect(ok(await get(`/api/projects/${theirs.teamId}/`, theirs.headers)).name).toBe('Default project');
    });

    it('an unknown or malformed team id is 404 "Project not found."', async () => {
      for (const id of ['999999', 'abc', '1.5', '99999999999999999999', '-1']) {
        for (const prefix of ['projects', 'environments']) {
          expectError(await get(`/api/${prefix}/${id}/`, key), 404, PROJECT_NOT_FOUND);
        }
      }
      expectError(await patch('/api/projects/999999/', key, { name: 'x' }), 404, PROJECT_NOT_FOUND);
      const session = await ctx.login(mine.user.email);
      expectError(await get('/api/projects/999999/', { cookie: session.cookie }), 404, PROJECT_NOT_FOUND);
    });

    it('scoped_teams: a team outside the key is 403 naming it; lists are refused', async () => {
      const second = ok(await post('/api/projects/', key, { name: 'Second' }), 201);
      const scoped = bearer(await ctx.newKey(mine.user, { scoped_teams: [mine.teamId] }));
      ok(await get(`/api/projects/${mine.teamId}/`, scoped));
      ok(await patch(`/api/projects/${mine.teamId}/`, scoped, { name: 'Allowed' }));
      const outside = denied(`API key does not have access to the requested project: ID ${second.id}.`);
      expectError(await get(`/api/projects/${second.id}/`, scoped), 403, outside);
      expectError(await get(`/api/environments/${second.id}/`, scoped), 403, outside);
      expectError(await patch(`/api/projects/${second.id}/`, scoped, { name: 'No' }), 403, outside);
      // @current follows the user, who switched to the new project when creating it.
      expectError(await get('/api/projects/@current/', scoped), 403, outside);
      // A scoped key never reaches another organization's team either, and learns nothing more about it.
      expectError(
        await get(`/api/projects/${theirs.teamId}/`, scoped),
        403,
        denied(`API key does not have access to the requested project: ID ${theirs.teamId}.`),
      );
      const teamless = denied('API keys with scoped projects are only supported on project-based endpoints.');
      expectError(await get('/api/projects/', scoped), 403, teamless);
      expectError(await get('/api/environments/', scoped), 403, teamless);
      expectError(await post('/api/projects/', scoped, { name: 'No' }), 403, teamless);
    });

    it('scoped_organizations: a team of another of the user\'s organizations is 403', async () => {
      const account = await make.tenant();
      const full = account.headers;
      const other = ok(await post('/api/organizations/', full, { name: 'Other' }), 201);
      const scoped = bearer(await ctx.newKey(account.user, { scoped_organizations: [account.organizationId] }));
      const message = denied(`API key does not have access to the requested organization: ID ${other.id}.`);
      expectError(await get(`/api/projects/${other.teams[0].id}/`, scoped), 403, message);
      expectError(await get(`/api/environments/${other.teams[0].id}/`, scoped), 403, message);
      ok(await get(`/api/projects/${account.teamId}/`, scoped));
      ok(await get(`/api/environments/${account.teamId}/`, scoped));
    });
  });
});
