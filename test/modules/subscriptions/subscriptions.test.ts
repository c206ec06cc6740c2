import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessRow, accessTable, readBack, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { type Body, factories, type Tenant } from '../../helpers/factories.js';

const EXHAUSTED = 'Subscription schedule has reached its end date. Extend until_date or remove count.';
const FIELDS = [
  'id', 'dashboard', 'insight', 'target_type', 'target_value', 'frequency', 'interval', 'byweekday', 'bysetpos', 'count', 'start_date',
  'until_date', 'created_at', 'created_by', 'deleted', 'title', 'next_delivery_date', 'invite_message', 'summary', 'resource_type',
  'resource_name', 'insight_short_id', 'dashboard_export_insights', 'enabled', 'integration_id', 'summary_enabled', 'summary_prompt_guide',
  'prompt', 'saved_heatmap', 'recordings_query', 'width', 'timezone',
];

describe('subscriptions', () => {
  let ctx: TestContext;
  let owner: Tenant;
  let heatmap: Body;
  let base: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await factories(ctx).tenant({ firstName: 'Ada' });
    heatmap = await factories(ctx).heatmap(owner, { name: 'Pricing page' });
    base = `/api/projects/${owner.teamId}/subscriptions`;
  });
  afterAll(async () => ctx?.close());

  /** A weekly email report of the saved heatmap starting in 2030 (so its first delivery is its start). */
  const payload = (extra: Record<string, unknown> = {}) => ({
    saved_heatmap: heatmap.short_id,
    target_type: 'email',
    target_value: 'a@example.com,b@example.com',
    frequency: 'weekly',
    interval: 1,
    start_date: '2030-01-07T09:00:00Z',
    ...extra,
  });
  const create = async (extra: Record<string, unknown> = {}, tenant: Tenant = owner) =>
    ok<Body>(await tenant.call('POST', `/api/projects/${tenant.teamId}/subscriptions/`, payload(extra)), 201);
  const patch = (id: number | string, body: object) => owner.call('PATCH', `${base}/${id}/`, body);

  describe('shape', () => {
    it('answers the serializer fields in order, with invite_message null and created_by a UserBasic', async () => {
      const made = await create({ title: 'Weekly pricing', invite_message: 'Have a look', byweekday: ['monday'], bysetpos: 1 });
      expect(Object.keys(made)).toEqual(FIELDS);
      expect(made).toMatchObject({
        dashboard: null,
        insight: null,
        target_type: 'email',
        target_value: 'a@example.com,b@example.com',
        frequency: 'weekly',
        interval: 1,
        byweekday: ['monday'],
        bysetpos: 1,
        count: null,
        start_date: '2030-01-07T09:00:00Z',
        until_date: null,
        deleted: false,
        title: 'Weekly pricing',
        next_delivery_date: '2030-01-07T09:00:00Z',
        invite_message: null,
        summary: 'sent every week on the first Monday',
        resource_type: 'heatmap',
        resource_name: 'Pricing page',
        insight_short_id: null,
        dashboard_export_insights: [],
        enabled: true,
        integration_id: null,
        summary_enabled: false,
        summary_prompt_guide: '',
        prompt: null,
        saved_heatmap: heatmap.short_id,
        recordings_query: null,
        width: 1024,
        timezone: 'UTC',
      });
      expect(made.created_by).toEqual({
        id: owner.user.id,
        uuid: owner.user.uuid,
        distinct_id: owner.user.distinctId,
        first_name: 'Ada',
        last_name: '',
        email: owner.user.email,
        is_email_verified: false,
        hedgehog_config: null,
        role_at_organization: null,
      });
      expect(made.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/);
      expect(ok(await owner.call('GET', `/api/environments/${owner.teamId}/subscriptions/${made.id}`))).toEqual(made);
    });

    it('takes a naive start_date as UTC; names a heatmap without a name by its URL; keeps a width', async () => {
      const unnamed = await factories(ctx).heatmap(owner, { url: 'https://example.com/unnamed' });
      const made = await create({ saved_heatmap: unnamed.short_id, start_date: '2030-01-07T09:00:00', width: 1440 });
      expect(made).toMatchObject({ start_date: '2030-01-07T09:00:00Z', resource_name: 'https://example.com/unnamed', width: 1440 });
    });

    it('keeps a recordings query (resource_type recordings)', async () => {
      const query = { date_from: '-7d', filter_test_accounts: true, having_predicates: [{ type: 'recording', key: 'duration', operator: 'gt', value: 60 }] };
      const made = await create({ saved_heatmap: null, recordings_query: query, frequency: 'daily' });
      expect(made).toMatchObject({ resource_type: 'recordings', resource_name: null, saved_heatmap: null, recordings_query: query, width: null, summary: 'sent every day' });
    });

    it('answers summary_quota/ with no limit', async () => {
      expect(ok(await owner.call('GET', `${base}/summary_quota/`))).toEqual({ active_count: 0, limit: null, at_limit: false });
    });
  });

  describe('summary and schedule through the API', () => {
    it('recomputes the summary on every change', async () => {
      const made = await create();
      const cases: [object, string][] = [
        [{ frequency: 'daily', interval: 2 }, 'sent every 2 days'],
        [{ frequency: 'monthly', interval: 1, byweekday: ['friday'], bysetpos: -1 }, 'sent every month on the last Friday'],
        [{ byweekday: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] }, 'sent every month on the last weekday'],
        [{ bysetpos: null }, 'sent every month'],
        [{ frequency: 'yearly', interval: 3, byweekday: ['sunday'], bysetpos: 2 }, 'sent every 3 years on the second Sunday'],
      ];
      for (const [change, summary] of cases) expect(ok<Body>(await patch(made.id, change)).summary).toBe(summary);
    });

    it.each([
      // [time zone, start_date, rule, expected next delivery]
      ['Europe/Paris', '2030-03-01T09:00:00+01:00', { frequency: 'monthly', byweekday: ['sunday'], bysetpos: -1 }, '2030-03-31T07:00:00Z'],
      ['UTC', '2030-03-01T09:00:00+01:00', { frequency: 'monthly', byweekday: ['sunday'], bysetpos: -1 }, '2030-03-31T08:00:00Z'],
      ['Europe/Paris', '2030-10-26T09:00:00+02:00', { frequency: 'weekly', byweekday: ['monday'] }, '2030-10-28T08:00:00Z'],
      ['America/New_York', '2030-03-01T09:00:00-05:00', { frequency: 'monthly', byweekday: ['sunday'], bysetpos: 2 }, '2030-03-10T13:00:00Z'],
      ['America/New_York', '2030-11-02T09:00:00-04:00', { frequency: 'weekly', byweekday: ['friday'] }, '2030-11-08T14:00:00Z'],
      // A name PostHog takes that Intl.supportedValuesOf does not list (it has Asia/Calcutta).
      ['Asia/Kolkata', '2030-03-01T09:00:00+05:30', { frequency: 'weekly', byweekday: ['monday'] }, '2030-03-04T03:30:00Z'],
    ])('%s from %s: %j -> %s', async (timezone, start_date, rule, expected) => {
      const made = await create({ timezone, start_date, ...rule });
      expect(made).toMatchObject({ timezone, next_delivery_date: expected });
    });

    it('moves next_delivery_date only when the rule changes', async () => {
      const made = await create();
      const sentinel = '2030-02-04T09:00:00Z';
      await ctx.database.db.execute(sql`update subscriptions set next_delivery_date = ${sentinel} where id = ${made.id}`);
      expect(ok<Body>(await patch(made.id, { title: 'Renamed', target_value: 'c@example.com' })).next_delivery_date).toBe(sentinel);
      expect(ok<Body>(await patch(made.id, { interval: 1, frequency: 'weekly' })).next_delivery_date).toBe(sentinel);
      expect(ok<Body>(await patch(made.id, { start_date: '2030-01-08T10:00:00Z' })).next_delivery_date).toBe('2030-01-08T10:00:00Z');
      expect(ok<Body>(await patch(made.id, { timezone: 'Europe/Paris' })).next_delivery_date).toBe('2030-01-08T10:00:00Z');
      expect(ok<Body>(await patch(made.id, { start_date: '2030-01-08T10:00:00Z', interval: 2 })).next_delivery_date).toBe('2030-01-08T10:00:00Z');
    });

    it('refuses a schedule that has ended (count, until) on create, on change and on re-enable', async () => {
      expectError(await owner.call('POST', `${base}/`, payload({ start_date: '2020-01-01T09:00:00Z', count: 2 })), 400, invalid(EXHAUSTED, 'start_date'));
      expectError(await owner.call('POST', `${base}/`, payload({ count: 0 })), 400, invalid(EXHAUSTED, 'start_date'));
      expectError(await owner.call('POST', `${base}/`, payload({ start_date: '2020-01-01T09:00:00Z', until_date: '2021-01-01T00:00:00Z' })), 400, invalid(EXHAUSTED, 'start_date'));
      const made = await create();
      expectError(await patch(made.id, { start_date: '2020-01-01T09:00:00Z', count: 1 }), 400, invalid(EXHAUSTED, null));
      expect(ok<Body>(await patch(made.id, { title: 'still fine' })).next_delivery_date).toBe('2030-01-07T09:00:00Z');
      // Disabled, the schedule may end: no next delivery; re-enabling it is refused.
      expect(ok<Body>(await patch(made.id, { enabled: false, start_date: '2020-01-01T09:00:00Z', count: 1 }))).toMatchObject({ enabled: false, next_delivery_date: null });
      expectError(
        await patch(made.id, { enabled: true }),
        400,
        invalid('Subscription schedule has reached its end date. Extend until_date or remove count before re-enabling.', 'enabled'),
      );
      expect(ok<Body>(await patch(made.id, { enabled: true, count: null })).next_delivery_date).not.toBeNull();
    });
  });

  describe('validation', () => {
    const refused = async (body: object, detail: string, attr: string | null, code = 'invalid_input', status = 400) =>
      expectError(await owner.call('POST', `${base}/`, body), status, invalid(detail, attr, code));

    it('checks fields in the serializer order with DRF messages', async () => {
      await refused(payload({ dashboard: 54321 }), 'Invalid pk "54321" - object does not exist.', 'dashboard', 'does_not_exist');
      await refused(payload({ insight: 7 }), 'Invalid pk "7" - object does not exist.', 'insight', 'does_not_exist');
      await refused(payload({ target_type: undefined }), 'This field is required.', 'target_type', 'required');
      await refused(payload({ target_type: 'teams' }), '"teams" is not a valid choice.', 'target_type', 'invalid_choice');
      await refused(payload({ target_value: undefined }), 'This field is required.', 'target_value', 'required');
      await refused(payload({ frequency: 'hourly' }), '"hourly" is not a valid choice.', 'frequency', 'invalid_choice');
      await refused(payload({ interval: undefined }), 'This field is required.', 'interval', 'required');
      await refused(payload({ interval: 0 }), 'Ensure this value is greater than or equal to 1.', 'interval', 'min_value');
      await refused(payload({ byweekday: ['funday'] }), '"funday" is not a valid choice.', 'byweekday__0', 'invalid_choice');
      await refused(payload({ byweekday: ['monday'], bysetpos: 0 }), 'bysetpos must be between 1 and 366, or between -366 and -1.', 'bysetpos');
      await refused(payload({ bysetpos: -367 }), 'bysetpos must be between 1 and 366, or between -366 and -1.', 'bysetpos');
      await refused(payload({ start_date: undefined }), 'This field is required.', 'start_date', 'required');
      await refused(
        payload({ start_date: 'next week' }),
        'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
        'start_date',
        'invalid',
      );
      await refused(payload({ title: 'x'.repeat(101) }), 'Ensure this field has no more than 100 characters.', 'title', 'max_length');
    });

    it('needs exactly one resource', async () => {
      await refused(payload({ saved_heatmap: undefined }), 'A subscription must have an insight, a dashboard, a prompt, a saved heatmap or a recordings query.', null);
      await refused(
        payload({ recordings_query: { date_from: '-7d' } }),
        'Saved heatmap subscriptions cannot also set insight, dashboard, prompt or recordings_query.',
        'saved_heatmap',
      );
      await refused(payload({ prompt: 'Summarise' }), 'Prompt subscriptions cannot also set insight, dashboard, saved_heatmap or recordings_query.', 'prompt');
      await refused(payload({ saved_heatmap: undefined, prompt: 'Summarise' }), 'AI prompt subscriptions are not available: Burrow has no AI reports.', 'prompt');
      const made = await create();
      expectError(await patch(made.id, { recordings_query: {} }), 400, invalid('Saved heatmap subscriptions cannot also set insight, dashboard, prompt or recordings_query.', 'saved_heatmap'));
      expectError(await patch(made.id, { saved_heatmap: null }), 400, invalid('A subscription must have an insight, a dashboard, a prompt, a saved heatmap or a recordings query.', null));
      expect(ok<Body>(await patch(made.id, { saved_heatmap: null, recordings_query: {} }))).toMatchObject({ resource_type: 'recordings', width: null });
    });

    it('checks the saved heatmap, the recordings query and the width', async () => {
      await refused(payload({ saved_heatmap: 'nope' }), 'Object with short_id=nope does not exist.', 'saved_heatmap', 'does_not_exist');
      const other = await factories(ctx).tenant();
      const foreign = await factories(ctx).heatmap(other);
      await refused(payload({ saved_heatmap: foreign.short_id }), `Object with short_id=${foreign.short_id} does not exist.`, 'saved_heatmap', 'does_not_exist');
      const gone = await factories(ctx).heatmap(owner);
      ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/saved/${gone.short_id}/`, { deleted: true }));
      await refused(payload({ saved_heatmap: gone.short_id }), `Object with short_id=${gone.short_id} does not exist.`, 'saved_heatmap', 'does_not_exist');

      const recordings = (query: object) => payload({ saved_heatmap: undefined, recordings_query: query });
      await refused(recordings({ date_from: '-7d', bogus: 1 }), JSON.stringify([{ type: 'extra_forbidden', loc: ['bogus'], msg: 'Extra inputs are not permitted', input: 1 }]), 'recordings_query');
      await refused(recordings({ date_from: 'yesterday-ish' }), 'Invalid date_from: yesterday-ish', 'recordings_query__date_from');
      await refused(payload({ saved_heatmap: undefined, recordings_query: {}, width: 800 }), 'Only saved heatmap subscriptions have a width.', 'width');
      await refused(payload({ width: 50 }), 'Ensure this value is greater than or equal to 100.', 'width', 'min_value');
    });

    it('checks targets: Slack needs an integration of the project; webhooks go through the URL guard', async () => {
      await refused(payload({ target_type: 'slack', target_value: 'C123|#general' }), 'A Slack integration is required for Slack subscriptions.', 'integration_id');
      await refused(payload({ target_type: 'slack', integration_id: 3 }), 'This integration does not exist or does not belong to your team.', 'integration_id');
      await refused(payload({ target_type: 'webhook', target_value: 'http://127.0.0.1:8000/hook' }), 'Invalid webhook URL: Local/Loopback host not allowed', 'target_value');
      await refused(payload({ target_type: 'webhook', target_value: 'http://10.0.0.5/hook' }), 'Invalid webhook URL: Private IP address not allowed', 'target_value');
      await refused(payload({ target_type: 'webhook', target_value: 'ftp://example.com/hook' }), 'Invalid webhook URL: Disallowed scheme', 'target_value');
      const hook = await create({ target_type: 'webhook', target_value: 'http://93.184.215.14/hook' });
      expectError(await patch(hook.id, { target_value: 'http://169.254.169.254/latest' }), 400, invalid('Invalid webhook URL: Local/metadata host', 'target_value'));
      const mail = await create();
      expectError(await patch(mail.id, { target_type: 'webhook' }), 400, invalid('Invalid webhook URL: Invalid URL', 'target_value'));
    });

    it('checks dashboard_export_insights, AI summaries and the time zone', async () => {
      await refused(payload({ dashboard_export_insights: 5 }), 'Expected a list of insight IDs.', 'dashboard_export_insights');
      await refused(payload({ dashboard_export_insights: ['a'] }), 'All items must be integers.', 'dashboard_export_insights');
      await refused(payload({ dashboard_export_insights: [1] }), 'Cannot set insights selection without a dashboard.', 'dashboard_export_insights');
      expect((await create({ dashboard_export_insights: [] })).dashboard_export_insights).toEqual([]);
      await refused(payload({ summary_prompt_guide: 'x'.repeat(501) }), 'AI summary context must be 500 characters or fewer.', 'summary_prompt_guide');
      expectError(await owner.call('POST', `${base}/`, payload({ summary_prompt_guide: 'Focus on mobile' })), 403, {
        type: 'authentication_error',
        code: 'permission_denied',
        detail: 'Setting AI summary context is not enabled for this organization.',
        attr: null,
      });
      await refused(payload({ summary_enabled: true }), 'AI summaries are not available: Burrow has no AI.', 'summary_enabled');
      await refused(payload({ timezone: 'Mars/Olympus' }), '"Mars/Olympus" is not a valid choice.', 'timezone', 'invalid_choice');
    });
  });

  describe('list, retrieve, soft delete', () => {
    let tenant: Tenant;
    let list: (query?: string) => Promise<Body>;
    const made: Body[] = [];

    beforeAll(async () => {
      tenant = await factories(ctx).tenant();
      const member = await factories(ctx).member(tenant);
      const hm = await factories(ctx).heatmap(tenant, { name: 'Checkout funnel' });
      for (const [extra, who] of [
        [{ title: 'Bravo', start_date: '2030-03-01T09:00:00Z' }, tenant],
        [{ title: 'Alpha', start_date: '2030-01-01T09:00:00Z', target_type: 'webhook', target_value: 'http://93.184.215.14/h' }, member],
        [{ title: 'Charlie', start_date: '2030-02-01T09:00:00Z', saved_heatmap: undefined, recordings_query: {} }, tenant],
      ] as const) {
        made.push(ok<Body>(await who.call('POST', `/api/projects/${tenant.teamId}/subscriptions/`, payload({ saved_heatmap: hm.short_id, ...extra })), 201));
      }
      list = async (query = '') => ok<Body>(await tenant.call('GET', `/api/environments/${tenant.teamId}/subscriptions/${query}`));
    });

    const titles = (page: Body) => (page.results as Body[]).map((s) => s.title);

    it('lists newest first, filters and orders', async () => {
      expect(titles(await list())).toEqual(['Charlie', 'Alpha', 'Bravo']);
      expect(titles(await list('?ordering=title'))).toEqual(['Alpha', 'Bravo', 'Charlie']);
      expect(titles(await list('?ordering=-title'))).toEqual(['Charlie', 'Bravo', 'Alpha']);
      expect(titles(await list('?ordering=next_delivery_date'))).toEqual(['Alpha', 'Charlie', 'Bravo']);
      expect(titles(await list('?ordering=-next_delivery_date'))).toEqual(['Bravo', 'Charlie', 'Alpha']);
      expect(titles(await list('?ordering=created_at'))).toEqual(['Bravo', 'Alpha', 'Charlie']);
      expect(titles(await list('?ordering=created_by__email'))).toEqual(['Alpha', 'Bravo', 'Charlie']);
      expect(titles(await list('?ordering=-created_by__email'))).toEqual(['Charlie', 'Bravo', 'Alpha']);
      expect(titles(await list('?ordering=nonsense'))).toEqual(['Charlie', 'Alpha', 'Bravo']);
      expect(titles(await list('?target_type=webhook'))).toEqual(['Alpha']);
      expect(titles(await list('?resource_type=recordings'))).toEqual(['Charlie']);
      expect(titles(await list('?resource_type=heatmap'))).toEqual(['Alpha', 'Bravo']);
      expect(titles(await list('?resource_type=insight'))).toEqual([]);
      expect(titles(await list('?search=CHECKOUT'))).toEqual(['Alpha', 'Bravo']);
      expect(titles(await list('?search=arl'))).toEqual(['Charlie']);
      expect(titles(await list(`?created_by=${made[1]!.created_by.uuid}`))).toEqual(['Alpha']);
      expect(titles(await list('?insight=5'))).toEqual([]);
      expect(titles(await list('?dashboard=5'))).toEqual([]);
    });

    it('refuses a malformed created_by, target_type or resource_type', async () => {
      const url = `/api/projects/${tenant.teamId}/subscriptions/`;
      expectError(await tenant.call('GET', `${url}?created_by=bob`), 400, invalid('Not a valid UUID.', 'created_by', 'invalid'));
      expectError(await tenant.call('GET', `${url}?target_type=fax`), 400, invalid('Must be one of: email, slack, webhook.', 'target_type'));
      expectError(
        await tenant.call('GET', `${url}?resource_type=movie`),
        400,
        invalid('Select a valid choice. movie is not one of the available choices.', 'resource_type', 'invalid_choice'),
      );
    });

    it('pages with limit and offset (DRF links)', async () => {
      const page = await list('?limit=2');
      expect(page).toMatchObject({ count: 3, previous: null });
      expect(titles(page)).toEqual(['Charlie', 'Alpha']);
      expect(page.next).toBe(`http://localhost:80/api/environments/${tenant.teamId}/subscriptions/?limit=2&offset=2`);
      const second = await list('?limit=2&offset=2');
      expect(titles(second)).toEqual(['Bravo']);
      expect(second.next).toBeNull();
      expect(second.previous).toBe(`http://localhost:80/api/environments/${tenant.teamId}/subscriptions/?limit=2`);
    });

    it('soft-deletes through PATCH: DELETE is a 405 with an empty body; list hides, retrieve shows, ?deleted= lists them', async () => {
      const target = made[0]!;
      const url = `/api/projects/${tenant.teamId}/subscriptions/${target.id}/`;
      const refused = await tenant.call('DELETE', url);
      expect(refused.statusCode).toBe(405);
      expect(refused.body).toBe('');
      expect(ok<Body>(await tenant.call('PATCH', url, { deleted: true })).deleted).toBe(true);
      expect(titles(await list())).toEqual(['Charlie', 'Alpha']);
      expect(titles(await list('?deleted=true'))).toEqual(['Bravo']);
      expect(titles(await list('?deleted=false'))).toEqual(['Charlie', 'Alpha']);
      expect(ok<Body>(await tenant.call('GET', url)).deleted).toBe(true);
      expect(ok<Body>(await tenant.call('PATCH', url, { deleted: false })).deleted).toBe(false);
    });

    it('retrieves by id only, with ?insight= and ?dashboard= applied', async () => {
      const url = `/api/projects/${tenant.teamId}/subscriptions`;
      expectError(await tenant.call('GET', `${url}/999999/`), 404, notFound());
      expectError(await tenant.call('GET', `${url}/abc/`), 404, notFound());
      expectError(await tenant.call('GET', `${url}/${made[1]!.id}/?insight=4`), 404, notFound());
      expect(ok<Body>(await tenant.call('GET', `${url}/${made[1]!.id}/?insight=`)).id).toBe(made[1]!.id);
    });

    it('replaces with PUT: the required fields again, the others kept', async () => {
      const target = made[2]!;
      const url = `/api/projects/${tenant.teamId}/subscriptions/${target.id}/`;
      expectError(await tenant.call('PUT', url, { title: 'Only a title' }), 400, invalid('This field is required.', 'target_type', 'required'));
      const replaced = ok<Body>(
        await tenant.call('PUT', url, { target_type: 'email', target_value: 'z@example.com', frequency: 'daily', interval: 1, start_date: '2030-02-01T09:00:00Z' }),
      );
      expect(replaced).toMatchObject({ title: 'Charlie', target_value: 'z@example.com', frequency: 'daily', resource_type: 'recordings', summary: 'sent every day' });
    });
  });

  describe('deliveries (delivery.test.ts delivers)', () => {
    it('answers an empty cursor page for a subscription without deliveries, 404 otherwise', async () => {
      const made = await create();
      const url = `${base}/${made.id}/deliveries`;
      expect(ok(await owner.call('GET', `${url}/`))).toEqual({ next: null, previous: null, results: [] });
      expect(ok(await owner.call('GET', `${url}/?status=failed`))).toEqual({ next: null, previous: null, results: [] });
      expectError(await owner.call('GET', `${url}/?status=failed&cursor=abc`), 404, notFound('Invalid cursor'));
      expectError(await owner.call('GET', `${url}/?status=lost`), 400, invalid('Select a valid choice. lost is not one of the available choices.', 'status', 'invalid_choice'));
      expectError(await owner.call('GET', `${url}/00000000-0000-0000-0000-000000000000/`), 404, notFound());
      expectError(await owner.call('GET', `${base}/999999/deliveries/`), 404, notFound());
    });
  });

  const subscription = async (tenant: Tenant) => {
    const hm = await factories(ctx).heatmap(tenant);
    const made = ok<Body>(await tenant.call('POST', `/api/projects/${tenant.teamId}/subscriptions/`, payload({ saved_heatmap: hm.short_id })), 201);
    return readBack(tenant, String(made.id), `/api/projects/${tenant.teamId}/subscriptions/${made.id}/`, made);
  };
  const full = { target_type: 'email', target_value: 'a@example.com', frequency: 'daily', interval: 1, start_date: '2030-01-07T09:00:00Z' };

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/subscriptions/', scope: 'subscription:read', status: 200 },
      { method: 'GET', path: '/subscriptions/summary_quota/', scope: 'subscription:read', status: 200 },
      { method: 'POST', path: '/subscriptions/', scope: 'subscription:write', body: { ...full, recordings_query: {} }, status: 201 },
      { method: 'GET', path: '/subscriptions/:id/', scope: 'subscription:read', object: subscription, status: 200 },
      { method: 'GET', path: '/subscriptions/:id/deliveries/', scope: 'subscription:read', object: subscription, status: 200 },
      { method: 'PATCH', path: '/subscriptions/:id/', scope: 'subscription:write', object: subscription, body: { title: 'Changed' }, status: 200 },
      { method: 'PUT', path: '/subscriptions/:id/', scope: 'subscription:write', object: subscription, body: full, status: 200 },
      // DELETE answers 405 once authorized, whatever the id (ForbidDestroyModel never looks the object up).
      { method: 'DELETE', path: '/subscriptions/:id/', scope: 'subscription:write', object: subscription, status: 405, foreignObject: 405 },
    ] satisfies AccessRow[]),
  );
});
