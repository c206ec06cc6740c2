import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { type AccessRow, accessTable, readBack, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { type Body, factories, type Tenant } from '../../helpers/factories.js';
import { type SlackServer, slackServer } from '../../helpers/slack-server.js';

const TOKEN = 'xoxb-acme-1';

describe('integrations (Slack by bot token)', () => {
  let slack: SlackServer;
  let ctx: TestContext;
  let owner: Tenant;
  let base: string;

  beforeAll(async () => {
    slack = await slackServer();
    slack.tokens.set(TOKEN, { teamId: 'T0ACME', teamName: 'Acme', botUserId: 'U0BOT' });
    slack.tokens.set('xoxb-acme-2', { teamId: 'T0ACME', teamName: 'Acme Corp', botUserId: 'U0BOT' });
    slack.tokens.set('xoxb-other', { teamId: 'T0OTHER', teamName: 'Other', botUserId: 'U0BOT2' });
    for (let i = 0; i < 120; i++) slack.channels.push({ id: `C${String(i).padStart(4, '0')}`, name: i === 7 ? 'growth-reports' : `channel-${i}`, is_private: i === 9, is_member: i !== 9 });
    slack.channels.push({ id: 'CARCHIVED', name: 'old', is_archived: true });
    ctx = await createTestContext({ SLACK_API_URL: slack.apiUrl });
    owner = await factories(ctx).tenant();
    base = `/api/projects/${owner.teamId}/integrations`;
  });
  beforeEach(() => {
    slack.calls.length = 0;
    slack.failures.length = 0;
  });
  afterAll(async () => {
    await ctx?.close();
    await slack?.close();
  });

  const connect = (token = TOKEN, tenant = owner) => tenant.call('POST', `/api/projects/${tenant.teamId}/integrations/`, { kind: 'slack', config: { access_token: token } });

  it('connects a workspace from its bot token, checked with auth.test, and keeps the token sealed', async () => {
    const made = ok<Body>(await connect(), 201);
    expect(Object.keys(made)).toEqual(['id', 'kind', 'config', 'created_at', 'created_by', 'errors', 'display_name', 'files_write_requestable', 'installation_shared', 'installation_status']);
    expect(made).toMatchObject({
      kind: 'slack',
      config: { team: { id: 'T0ACME', name: 'Acme' }, bot_user_id: 'U0BOT', bot_id: 'B0BURROW', scope: 'chat:write,files:write,channels:read', token_type: 'bot' },
      created_by: { email: owner.user.email },
      errors: '',
      display_name: 'Acme',
      files_write_requestable: true,
      installation_shared: null,
      installation_status: null,
    });
    expect(slack.calls).toEqual(['auth.test']);
    expect(JSON.stringify(made)).not.toContain(TOKEN);
    const [stored] = await queryRows<{ sensitive_config: string }>(ctx.database.db, sql`select sensitive_config from integrations where id = ${made.id}`);
    expect(stored!.sensitive_config).toMatch(/^v1:/);
    expect(stored!.sensitive_config).not.toContain(TOKEN);

    expect(ok<Body>(await owner.call('GET', `${base}/${made.id}/`))).toEqual(made);
    const list = ok<{ count: number; results: Body[] }>(await owner.call('GET', `${base}/`));
    expect(list.count).toBe(1);
    expect(list.results).toEqual([made]);

    // The same workspace again (a new token): the same integration, its token and config replaced.
    const again = ok<Body>(await connect('xoxb-acme-2'), 201);
    expect(again.id).toBe(made.id);
    expect(again.display_name).toBe('Acme Corp');
    expect(ok<{ count: number }>(await owner.call('GET', `${base}/`)).count).toBe(1);
  });

  it('refuses another kind, a value that is not a bot token, a token Slack refuses, and says when Slack is down', async () => {
    expectError(await owner.call('POST', `${base}/`, { kind: 'github', config: { access_token: TOKEN } }), 400, invalid('"github" is not a valid choice.', 'kind', 'invalid_choice'));
    expectError(await connect('hunter2'), 400, invalid('A Slack bot token (xoxb-...) is required.', 'config'));
    expectError(await connect('xoxb-revoked'), 400, invalid('Slack refused the token: invalid_auth', 'config'));
    expect((await owner.call('POST', `${base}/`, { kind: 'slack', config: {} })).statusCode).toBe(400);
    slack.failures.push({ method: 'auth.test', status: 503 });
    const down = await connect();
    expect(down.statusCode).toBe(502);
    expect(down.json()).toMatchObject({ code: 'slack_unavailable', detail: 'Slack could not be reached: http_503' });
  });

  it('lists the channels the bot sees, paged, searched and cached for an hour', async () => {
    const { id } = ok<Body>(await connect(), 201);
    slack.calls.length = 0;
    const first = ok<Body>(await owner.call('GET', `${base}/${id}/channels/`));
    expect(first.channels).toHaveLength(50);
    expect(first.has_more).toBe(true);
    expect(first.lastRefreshedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(first.channels[0]).toEqual({ id: 'C0000', name: 'channel-0', is_private: false, is_member: true, is_ext_shared: false, is_private_without_access: false });
    expect(first.channels[9]).toMatchObject({ id: 'C0009', is_private: true, is_member: false, is_private_without_access: true });
    // 120 live channels in Slack's pages of 200: one call; the archived one is not listed.
    expect(slack.calls).toEqual(['conversations.list']);

    const last = ok<Body>(await owner.call('GET', `${base}/${id}/channels/?limit=50&offset=100`));
    expect(last.channels.map((c: Body) => c.id)).toEqual(Array.from({ length: 20 }, (_, i) => `C${String(100 + i).padStart(4, '0')}`));
    expect(last.has_more).toBe(false);
    expect(ok<Body>(await owner.call('GET', `${base}/${id}/channels/?search=GROWTH`)).channels.map((c: Body) => c.name)).toEqual(['growth-reports']);
    expect(ok<Body>(await owner.call('GET', `${base}/${id}/channels/?channel_id=C0007`))).toEqual({
      channels: [{ id: 'C0007', name: 'growth-reports', is_private: false, is_member: true, is_ext_shared: false, is_private_without_access: false }],
      lastRefreshedAt: null,
      has_more: false,
    });
    expect(slack.calls).toEqual(['conversations.list']);
    ok(await owner.call('GET', `${base}/${id}/channels/?force_refresh=true`));
    expect(slack.calls).toEqual(['conversations.list', 'conversations.list']);

    expectError(await owner.call('GET', `${base}/${id}/channels/?limit=500`), 400, invalid('Ensure this value is less than or equal to 200.', 'limit', 'max_value'));
    expectError(await owner.call('GET', `${base}/999999/channels/`), 404, notFound());
  });

  it('a token Slack no longer accepts gives PostHog inactive-integration error on channels', async () => {
    const tenant = await factories(ctx).tenant();
    slack.tokens.set('xoxb-soon-revoked', { teamId: 'T0SOON', teamName: 'Soon', botUserId: 'U0' });
    const { id } = ok<Body>(await connect('xoxb-soon-revoked', tenant), 201);
    slack.tokens.delete('xoxb-soon-revoked');
    expectError(
      await tenant.call('GET', `/api/projects/${tenant.teamId}/integrations/${id}/channels/`),
      400,
      { type: 'validation_error', code: 'slack_integration_inactive', detail: 'Your Slack connection is no longer active. Reconnect Slack to load channels and pick a destination.', attr: null },
    );
  });

  it('disconnecting leaves its Slack subscriptions without an integration, which cannot be re-enabled until Slack is connected again', async () => {
    const tenant = await factories(ctx).tenant();
    slack.channels.push({ id: 'CREPORTS', name: 'reports' });
    const { id } = ok<Body>(await connect('xoxb-other', tenant), 201);
    const subs = `/api/projects/${tenant.teamId}/subscriptions`;
    const sub = ok<Body>(
      await tenant.call('POST', `${subs}/`, {
        recordings_query: {},
        target_type: 'slack',
        target_value: 'CREPORTS|#reports',
        integration_id: id,
        frequency: 'daily',
        interval: 1,
        start_date: '2030-01-07T09:00:00Z',
        enabled: false,
      }),
      201,
    );
    expect(sub.integration_id).toBe(id);
    expect((await tenant.call('DELETE', `/api/projects/${tenant.teamId}/integrations/${id}/`)).statusCode).toBe(204);
    expectError(await tenant.call('GET', `/api/projects/${tenant.teamId}/integrations/${id}/`), 404, notFound());
    expect(ok<Body>(await tenant.call('GET', `${subs}/${sub.id}/`)).integration_id).toBeNull();
    expectError(
      await tenant.call('PATCH', `${subs}/${sub.id}/`, { enabled: true }),
      400,
      invalid('Cannot re-enable Slack subscription: no integration configured. Reconnect Slack first.', 'enabled'),
    );
    const { id: reconnected } = ok<Body>(await connect('xoxb-other', tenant), 201);
    const fixed = ok<Body>(await tenant.call('PATCH', `${subs}/${sub.id}/`, { integration_id: reconnected, enabled: true }));
    expect(fixed).toMatchObject({ integration_id: reconnected, enabled: true });
  });

  const integration = async (tenant: Tenant) => {
    const made = ok<Body>(await connect(TOKEN, tenant), 201);
    return readBack(tenant, String(made.id), `/api/projects/${tenant.teamId}/integrations/${made.id}/`, made);
  };

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/integrations/', scope: 'integration:read', status: 200 },
      { method: 'POST', path: '/integrations/', scope: 'integration:write', body: { kind: 'slack', config: { access_token: TOKEN } }, status: 201 },
      { method: 'GET', path: '/integrations/:id/', scope: 'integration:read', object: integration, status: 200 },
      { method: 'GET', path: '/integrations/:id/channels/', scope: 'integration:read', object: integration, status: 200 },
      { method: 'DELETE', path: '/integrations/:id/', scope: 'integration:write', object: integration, status: 204 },
    ] satisfies AccessRow[]),
  );
});
