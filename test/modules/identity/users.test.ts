import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { MembershipLevel } from '../../../src/db/enums.js';
import { users } from '../../../src/db/schema/index.js';
import { accessTable } from '../../helpers/access-table.js';
import { denied, expectError, invalid, notAuthenticated, notFound, ok, sessionHeaders } from '../../helpers/api.js';
import { bearer, createTestContext, STRONG_PASSWORD, type TestAccount, type TestContext } from '../../helpers/context.js';
import { type Factories, factories } from '../../helpers/factories.js';
import { expectPostHogSchema } from '../../helpers/posthog-schemas.js';

describe('/api/users/', () => {
  let ctx: TestContext;
  let make: Factories;
  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  // Keys, scopes and credentials (the user is no tenant's: another organization does not come into it).
  accessTable(() => ctx, [
    { method: 'GET', path: '/api/users/@me/', scope: 'user:read', status: 200 },
    { method: 'PATCH', path: '/api/users/@me/', scope: 'user:write', body: { first_name: 'Table' }, status: 200 },
  ]);

  const me = (headers: Record<string, string>, path = '@me') => ctx.app.inject({ url: `/api/users/${path}/`, headers });
  const patchMe = (headers: Record<string, string>, payload: Record<string, unknown>, path = '@me') =>
    ctx.app.inject({ method: 'PATCH', url: `/api/users/${path}/`, headers, payload });

  describe('GET @me', () => {
    it('returns PostHog\'s User with a key, for a user with a role', async () => {
      const account = await ctx.newAccount({ roleAtOrganization: 'engineering', organizationName: 'Acme' });
      const body = ok(await me(bearer(await ctx.newKey(account.user))));
      expectPostHogSchema(body, 'User');
      expect(body.role_at_organization).toBe('engineering');
      expect(body).toMatchObject({
        id: account.user.id,
        uuid: account.user.uuid,
        email: account.user.email,
        first_name: account.user.firstName,
        has_password: true,
        is_email_verified: false,
        pending_email: null,
        is_impersonated: false,
        is_2fa_enabled: false,
        // Only a session has a sensitive-action window.
        sensitive_session_expires_at: null,
      });
      expect(body).not.toHaveProperty('password');
      expect(body).not.toHaveProperty('current_password');
      expect(body).not.toHaveProperty('set_current_team');
      // UserSerializer's field order, as PostHog sends it (write-only fields absent).
      expect(Object.keys(body).slice(0, 8)).toEqual([
        'date_joined',
        'uuid',
        'distinct_id',
        'first_name',
        'last_name',
        'email',
        'pending_email',
        'is_email_verified',
      ]);
      expect(body.date_joined).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
    });

    it('returns a User without a role: role_at_organization is null (published schema erratum)', async () => {
      const account = await ctx.newAccount();
      const body = ok(await me(bearer(await ctx.newKey(account.user))));
      expect(body.role_at_organization).toBeNull();
      expectPostHogSchema(body, 'User');
    });

    it('nests the current team, the current organization and every membership', async () => {
      const account = await ctx.newAccount({ organizationName: 'First Org' });
      const key = await ctx.newKey(account.user);
      const second = ok(
        await ctx.app.inject({ method: 'POST', url: '/api/organizations/', headers: bearer(key), payload: { name: 'Second Org' } }),
        201,
      );
      const body = ok(await me(bearer(key)));
      expectPostHogSchema(body, 'User');

      // Creating an organization switched the user to it and to its default project.
      expect(body.organization.id).toBe(second.id);
      expect(body.organization.name).toBe('Second Org');
      expect(body.organization.membership_level).toBe(MembershipLevel.owner);
      expect(body.organization.member_count).toBe(1);
      expect(body.organization.teams.map((t: { id: number }) => t.id)).toEqual([body.team.id]);
      expectPostHogSchema(body.organization, 'Organization');

      expect(body.team).toMatchObject({ organization: second.id, name: 'Default project', timezone: 'UTC', is_demo: false });
      expect(body.team.project_id).toBe(body.team.id);
      expect(body.team.api_token).toMatch(/^phc_/);
      expect(Object.keys(body.team)).toEqual([
        'id',
        'uuid',
        'organization',
        'project_id',
        'api_token',
        'name',
        'completed_snippet_onboarding',
        'has_completed_onboarding_for',
        'ingested_event',
        'is_demo',
        'timezone',
        'access_control',
      ]);
      expectPostHogSchema(body.team, 'TeamBasic');

      expect(body.organizations).toHaveLength(2);
      expect(body.organizations.map((o: { id: string }) => o.id).sort()).toEqual([account.organizationId, second.id].sort());
      for (const organization of body.organizations) {
        expectPostHogSchema(organization, 'OrganizationBasic');
        expect(organization.membership_level).toBe(MembershipLevel.owner);
        expect(Object.keys(organization)).toEqual([
          'id',
          'name',
          'slug',
          'logo_media_id',
          'membership_level',
          'members_can_use_personal_api_keys',
          'is_active',
          'is_not_active_reason',
          'is_pending_deletion',
        ]);
      }
      expect(body.organizations.find((o: { id: string }) => o.id === account.organizationId).name).toBe('First Org');
    });

    it('shows a member their level and the shared organization', async () => {
      const owner = await ctx.newAccount();
      const body = ok(await me((await make.member(owner, MembershipLevel.member)).headers));
      expectPostHogSchema(body, 'User');
      expect(body.organization.id).toBe(owner.organizationId);
      expect(body.organization.membership_level).toBe(MembershipLevel.member);
      expect(body.organization.member_count).toBe(2);
      expect(body.team.id).toBe(owner.teamId);
      expect(body.organizations).toEqual([expect.objectContaining({ id: owner.organizationId, membership_level: MembershipLevel.member })]);
    });

    it('works with a browser session and reports when the sensitive-action window closes', async () => {
      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      const before = Date.now();
      const body = ok(await me({ cookie: session.cookie }));
      expectPostHogSchema(body, 'User');
      expect(body.id).toBe(account.user.id);
      const expires = Date.parse(body.sensitive_session_expires_at);
      // Two hours after the password was entered.
      expect(expires).toBeGreaterThan(before + 7200_000 - 60_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 7200_000 + 1000);
    });

    it('answers 401 without credentials and with an unknown key', async () => {
      expectError(await me({}), 401, notAuthenticated);
      expectError(await me(bearer('phx_not_a_real_key_0000000000000000')), 401, {
        type: 'authentication_error',
        code: 'authentication_failed',
        detail: 'Personal API key found in request Authorization header is invalid.',
        attr: null,
      });
    });

    it('accepts the caller\'s own uuid, with or without the trailing slash', async () => {
      const account = await ctx.newAccount();
      const key = await ctx.newKey(account.user);
      const byUuid = ok(await me(bearer(key), account.user.uuid));
      expect(byUuid.id).toBe(account.user.id);
      const noSlash = ok(await ctx.app.inject({ url: `/api/users/${account.user.uuid}`, headers: bearer(key) }));
      expect(noSlash.id).toBe(account.user.id);
      ok(await ctx.app.inject({ url: '/api/users/@me', headers: bearer(key) }));
    });

    it("refuses other users to non-staff callers with PostHog's message, and lets staff reach them", async () => {
      const account = await ctx.newAccount();
      const other = await ctx.newAccount();
      const key = await ctx.newKey(account.user);
      const onlyMe = "As a non-staff user you're only allowed to access the `@me` user instance.";
      expectError(await me(bearer(key), other.user.uuid), 403, denied(onlyMe));
      expectError(await patchMe(bearer(key), { first_name: 'Mallory' }, other.user.uuid), 403, denied(onlyMe));
      const untouched = ok(await me(bearer(await ctx.newKey(other.user))));
      expect(untouched.first_name).toBe(other.user.firstName);

      await ctx.database.db.update(users).set({ isStaff: true }).where(eq(users.id, account.user.id));
      ctx.services.auth.invalidateCaches();
      expect(ok(await me(bearer(key), other.user.uuid)).email).toBe(other.user.email);
      expectError(await me(bearer(key), 'not-a-uuid'), 404, notFound());
    });
  });

  describe('PATCH @me', () => {
    let account: TestAccount;
    let key: string;
    beforeAll(async () => {
      account = await ctx.newAccount();
      key = await ctx.newKey(account.user);
    });

    it('updates names and the role, and returns the full User', async () => {
      const body = ok(await patchMe(bearer(key), { first_name: 'Ada', last_name: 'Lovelace', role_at_organization: 'founder' }));
      expectPostHogSchema(body, 'User');
      expect(body).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace', role_at_organization: 'founder' });
      const again = ok(await me(bearer(key)));
      expect(again).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace', role_at_organization: 'founder' });
    });

    it('rejects an unknown role with DRF\'s choice message', async () => {
      expectError(
        await patchMe(bearer(key), { role_at_organization: 'astronaut' }),
        400,
        invalid('"astronaut" is not a valid choice.', 'role_at_organization', 'invalid_choice'),
      );
    });

    it('rejects an invalid email address', async () => {
      expectError(await patchMe(bearer(key), { email: 'not-an-email' }), 400, invalid('Enter a valid email address.', 'email'));
    });

    it('changes the email; a taken address is 400 unique', async () => {
      const user = await ctx.newAccount();
      const other = await ctx.newAccount();
      const userKey = await ctx.newKey(user.user);
      expectError(
        await patchMe(bearer(userKey), { email: other.user.email.toUpperCase() }),
        400,
        invalid('There is already an account with this email address.', 'email', 'unique'),
      );
      const address = `renamed-${Date.now()}@example.com`;
      const body = ok(await patchMe(bearer(userKey), { email: address }));
      expect(body.email).toBe(address);
      // The new address logs in; the old one no longer does.
      await ctx.login(address);
      expectError(
        await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: user.user.email, password: STRONG_PASSWORD } }),
        400,
        invalid('Invalid email or password.', null, 'invalid_credentials'),
      );
    });
  });

  describe('switching the current organization and team', () => {
    it('switches by organization (to its first team) and by team (to its organization)', async () => {
      const account = await ctx.newAccount();
      const key = await ctx.newKey(account.user);
      const second = ok(
        await ctx.app.inject({ method: 'POST', url: '/api/organizations/', headers: bearer(key), payload: { name: 'Other' } }),
        201,
      );
      const secondTeam = second.teams[0].id as number;
      expect(ok(await me(bearer(key))).team.id).toBe(secondTeam);

      const back = ok(await patchMe(bearer(key), { set_current_organization: account.organizationId }));
      expectPostHogSchema(back, 'User');
      expect(back.organization.id).toBe(account.organizationId);
      expect(back.team.id).toBe(account.teamId);
      expect(ok(await ctx.app.inject({ url: '/api/projects/@current/', headers: bearer(key) })).id).toBe(account.teamId);

      const forth = ok(await patchMe(bearer(key), { set_current_team: String(secondTeam) }));
      expect(forth.team.id).toBe(secondTeam);
      expect(forth.organization.id).toBe(second.id);
      expect(ok(await ctx.app.inject({ url: '/api/projects/@current/', headers: bearer(key) })).id).toBe(secondTeam);

      const both = ok(await patchMe(bearer(key), { set_current_organization: account.organizationId, set_current_team: String(account.teamId) }));
      expect(both.team.id).toBe(account.teamId);
      expect(both.organization.id).toBe(account.organizationId);
    });

    it('rejects organizations and teams the user cannot see', async () => {
      const account = await ctx.newAccount();
      const stranger = await ctx.newAccount();
      const key = await ctx.newKey(account.user);
      const unknownOrganization = '01900000-0000-7000-8000-000000000000';
      for (const value of [unknownOrganization, stranger.organizationId]) {
        expectError(
          await patchMe(bearer(key), { set_current_organization: value }),
          400,
          invalid(`Object with id=${value} does not exist.`, 'set_current_organization', 'does_not_exist'),
        );
      }
      for (const value of ['999999', String(stranger.teamId)]) {
        expectError(
          await patchMe(bearer(key), { set_current_team: value }),
          400,
          invalid(`Object with id=${value} does not exist.`, 'set_current_team', 'does_not_exist'),
        );
      }
      const body = ok(await me(bearer(key)));
      expect(body.team.id).toBe(account.teamId);
      expect(body.organization.id).toBe(account.organizationId);
    });

    it('rejects a team outside the organization being switched to', async () => {
      const account = await ctx.newAccount();
      const key = await ctx.newKey(account.user);
      const second = ok(
        await ctx.app.inject({ method: 'POST', url: '/api/organizations/', headers: bearer(key), payload: { name: 'Second' } }),
        201,
      );
      expectError(
        await patchMe(bearer(key), { set_current_organization: account.organizationId, set_current_team: String(second.teams[0].id) }),
        400,
        invalid('Team must belong to the same organization in set_current_organization.', 'set_current_team'),
      );
      // Nothing changed.
      expect(ok(await me(bearer(key))).organization.id).toBe(second.id);
    });
  });

  describe('password change', () => {
    const newPassword = 'an entirely different passphrase 77';

    it('needs the current password, and the correct one', async () => {
      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      expectError(
        await patchMe(sessionHeaders(session), { password: newPassword }),
        400,
        invalid('This field is required when updating your password.', 'current_password', 'required'),
      );
      expectError(
        await patchMe(sessionHeaders(session), { password: newPassword, current_password: 'wrong password 123' }),
        400,
        invalid('Your current password is incorrect.', 'current_password', 'incorrect_password'),
      );
      // The password did not change.
      await ctx.login(account.user.email, STRONG_PASSWORD);
    });

    it('applies Django\'s password validators with PostHog\'s messages', async () => {
      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      expectError(
        await patchMe(sessionHeaders(session), { password: 'short', current_password: STRONG_PASSWORD }),
        400,
        invalid('This password is too short. It must contain at least 8 characters.', 'password', 'password_too_short'),
      );
      expectError(
        await patchMe(sessionHeaders(session), { password: '12345678', current_password: STRONG_PASSWORD }),
        400,
        invalid('Add another word or two. Uncommon words are better.', 'password', 'password_too_weak'),
      );
    });

    it('changes the password, keeps this session and ends the others', async () => {
      const account = await ctx.newAccount();
      const mine = await ctx.login(account.user.email);
      const other = await ctx.login(account.user.email);
      const key = await ctx.newKey(account.user);

      const body = ok(await patchMe(sessionHeaders(mine), { password: newPassword, current_password: STRONG_PASSWORD }));
      expectPostHogSchema(body, 'User');
      expect(body).not.toHaveProperty('password');

      expectError(
        await ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email: account.user.email, password: STRONG_PASSWORD } }),
        400,
        invalid('Invalid email or password.', null, 'invalid_credentials'),
      );
      await ctx.login(account.user.email, newPassword);

      ok(await me({ cookie: mine.cookie }));
      expectError(await me({ cookie: other.cookie }), 401, notAuthenticated);
      // Personal API keys are not sessions: they keep working.
      ok(await me(bearer(key)));
    });

    it('refuses an unsafe session request without the CSRF token', async () => {
      const account = await ctx.newAccount();
      const session = await ctx.login(account.user.email);
      expectError(await patchMe({ cookie: session.cookie }, { first_name: 'X' }), 403, denied('CSRF Failed: CSRF token missing.'));
      ok(await patchMe(sessionHeaders(session), { first_name: 'Y' }));
    });
  });

  // Which scope reads and which writes: the access table.
  describe('personal API key scopes', () => {
    it('team- and organization-scoped keys still read @me (the user scope is exempt)', async () => {
      const account = await ctx.newAccount();
      const key = bearer(await ctx.newKey(account.user));
      const second = ok(await ctx.app.inject({ method: 'POST', url: '/api/organizations/', headers: key, payload: { name: 'Two' } }), 201);
      // The user's current team is now in the second organization, outside both keys' restrictions.
      const teamScoped = await ctx.newKey(account.user, { scopes: ['user:read'], scoped_teams: [account.teamId] });
      const orgScoped = await ctx.newKey(account.user, { scopes: ['user:read'], scoped_organizations: [account.organizationId] });
      for (const scoped of [teamScoped, orgScoped]) {
        const body = ok(await me(bearer(scoped)));
        expect(body.organization.id).toBe(second.id);
        expectPostHogSchema(body, 'User');
      }
      // The same key is refused on a project outside its scoped teams.
      expectError(
        await ctx.app.inject({ url: `/api/projects/${second.teams[0].id}/`, headers: bearer(await ctx.newKey(account.user, { scoped_teams: [account.teamId] })) }),
        403,
        denied(`API key does not have access to the requested project: ID ${second.teams[0].id}.`),
      );
    });
  });
});
