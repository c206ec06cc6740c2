import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '../helpers/api.js';
import { bearer, createTestContext, type TestContext } from '../helpers/context.js';
import { ERRATA, expectPostHogSchema, POSTHOG_OPENAPI_PATH, postHogSchemaErrors, postHogSchemaNames } from '../helpers/posthog-schemas.js';

/** The validator itself: it must accept what PostHog really sends and reject what it does not. */
describe('PostHog schema helper', () => {
  let ctx: TestContext;
  let organization: Record<string, unknown>;
  let user: Record<string, unknown>;
  beforeAll(async () => {
    ctx = await createTestContext();
    const account = await ctx.newAccount();
    const key = bearer(await ctx.newKey(account.user));
    organization = ok(await ctx.app.inject({ url: '/api/organizations/@current/', headers: key }));
    user = ok(await ctx.app.inject({ url: '/api/users/@me/', headers: key }));
  });
  afterAll(() => ctx.close());

  it('loads the committed copy of PostHog\'s published schema', () => {
    expect(POSTHOG_OPENAPI_PATH.pathname).toMatch(/\/test\/fixtures\/posthog-openapi\.yaml$/);
    expect(postHogSchemaNames()).toEqual(expect.arrayContaining(['User', 'Organization', 'OrganizationBasic', 'TeamBasic', 'UserBasic']));
    // Next to the shared reference (a developer checkout), the copy must not drift from it.
    const shared = new URL('../shared/reference/posthog-openapi.yaml', new URL('../..', import.meta.url));
    if (existsSync(shared)) expect(readFileSync(POSTHOG_OPENAPI_PATH, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });

  it('does not require write-only fields in responses', () => {
    const errors = postHogSchemaErrors({}, 'User').join('\n');
    expect(errors).toContain("must have required property 'email'");
    expect(errors).not.toContain("'password'");
    expect(errors).not.toContain("'current_password'");
  });

  it('keeps nullable $ref/allOf properties nullable', () => {
    expectPostHogSchema({ ...organization, membership_level: null }, 'Organization');
    expect(postHogSchemaErrors({ ...organization, membership_level: 4 }, 'Organization').join('\n')).toContain('Organization.membership_level');
  });

  it('applies the errata, and only where PostHog\'s server differs', () => {
    expect(ERRATA.map((e) => `${e.schema}.${e.property}`)).toEqual([
      'Organization.member_count',
      'Organization.metadata',
      'User.role_at_organization',
    ]);
    expectPostHogSchema(organization, 'Organization');
    expect(postHogSchemaErrors({ ...organization, member_count: '1' }, 'Organization').join('\n')).toContain('Organization.member_count: must be integer');
    expect(postHogSchemaErrors({ ...organization, metadata: 'x' }, 'Organization').join('\n')).toContain('Organization.metadata: must be object');
    expectPostHogSchema({ ...user, role_at_organization: null }, 'User');
    expectPostHogSchema({ ...user, role_at_organization: '' }, 'User');
    expectPostHogSchema({ ...user, role_at_organization: 'data' }, 'User');
    expect(postHogSchemaErrors({ ...user, role_at_organization: 'astronaut' }, 'User').length).toBeGreaterThan(0);
  });

  it('fails with readable errors naming the path, the rule and the value', () => {
    const team = (user as { team: Record<string, unknown> }).team;
    expect(() => expectPostHogSchema({ ...team, id: 'seven', timezone: 'Mars/Olympus' }, 'TeamBasic')).toThrowError(
      /Response does not match PostHog's published schema "TeamBasic" \(2 error\(s\)\):\n {2}TeamBasic\.id: must be integer.*got "seven"[\s\S]*TeamBasic\.timezone: must be equal to one of the allowed values/,
    );
    expect(() => expectPostHogSchema({}, 'NoSuchSchema')).toThrowError('PostHog\'s published schema has no component "NoSuchSchema"');
  });
});
