import { sql } from 'drizzle-orm';
import { v5 as uuidv5 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { type AccessRow, accessTable, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok, sessionHeaders } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';
import { capture, record, type RecordingSpec } from './fixtures.js';

const FIELDS = [
  'id', 'distinct_id', 'viewed', 'viewers', 'recording_duration', 'active_seconds', 'inactive_seconds', 'start_time', 'end_time', 'click_count',
  'keypress_count', 'mouse_activity_count', 'console_log_count', 'console_warn_count', 'console_error_count', 'start_url', 'person',
  'retention_period_days', 'expiry_time', 'recording_ttl', 'snapshot_source', 'snapshot_library', 'ongoing', 'activity_score', 'has_summary',
  'summary_outcome', 'external_references', 'matches_filters', 'player_url',
];
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const NOW = Math.floor(Date.now() / 1000) * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const A: RecordingSpec = { sessionId: 'rec-a', distinctId: 'alice', start: NOW - HOUR, durationSeconds: 100, url: 'https://shop.example.com/a', clicks: 3, consoleErrors: ['boom'] };
const B: RecordingSpec = { sessionId: 'rec-b', distinctId: 'bob', start: NOW - 2 * HOUR, durationSeconds: 50, url: 'https://shop.example.com/b?x=1' };
const C: RecordingSpec = { sessionId: 'rec-c', distinctId: 'alice', start: NOW - HOUR / 2, durationSeconds: 200, url: 'https://shop.example.com/c', clicks: 10, blocks: 2 };
const OLD: RecordingSpec = { sessionId: 'rec-old', distinctId: 'carol', start: NOW - 5 * DAY, durationSeconds: 10, url: 'https://shop.example.com/old' };
const EXPIRED: RecordingSpec = { sessionId: 'rec-expired', distinctId: 'carol', start: NOW - 40 * DAY, durationSeconds: 10, url: 'https://shop.example.com/gone' };

/**
 * Hand-computed from the counts above with PostHog's formula (§2.3). Active time is counted per block and summed, as
 * PostHog sums its per-batch rows: rec-c's ten clicks fall five in each of its two blocks, 4 s + 4 s.
 */
const EXPECTED = { 'rec-a': { active: 2, score: 5.77 }, 'rec-b': { active: 0, score: 0 }, 'rec-c': { active: 8, score: 8.57 } };
/** Whole days from today (UTC) to the day the recording started plus 30. */
const ttlOf = (spec: RecordingSpec) => {
  const startDay = Date.UTC(new Date(spec.start).getUTCFullYear(), new Date(spec.start).getUTCMonth(), new Date(spec.start).getUTCDate());
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return (startDay + 30 * DAY - today) / DAY;
};

describe('session recordings API', () => {
  let ctx: TestContext;
  let make: Factories;
  let owner: Tenant;
  let token: string;
  let capturedC: object[];
  const base = () => `/api/projects/${owner.teamId}/session_recordings/`;
  const list = async (params: Record<string, unknown> = {}, as: Tenant = owner) => {
    const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    return ok(await as.call('GET', `/api/projects/${as.teamId}/session_recordings/?${query}`));
  };
  const ids = async (params: Record<string, unknown> = {}) => (await list(params)).results.map((r: { id: string }) => r.id);

  beforeAll(async () => {
    // The list is called far more often than the replay throttle lets a key (throttle.test.ts covers it).
    ctx = await createTestContext({ RATE_LIMIT_ENABLED: 'false' });
    make = factories(ctx);
    owner = await make.tenant();
    token = await make.projectToken(owner);
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { capture_console_log_opt_in: true }));
    for (const spec of [A, B, OLD, EXPIRED]) await record(ctx, token, spec);
    capturedC = await record(ctx, token, C);
    await capture(ctx, token, [
      { event: '$identify', distinct_id: 'alice', timestamp: iso(NOW - 2 * HOUR), properties: { $anon_distinct_id: 'anon-alice', $set: { email: 'alice@example.com' } } },
      { event: 'purchase', distinct_id: 'alice', timestamp: iso(C.start + 5000), properties: { $session_id: 'rec-c', plan: 'pro' } },
      { event: '$pageview', distinct_id: 'alice', timestamp: iso(A.start + 1000), properties: { $session_id: 'rec-a', $current_url: A.url } },
    ]);
  });
  afterAll(() => ctx.close());

  describe('list', () => {
    it('answers the last three days, newest first, in PostHog’s recording shape with hand-computed aggregates', async () => {
      const body = await list();
      expect(Object.keys(body)).toEqual(['results', 'has_next', 'version']);
      expect(body.has_next).toBe(false);
      expect(body.version).toBe(4);
      expect(body.results.map((r: { id: string }) => r.id)).toEqual(['rec-c', 'rec-a', 'rec-b']);
      const a = body.results[1];
      expect(Object.keys(a)).toEqual(FIELDS);
      expect(a).toEqual({
        id: 'rec-a',
        distinct_id: 'alice',
        viewed: false,
        viewers: [],
        recording_duration: 100,
        active_seconds: EXPECTED['rec-a'].active,
        inactive_seconds: 98,
        start_time: iso(A.start),
        end_time: iso(A.start + 100_000),
        click_count: 3,
        keypress_count: 0,
        mouse_activity_count: 3,
        console_log_count: 0,
        console_warn_count: 0,
        console_error_count: 1,
        start_url: A.url,
        person: expect.objectContaining({ name: 'alice@example.com', distinct_ids: ['alice'], properties: { email: 'alice@example.com' } }),
        retention_period_days: 30,
        expiry_time: iso(Date.UTC(new Date(A.start).getUTCFullYear(), new Date(A.start).getUTCMonth(), new Date(A.start).getUTCDate()) + 30 * DAY),
        recording_ttl: ttlOf(A),
        snapshot_source: 'web',
        snapshot_library: 'web',
        ongoing: true,
        activity_score: EXPECTED['rec-a'].score,
        has_summary: false,
        summary_outcome: null,
        external_references: [],
        matches_filters: true,
        player_url: `http://localhost:80/project/${owner.teamId}/replay/rec-a`,
      });
      expect(Object.keys(a.person)).toEqual(['id', 'name', 'distinct_ids', 'properties', 'created_at', 'uuid', 'last_seen_at']);
      expect(body.results[0].activity_score).toBe(EXPECTED['rec-c'].score);
      expect(body.results[2].activity_score).toBe(EXPECTED['rec-b'].score);
      // A distinct id without a person: PostHog's MissingPerson, with its uuid5.
      expect(body.results[2].person).toEqual({
        id: null,
        name: null,
        distinct_ids: ['bob'],
        properties: {},
        created_at: null,
        uuid: uuidv5(`${owner.teamId}:bob`, '932979b4-65c3-4424-8467-0b66ec27bc22'),
        last_seen_at: null,
      });
      // The first URL stays whole; without one, the first of the urls without its query string would be used.
      expect(body.results[2].start_url).toBe(B.url);
    });

    it('orders by every ordering PostHog offers, both ways, ties by session id', async () => {
      const byValue = (value: Record<string, number>) => ['rec-a', 'rec-b', 'rec-c'].sort((x, y) => value[y]! - value[x]! || (y < x ? -1 : 1));
      const expectations: Record<string, string[]> = {
        start_time: ['rec-c', 'rec-a', 'rec-b'],
        duration: ['rec-c', 'rec-a', 'rec-b'],
        recording_duration: ['rec-c', 'rec-a', 'rec-b'],
        active_seconds: ['rec-c', 'rec-a', 'rec-b'],
        inactive_seconds: ['rec-c', 'rec-a', 'rec-b'],
        click_count: ['rec-c', 'rec-a', 'rec-b'],
        mouse_activity_count: ['rec-c', 'rec-a', 'rec-b'],
        keypress_count: ['rec-c', 'rec-b', 'rec-a'],
        console_error_count: ['rec-a', 'rec-c', 'rec-b'],
        activity_score: ['rec-c', 'rec-a', 'rec-b'],
        recording_ttl: byValue({ 'rec-a': ttlOf(A), 'rec-b': ttlOf(B), 'rec-c': ttlOf(C) }),
        surfacing_score: ['rec-c', 'rec-a', 'rec-b'],
      };
      for (const [order, expected] of Object.entries(expectations)) {
        expect(await ids({ order }), order).toEqual(expected);
        expect(await ids({ order, order_direction: 'ASC' }), `${order} ASC`).toEqual([...expected].reverse());
      }
    });

    it('takes date_from and date_to, relative or ISO; expired recordings never show', async () => {
      expect(await ids({ date_from: '-7d' })).toEqual(['rec-c', 'rec-a', 'rec-b', 'rec-old']);
      expect(await ids({ date_from: 'all', order_direction: 'ASC' })).toEqual(['rec-old', 'rec-b', 'rec-a', 'rec-c']);
      expect(await ids({ date_from: iso(NOW - 90 * 60_000) })).toEqual(['rec-c', 'rec-a']);
      expect(await ids({ date_from: '-7d', date_to: '-1d' })).toEqual(['rec-old']);
      expect(await ids({ date_from: '-3h', date_to: iso(NOW - 45 * 60_000) })).toEqual(['rec-a', 'rec-b']);
      expect(await ids({ date_from: '-6dStart', date_to: '-4d' })).toEqual(['rec-old']);
    });

    it('restricts to session_ids in the order given (an empty list matches none), distinct_ids, or a person', async () => {
      expect(await ids({ session_ids: ['rec-b', 'rec-old', 'rec-c', 'rec-a'], date_from: '-7d' })).toEqual(['rec-b', 'rec-old', 'rec-c', 'rec-a']);
      expect(await ids({ session_ids: ['rec-b', 'rec-c'], order: 'duration' })).toEqual(['rec-b', 'rec-c']);
      expect(await ids({ session_ids: [] })).toEqual([]);
      expect(await ids({ distinct_ids: ['alice'] })).toEqual(['rec-c', 'rec-a']);
      const [person] = await queryRows<{ uuid: string }>(
        ctx.database.db,
        sql`select p.uuid::text as uuid from persons p join person_distinct_ids d on d.person_id = p.id where d.team_id = ${owner.teamId} and d.distinct_id = 'anon-alice'`,
      );
      expect(await ids({ person_uuid: person!.uuid })).toEqual(['rec-c', 'rec-a']);
      expect(await ids({ person_uuid: person!.uuid, distinct_ids: ['bob'] })).toEqual(['rec-b']);
    });

    it('puts session_recording_id first, saying whether it matches the filters, and never twice', async () => {
      const pinnedOld = await list({ session_recording_id: 'rec-old' });
      expect(pinnedOld.results.map((r: { id: string; matches_filters: boolean }) => [r.id, r.matches_filters])).toEqual([
        ['rec-old', false],
        ['rec-c', true],
        ['rec-a', true],
        ['rec-b', true],
      ]);
      expect((await list({ session_recording_id: 'rec-b' })).results.map((r: { id: string; matches_filters: boolean }) => [r.id, r.matches_filters])).toEqual([
        ['rec-b', true],
        ['rec-c', true],
        ['rec-a', true],
      ]);
      expect(await ids({ session_recording_id: 'rec-expired' })).toEqual(['rec-c', 'rec-a', 'rec-b']);
    });

    it('pages with limit and offset, and with the cursor without duplicates or gaps', async () => {
      const first = await list({ limit: 2 });
      expect(first.results.map((r: { id: string }) => r.id)).toEqual(['rec-c', 'rec-a']);
      expect(first.has_next).toBe(true);
      expect(typeof first.next_cursor).toBe('string');
      expect(await ids({ limit: 2, offset: 2 })).toEqual(['rec-b']);
      for (const order of ['start_time', 'activity_score', 'console_error_count', 'keypress_count']) {
        const all = await ids({ order, date_from: '-7d' });
        const walked: string[] = [];
        let after: string | undefined;
        for (let page = 0; page < 10; page++) {
          const body = await list({ order, date_from: '-7d', limit: 1, ...(after && { after }) });
          walked.push(...body.results.map((r: { id: string }) => r.id));
          if (!body.has_next) break;
          after = body.next_cursor;
        }
        expect(walked, order).toEqual(all);
      }
    });

    it('filters on the recording (having_predicates), its console logs and its events, combined by operand', async () => {
      const having = (key: string, operator: string, value: unknown) => ({ having_predicates: [{ type: 'recording', key, operator, value }] });
      expect(await ids(having('duration', 'gt', 60))).toEqual(['rec-c', 'rec-a']);
      expect(await ids(having('duration', 'lt', 60))).toEqual(['rec-b']);
      expect(await ids(having('active_seconds', 'gte', 2))).toEqual(['rec-c', 'rec-a']);
      expect(await ids(having('inactive_seconds', 'gt', 150))).toEqual(['rec-c']);
      expect(await ids(having('snapshot_source', 'exact', ['web']))).toEqual(['rec-c', 'rec-a', 'rec-b']);
      expect(await ids(having('snapshot_source', 'exact', ['mobile']))).toEqual([]);
      expect(await ids(having('visited_page', 'icontains', '/b'))).toEqual(['rec-b']);
      expect(await ids(having('visited_page', 'exact', [C.url]))).toEqual(['rec-c']);

      const consoleFilter = (key: string, operator: string, value: unknown) => ({ console_log_filters: [{ type: 'log_entry', key, operator, value }] });
      expect(await ids(consoleFilter('level', 'exact', ['error']))).toEqual(['rec-a']);
      expect(await ids(consoleFilter('level', 'exact', ['warn']))).toEqual([]);
      expect(await ids(consoleFilter('message', 'icontains', 'BOO'))).toEqual(['rec-a']);

      expect(await ids({ events: [{ id: 'purchase', type: 'events' }] })).toEqual(['rec-c']);
      expect(await ids({ events: [{ id: '$pageview', type: 'events' }, { id: 'purchase', type: 'events' }] })).toEqual([]);
      expect(await ids({ events: [{ id: '$pageview', type: 'events' }, { id: 'purchase', type: 'events' }], operand: 'OR' })).toEqual(['rec-c', 'rec-a']);
      expect(await ids({ ...having('duration', 'lt', 60), events: [{ id: 'purchase', type: 'events' }], operand: 'OR' })).toEqual(['rec-c', 'rec-b']);
      // Burrow keeps no recording comments and no actions: filters on them match nothing (an action only under AND).
      expect(await ids({ comment_text: { key: 'comment_text', operator: 'icontains', value: 'bug' } })).toEqual([]);
      expect((await owner.call('GET', `${base()}?comment_text=${encodeURIComponent(JSON.stringify({ operator: 'gt', value: 1 }))}`)).statusCode).toBe(400);
      expect(await ids({ actions: [{ id: 1, type: 'actions' }] })).toEqual([]);
      expect(await ids({ actions: [{ id: 1, type: 'actions' }], events: [{ id: 'purchase', type: 'events' }], operand: 'OR' })).toEqual(['rec-c']);
    });

    it('filters on event and person properties, and on the properties of the events it looks for', async () => {
      const property = (type: string, key: string, operator: string, value?: unknown) => ({ properties: [{ type, key, operator, ...(value !== undefined && { value }) }] });
      expect(await ids(property('event', 'plan', 'exact', ['pro']))).toEqual(['rec-c']);
      expect(await ids(property('event', 'plan', 'is_set'))).toEqual(['rec-c']);
      expect(await ids(property('event', '$current_url', 'icontains', '/a'))).toEqual(['rec-a']);
      expect(await ids(property('event', 'plan', 'regex', '^p'))).toEqual(['rec-c']);
      expect(await ids(property('person', 'email', 'exact', 'alice@example.com'))).toEqual(['rec-c', 'rec-a']);
      expect(await ids(property('person', 'email', 'is_not_set'))).toEqual([]);
      expect(await ids({ events: [{ id: 'purchase', type: 'events', properties: [{ key: 'plan', value: 'free', operator: 'exact', type: 'event' }] }] })).toEqual([]);
      expect(await ids({ events: [{ id: 'purchase', type: 'events', properties: [{ key: 'plan', value: 'pro', operator: 'exact', type: 'event' }] }] })).toEqual(['rec-c']);
      expect(
        await ids({ ...property('person', 'email', 'icontains', 'alice'), having_predicates: [{ type: 'recording', key: 'duration', operator: 'lt', value: 60 }], operand: 'OR' }),
      ).toEqual(['rec-c', 'rec-a', 'rec-b']);
      // Session properties: the sessions capture keeps from the events (rec-a's entry is its pageview; rec-c's only event has no URL).
      expect(await ids(property('session', '$entry_pathname', 'exact', '/a'))).toEqual(['rec-a']);
      expect(await ids(property('session', '$entry_current_url', 'icontains', 'shop'))).toEqual(['rec-a']);
      expect(await ids(property('session', '$pageview_count', 'gt', 0))).toEqual(['rec-a']);
      expect(await ids(property('session', '$entry_hostname', 'exact', 'shop.example.com'))).toEqual(['rec-a']);
      expect(await ids(property('session', '$is_bounce', 'exact', true))).toEqual(['rec-c', 'rec-a']);
      expect(await ids(property('session', '$session_duration', 'lt', 10))).toEqual(['rec-c', 'rec-a']);
      expectError(await owner.call('GET', `${base()}?properties=${encodeURIComponent(JSON.stringify([{ type: 'session', key: '$nope', operator: 'exact', value: 'x' }]))}`), 400, invalid('Unknown session property "$nope".', 'key'));
      expectError(await owner.call('GET', `${base()}?properties=${encodeURIComponent(JSON.stringify([{ type: 'event', key: 'plan', operator: 'regex', value: '(' }]))}`), 400, invalid('Invalid regular expression.', null));
      expect((await owner.call('GET', `${base()}?properties=${encodeURIComponent(JSON.stringify([{ type: 'event', key: 'plan', operator: 'shouts' }]))}`)).statusCode).toBe(400);
    });

    it('with filter_test_accounts, also requires the project’s test_account_filters, whatever the operand', async () => {
      const project = `/api/projects/${owner.teamId}/`;
      // Only people with an email count (bob has no person): the filter is ANDed even when the query ORs its own.
      ok(await owner.call('PATCH', project, { test_account_filters: [{ key: 'email', type: 'person', value: '@example.com', operator: 'icontains' }] }));
      try {
        expect(await ids({})).toEqual(['rec-c', 'rec-a', 'rec-b']);
        expect(await ids({ filter_test_accounts: true })).toEqual(['rec-c', 'rec-a']);
        expect(await ids({ filter_test_accounts: true, having_predicates: [{ type: 'recording', key: 'duration', operator: 'gt', value: 0 }], operand: 'OR' })).toEqual(['rec-c', 'rec-a']);
      } finally {
        ok(await owner.call('PATCH', project, { test_account_filters: [] }));
      }
    });

    it('hides recordings the caller (or anyone) has viewed', async () => {
      const member = await make.member(owner);
      ok(await member.call('PATCH', `${base()}rec-a/`, { viewed: true }));
      expect(await ids({ hide_viewed_recordings: 'current-user' })).toEqual(['rec-c', 'rec-a', 'rec-b']);
      expect(await ids({ hide_viewed_recordings: 'any-user' })).toEqual(['rec-c', 'rec-b']);
      const seenByMember = await list({}, member);
      expect(seenByMember.results.find((r: { id: string }) => r.id === 'rec-a')).toMatchObject({ viewed: true, viewers: [] });
      expect((await list()).results.find((r: { id: string }) => r.id === 'rec-a')).toMatchObject({ viewed: false, viewers: [member.user.email] });
    });

    it('refuses unknown parameters and bad values with pydantic’s error list as the detail', async () => {
      const unknown = await owner.call('GET', `${base()}?colour=blue`);
      expect(unknown.statusCode).toBe(400);
      const body = unknown.json();
      expect(body).toMatchObject({ type: 'validation_error', code: 'invalid_input', attr: null });
      expect(JSON.parse(body.detail)).toEqual([{ type: 'extra_forbidden', loc: ['colour'], msg: 'Extra inputs are not permitted', input: 'blue' }]);
      expect((await owner.call('GET', `${base()}?order=size`)).statusCode).toBe(400);
      expect((await owner.call('GET', `${base()}?limit=0`)).statusCode).toBe(400);
      expectError(await owner.call('GET', `${base()}?date_from=yesterday`), 400, invalid('Invalid date_from: yesterday', 'date_from'));
      expectError(await owner.call('GET', `${base()}?after=nonsense`), 400, invalid('Invalid cursor', 'after'));
      for (const bad of [
        { having_predicates: [{ type: 'recording', key: 'duration', operator: 'gt', value: 1e308 }] },
        { having_predicates: [{ type: 'recording', key: 'duration', operator: 'gt', value: 'ten' }] },
        { console_log_filters: [{ type: 'log_entry', key: 'message', operator: 'regex', value: '(' }] },
        { after: Buffer.from(JSON.stringify(['2026-01-01', 'x'])).toString('base64url'), order: 'duration' },
        { limit: 1e12, offset: 1e12 },
        { session_ids: ['\u0000'] },
      ]) {
        const response = await owner.call('GET', `${base()}?${new URLSearchParams(Object.entries(bad).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]))}`);
        expect(response.statusCode, `${JSON.stringify(bad)}: ${response.body}`).toBeLessThan(500);
      }
      // Dropped by PostHog's view before validation.
      expect((await owner.call('GET', `${base()}?as_query=true&version=2&hogql_filtering=1`)).statusCode).toBe(200);
    });

    it('keeps each organization’s recordings to itself', async () => {
      const other = await make.tenant();
      await record(ctx, await make.projectToken(other), { ...A, sessionId: 'theirs' });
      expect(await ids()).not.toContain('theirs');
      expect((await list({}, other)).results.map((r: { id: string }) => r.id)).toEqual(['theirs']);
      expectError(await other.call('GET', `/api/projects/${other.teamId}/session_recordings/rec-a/`), 404, notFound('Recording not found'));
    });
  });

  describe('retrieve, update, delete', () => {
    it('answers the recording with all of its person’s distinct ids and no activity score; 404 when there is none', async () => {
      const body = ok(await owner.call('GET', `${base()}rec-a/`));
      expect(Object.keys(body)).toEqual(FIELDS);
      expect(body).toMatchObject({ id: 'rec-a', recording_duration: 100, activity_score: null, matches_filters: true });
      expect(body.person.distinct_ids).toEqual(['alice', 'anon-alice']);
      for (const id of ['nope', 'rec-expired']) expectError(await owner.call('GET', `${base()}${id}/`), 404, notFound('Recording not found'));
    });

    it('records a view with PATCH or PUT and answers {success: true}; neither viewed nor analyzed is a 400', async () => {
      expect(ok(await owner.call('PATCH', `${base()}rec-b/`, { viewed: true, player_metadata: { x: 1 } }))).toEqual({ success: true });
      expect(ok(await owner.call('PUT', `${base()}rec-b/`, { analyzed: true }))).toEqual({ success: true });
      expect(ok(await owner.call('GET', `${base()}rec-b/`)).viewed).toBe(true);
      expectError(await owner.call('PATCH', `${base()}rec-b/`, { viewed: false }), 400, invalid("At least one of 'viewed' or 'analyzed' must be provided.", null));
      expectError(await owner.call('PATCH', `${base()}nope/`, { viewed: true }), 404, notFound('Recording not found'));
    });

    it('marks and unmarks views in bulk, checks existence in batches, and tells who viewed (browser sessions only)', async () => {
      const session = sessionHeaders(await ctx.login(owner.user.email));
      const post = (path: string, payload: object) => ctx.app.inject({ method: 'POST', url: `${base()}${path}`, headers: session, payload });
      expect(ok(await post('bulk_viewed/', { session_recording_ids: ['rec-a', 'rec-c', 'nope'] }))).toEqual({ success: true, viewed_count: 3, total_requested: 3 });
      expect(ok(await ctx.app.inject({ method: 'GET', url: `${base()}rec-c/viewed/`, headers: session }))).toEqual({ viewed: true, other_viewers: 0 });
      expect(ok(await post('bulk_not_viewed/', { session_recording_ids: ['rec-c'] }))).toEqual({ success: true, not_viewed_count: 1, total_requested: 1 });
      expectError(await post('bulk_viewed/', { session_recording_ids: [] }), 400, invalid('session_recording_ids must be provided as a non-empty array', null));
      const many = Array.from({ length: 21 }, (_, i) => `s${i}`);
      expectError(await post('bulk_viewed/', { session_recording_ids: many }), 400, invalid('Cannot process more than 20 recordings at once', null));
      expect(ok(await post('batch_check_exists/', { session_ids: ['rec-a', 'rec-expired', 'nope'] }))).toEqual({ results: { 'rec-a': true, 'rec-expired': false, nope: false } });
      expectError(await post('batch_check_exists/', { session_ids: [1] }), 400, invalid('session_ids must contain only strings', null));
      expectError(await post('batch_check_exists/', { session_ids: Array.from({ length: 101 }, (_, i) => `s${i}`) }), 400, invalid('Cannot check more than 100 session IDs at once', null));
    });

    it('deletes at once for every read (204, unknown ids too), in bulk up to 100, and purges the blocks a day later', async () => {
      for (const spec of ['del-1', 'del-2', 'del-3']) await record(ctx, token, { ...B, sessionId: spec });
      expect((await owner.call('DELETE', `${base()}del-1/`)).statusCode).toBe(204);
      expect((await owner.call('DELETE', `${base()}never-was/`)).statusCode).toBe(204);
      expectError(await owner.call('GET', `${base()}del-1/`), 404, notFound('Recording not found'));
      expectError(await owner.call('GET', `${base()}del-1/snapshots/`), 404, notFound('Recording not found'));
      expect(await ids({ session_ids: ['del-1', 'del-2'] })).toEqual(['del-2']);

      expect(ok(await owner.call('POST', `${base()}bulk_delete/`, { session_recording_ids: ['del-2', 'del-3', 'del-1', 'nope'] }))).toEqual({
        success: true,
        deleted_count: 2,
        total_requested: 4,
        failed_ids: [],
      });
      expectError(await owner.call('POST', `${base()}bulk_delete/`, {}), 400, invalid('session_recording_ids must be provided as a non-empty array', null));
      const many = Array.from({ length: 101 }, (_, i) => `s${i}`);
      expectError(await owner.call('POST', `${base()}bulk_delete/`, { session_recording_ids: many }), 400, invalid('Cannot process more than 100 recordings at once', null));

      const [{ deleted_by: deletedBy }] = (await queryRows<{ deleted_by: string }>(ctx.database.db, sql`select deleted_by from session_recordings where session_id = 'del-1'`)) as [{ deleted_by: string }];
      expect(deletedBy).toBe(owner.user.email);
      await ctx.database.db.execute(sql`update session_recordings set deleted_at = now() - interval '25 hours' where session_id in ('del-1', 'del-2')`);
      const purged = await ctx.services.jobs.handlers['capture.retention']!({ job: {} as never, payload: {} as never, signal: new AbortController().signal, log: { info() {}, warn() {}, error() {} } as never });
      expect(purged).toBeUndefined();
      const left = await queryRows<{ session_id: string }>(
        ctx.database.db,
        sql`select session_id from recording_blocks where session_id like 'del-%' union all select session_id from session_recordings where session_id like 'del-%'`,
      );
      expect(left.map((r) => r.session_id).sort()).toEqual(['del-3', 'del-3']);
    });
  });

  describe('matching events', () => {
    it('answers the uuids and timestamps of one session’s events that match the event filters (browser sessions only)', async () => {
      const session = sessionHeaders(await ctx.login(owner.user.email));
      const get = (params: Record<string, unknown>) =>
        ctx.app.inject({
          method: 'GET',
          url: `${base()}matching_events/?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, JSON.stringify(v)]))}`,
          headers: session,
        });
      const body = ok(await get({ session_ids: ['rec-c'], events: [{ id: 'purchase', type: 'events' }] }));
      expect(body.results).toHaveLength(1);
      expect(body.results[0]).toEqual({ uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), timestamp: iso(C.start + 5000) });
      expect(ok(await get({ session_ids: ['rec-c'], events: [{ id: '$pageview', type: 'events' }] })).results).toEqual([]);
      expectError(await get({ session_ids: ['rec-c', 'rec-a'], events: [{ id: 'purchase' }] }), 400, invalid('Must specify exactly one session_id', null));
      expectError(await get({ session_ids: ['rec-c'] }), 400, invalid('Must specify at least one event or action filter, or event properties filter', null));
    });
  });

  it('answers the properties of a session’s latest event as its capture diagnostics (browser sessions only)', async () => {
    const session = sessionHeaders(await ctx.login(owner.user.email));
    const get = (id: string) => ctx.app.inject({ method: 'GET', url: `${base()}${id}/capture_diagnostics/`, headers: session });
    expect(ok(await get('rec-c'))).toEqual({ properties: expect.objectContaining({ $session_id: 'rec-c', plan: 'pro' }) });
    expect(ok(await get('rec-b'))).toEqual({ properties: null });
  });

  describe('snapshots', () => {
    it('lists the blocks as blob_v2 sources in time order, then serves a range as the captured [windowId, event] lines', async () => {
      const sources = ok(await owner.call('GET', `${base()}rec-c/snapshots/`));
      expect(sources.sources).toHaveLength(2);
      expect(sources.sources.map((s: { blob_key: string; source: string }) => [s.source, s.blob_key])).toEqual([
        ['blob_v2', '0'],
        ['blob_v2', '1'],
      ]);
      expect(sources.sources[0].start_timestamp).toBe(iso(C.start));
      expect(Date.parse(sources.sources[1].end_timestamp)).toBe(C.start + 200_000);

      const response = await owner.call('GET', `${base()}rec-c/snapshots/?source=blob_v2&start_blob_key=0&end_blob_key=1&decompress=true`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/jsonl/);
      expect(response.headers['cache-control']).toBe('max-age=3600');
      expect(response.headers['content-disposition']).toBe('inline');
      const lines = response.body.split('\n').map((line) => JSON.parse(line));
      expect(lines).toEqual(capturedC.map((event) => ['rec-c-window', event]));
      const second = await owner.call('GET', `${base()}rec-c/snapshots/?source=blob_v2&start_blob_key=1&end_blob_key=1`);
      expect(second.body.split('\n').map((line) => JSON.parse(line)[1])).toEqual(capturedC.slice(Math.ceil(capturedC.length / 2)));
    });

    it('refuses bad ranges with PostHog’s messages, 20 blocks at most for personal API keys and 100 for browsers', async () => {
      const get = (query: string, headers?: Record<string, string>) =>
        headers ? ctx.app.inject({ method: 'GET', url: `${base()}rec-c/snapshots/?${query}`, headers }) : owner.call('GET', `${base()}rec-c/snapshots/?${query}`);
      expectError(await get('source=blob'), 400, invalid('Invalid source must be one of [blob_v2, blob_v2_ts, None]', null));
      expectError(await get('source=blob_v2&start_blob_key=0'), 400, invalid('Must provide both start blob key and end blob key', null));
      expectError(await get('source=blob_v2&start_blob_key=a&end_blob_key=1'), 400, invalid('Blob keys must be integers', null));
      expectError(await get('source=blob_v2&start_blob_key=0&end_blob_key=21'), 400, invalid('Cannot request more than 20 blob keys at once', null));
      expectError(await get('source=blob_v2&start_blob_key=0&end_blob_key=20'), 404, notFound('Block index out of range'));
      const session = sessionHeaders(await ctx.login(owner.user.email));
      expectError(await get('source=blob_v2&start_blob_key=0&end_blob_key=21', session), 404, notFound('Block index out of range'));
      expectError(await get('source=blob_v2&start_blob_key=0&end_blob_key=101', session), 400, invalid('Cannot request more than 100 blob keys at once', null));
      expectError(await get('source=blob_v2_lts'), 400, invalid('Must provide a blob key', null));
      expectError(await owner.call('GET', `${base()}nope/snapshots/`), 404, notFound('Recording not found'));
      expectError(await owner.call('GET', `${base()}nope/snapshots/?source=blob_v2&start_blob_key=0&end_blob_key=0`), 404, notFound('Session recording not found'));
    });
  });

  describe('at scale', () => {
    it('walks 600 recordings page by page with the cursor, in every ordering and both directions, without duplicates or gaps', async () => {
      const crowd = await make.tenant();
      // Straight into the table as capture leaves it, with many ties: 60 distinct start times, click counts 0-6.
      await ctx.database.db.execute(sql`insert into session_recordings (team_id, session_id, distinct_id, start_time, end_time, active_milliseconds,
          click_count, keypress_count, mouse_activity_count, console_error_count, first_url, urls, snapshot_source, snapshot_library, retention_period_days)
        select ${crowd.teamId}, 'crowd-' || lpad(i::text, 4, '0'), 'd' || (i % 13), now() - (i % 60) * interval '30 minutes',
               now() - (i % 60) * interval '30 minutes' + (i % 90) * interval '1 second', (i % 11) * 1000, i % 7, i % 3, i % 9, i % 2,
               'https://crowd.example/' || i, '[]'::jsonb, 'web', 'web', 30
          from generate_series(1, 600) as i`);
      const crowdIds = async (params: Record<string, unknown>) => (await list(params, crowd)).results.map((r: { id: string }) => r.id);
      for (const order of ['start_time', 'click_count', 'activity_score', 'inactive_seconds', 'recording_ttl']) {
        for (const order_direction of ['DESC', 'ASC']) {
          const everything = await crowdIds({ order, order_direction, limit: 1000 });
          expect(everything).toHaveLength(600);
          const walked: string[] = [];
          let after: string | undefined;
          for (let page = 0; page < 20; page++) {
            const body = await list({ order, order_direction, limit: 50, ...(after && { after }) }, crowd);
            walked.push(...body.results.map((r: { id: string }) => r.id));
            if (!body.has_next) break;
            after = body.next_cursor;
          }
          expect(walked, `${order} ${order_direction}`).toEqual(everything);
        }
      }
    });
  });

  const recording: AccessRow['object'] = async (tenant) => {
    const id = `guarded-${Math.random().toString(36).slice(2, 8)}`;
    await record(ctx, await make.projectToken(tenant), { ...B, sessionId: id });
    return { id };
  };
  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/session_recordings/', scope: 'session_recording:read', status: 200 },
      { method: 'GET', path: '/session_recordings/:id/', scope: 'session_recording:read', object: recording, status: 200, foreignObject: 404 },
      { method: 'GET', path: '/session_recordings/:id/snapshots/', scope: 'session_recording:read', object: recording, status: 200, foreignObject: 404 },
      { method: 'PATCH', path: '/session_recordings/:id/', scope: 'session_recording:write', object: recording, body: { viewed: true }, status: 200, foreignObject: 404 },
      { method: 'PUT', path: '/session_recordings/:id/', scope: 'session_recording:write', object: recording, body: { viewed: true }, status: 200, foreignObject: 404 },
      { method: 'DELETE', path: '/session_recordings/:id/', scope: 'session_recording:write', object: recording, status: 204, foreignObject: 204 },
      { method: 'POST', path: '/session_recordings/bulk_delete/', scope: 'session_recording:write', body: { session_recording_ids: ['x'] }, status: 200 },
      { method: 'POST', path: '/session_recordings/bulk_viewed/', scope: 'sessions-only', body: { session_recording_ids: ['x'] }, status: 200 },
      { method: 'POST', path: '/session_recordings/bulk_not_viewed/', scope: 'sessions-only', body: { session_recording_ids: ['x'] }, status: 200 },
      { method: 'POST', path: '/session_recordings/batch_check_exists/', scope: 'sessions-only', body: { session_ids: ['x'] }, status: 200 },
      { method: 'GET', path: '/session_recordings/:id/viewed/', scope: 'sessions-only', object: recording, status: 200, foreignObject: 200 },
      { method: 'GET', path: '/session_recordings/:id/capture_diagnostics/', scope: 'sessions-only', object: recording, status: 200, foreignObject: 200 },
      { method: 'GET', path: '/session_recordings/matching_events/?session_ids=%5B%22x%22%5D&events=%5B%7B%22id%22%3A%22a%22%7D%5D', scope: 'sessions-only', status: 200 },
    ]),
  );
});
