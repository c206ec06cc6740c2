import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { heatmapPoints, personDistinctIds, persons, rawSessions } from '../../../src/db/schema/index.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';

let counter = 0;
const nextUuid = () => `0190a0b0-0000-7000-a000-${String(++counter).padStart(12, '0')}`;
const at = (seconds: number) => new Date(Date.parse('2026-12-01T10:00:00.000Z') + seconds * 1000).toISOString();

describe('capture: persons and sessions', () => {
  let ctx: TestContext;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    const make = factories(ctx);
    tenant = await make.tenant();
    token = await make.projectToken(tenant);
  });
  afterAll(() => ctx.close());

  const event = (name: string, distinctId: string, seconds: number, properties: Record<string, unknown> = {}) => ({
    uuid: nextUuid(),
    event: name,
    distinct_id: distinctId,
    timestamp: at(seconds),
    properties,
  });
  const send = async (batch: object[]) => {
    const response = await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: token, batch } });
    expect(response.statusCode, response.body).toBe(200);
  };
  async function personOf(distinctId: string) {
    const [row] = await ctx.database.db
      .select({ id: persons.id, properties: persons.properties, isIdentified: persons.isIdentified })
      .from(personDistinctIds)
      .innerJoin(persons, eq(persons.id, personDistinctIds.personId))
      .where(and(eq(personDistinctIds.teamId, tenant.teamId), eq(personDistinctIds.distinctId, distinctId)));
    return row;
  }
  const session = async (sessionId: string) =>
    (await ctx.database.db.select().from(rawSessions).where(and(eq(rawSessions.teamId, tenant.teamId), eq(rawSessions.sessionId, sessionId))))[0];

  it('makes a person per distinct id and applies $set, $set_once and $unset in time order', async () => {
    await send([
      event('$pageview', 'anon-1', 2, { $set: { plan: 'pro' }, $set_once: { first_seen: 'b' } }),
      event('$pageview', 'anon-1', 1, { $set: { plan: 'free', colour: 'red' }, $set_once: { first_seen: 'a' } }),
      event('clicked', 'anon-1', 3, { $unset: ['colour'] }),
    ]);
    expect(await personOf('anon-1')).toMatchObject({ properties: { plan: 'pro', first_seen: 'a' }, isIdentified: false });
  });

  it('merges the anonymous person into the identified one on $identify, the identified one’s properties winning', async () => {
    await send([event('$pageview', 'anon-2', 1, { $set: { plan: 'free', source: 'ad' } })]);
    await send([event('$pageview', 'user-2', 2, { $set: { plan: 'team' } })]);
    await send([event('$identify', 'user-2', 3, { $anon_distinct_id: 'anon-2', $set: { email: 'two@example.com' } })]);
    const identified = await personOf('user-2');
    expect(identified).toMatchObject({ properties: { plan: 'team', source: 'ad', email: 'two@example.com' }, isIdentified: true });
    expect((await personOf('anon-2'))!.id).toBe(identified!.id);

    // A first $identify for a new id gives it the anonymous person.
    await send([event('$pageview', 'anon-3', 1)]);
    const anonymous = await personOf('anon-3');
    await send([event('$identify', 'user-3', 2, { $anon_distinct_id: 'anon-3' })]);
    expect(await personOf('user-3')).toMatchObject({ id: anonymous!.id, isIdentified: true });
  });

  it('makes no person for events marked $process_person_profile: false, until the visitor is identified', async () => {
    const personless = { $process_person_profile: false };
    await send([event('$pageview', 'anon-4', 1, personless), event('clicked', 'anon-4', 2, { ...personless, $set: { plan: 'free' } })]);
    expect(await personOf('anon-4')).toBeUndefined();
    const [stored] = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from events where team_id = ${tenant.teamId} and distinct_id = 'anon-4'`);
    expect(stored!.n).toBe(2);
    // posthog-js's identify() processes the person: the anonymous id joins the identified person.
    await send([event('$identify', 'user-4', 3, { $anon_distinct_id: 'anon-4', $set: { email: 'four@example.com' } })]);
    const identified = await personOf('user-4');
    expect(identified).toMatchObject({ properties: { email: 'four@example.com' }, isIdentified: true });
    expect((await personOf('anon-4'))?.id).toBe(identified!.id);
  });

  it('keeps each session’s entry, end, attribution and counts, whatever order its events arrive in', async () => {
    const props = (url: string, extra: Record<string, unknown> = {}) => ({ $session_id: 'visit-1', $current_url: url, ...extra });
    await send([
      event('$pageview', 'anon-4', 20, props('https://shop.example.com/cart')),
      event('$autocapture', 'anon-4', 25, props('https://shop.example.com/cart')),
    ]);
    await send([
      event('$pageview', 'anon-4', 10, props('https://shop.example.com/?utm_source=news', { utm_source: 'news', $referring_domain: 'mail.example.org' })),
      event('$pageview', 'anon-4', 40, props('https://shop.example.com/thanks')),
    ]);
    const row = await session('visit-1');
    expect(row).toMatchObject({
      distinctId: 'anon-4',
      entryUrl: 'https://shop.example.com/?utm_source=news',
      endUrl: 'https://shop.example.com/thanks',
      entryReferringDomain: 'mail.example.org',
      entryAttribution: { utm_source: 'news' },
      pageviewCount: 3,
      autocaptureCount: 1,
      screenCount: 0,
    });
    expect(Date.parse(row!.startTimestamp)).toBe(Date.parse(at(10)));
    expect(Date.parse(row!.endTimestamp)).toBe(Date.parse(at(40)));
  });

  it('counts nothing twice when a batch is sent again', async () => {
    const batch = [event('$pageview', 'anon-5', 1, { $session_id: 'visit-2', $current_url: 'https://shop.example.com/', $set: { n: 1 } })];
    await send(batch);
    await send(batch);
    expect(await session('visit-2')).toMatchObject({ pageviewCount: 1 });
    expect(await personOf('anon-5')).toMatchObject({ properties: { n: 1 } });
  });

  it('counts a batch sent again, or twice at once, once: events, heatmap points, sessions and persons', async () => {
    const props = { $session_id: 'visit-3', $current_url: 'https://shop.example.com/', $viewport_width: 1280, $viewport_height: 720 };
    const heatmap = { 'https://shop.example.com/': [{ x: 10, y: 20, target_fixed: false, type: 'click' }] };
    const batch = [event('$pageview', 'anon-6', 1, props), event('$$heatmap', 'anon-6', 2, { ...props, $heatmap_data: heatmap })];
    await Promise.all([send(batch), send(batch)]);
    await send(batch);
    expect(await session('visit-3')).toMatchObject({ pageviewCount: 1, distinctId: 'anon-6' });
    const points = await ctx.database.db.select().from(heatmapPoints).where(eq(heatmapPoints.eventUuid, (batch[1] as { uuid: string }).uuid));
    expect(points).toHaveLength(1);
    expect(await personOf('anon-6')).toMatchObject({ properties: {}, isIdentified: false });
  });

  it('stores many requests sent at once, sharing statements, as each sent alone: events once, sessions added up', async () => {
    // More requests than CAPTURE_CONCURRENT_WRITES: on Postgres the waiting ones share statements. Two are sent twice.
    const props = (n: number) => ({ $session_id: 'visit-many', $current_url: `https://shop.example.com/${n}`, $viewport_width: 1280, $viewport_height: 720 });
    const heatmap = { 'https://shop.example.com/': [{ x: 10, y: 20, target_fixed: false, type: 'click' }] };
    const batches = Array.from({ length: 16 }, (_, n) => [
      event('$pageview', `visitor-${n}`, 100 - n, props(n)),
      event('$$heatmap', `visitor-${n}`, 100 - n, { ...props(n), $heatmap_data: heatmap }),
    ]);
    await Promise.all([...batches, batches[3]!, batches[9]!].map((batch) => send(batch)));
    expect(await session('visit-many')).toMatchObject({ pageviewCount: 16, distinctId: 'visitor-15', entryUrl: 'https://shop.example.com/15', endUrl: 'https://shop.example.com/0' });
    const [stored] = await queryRows<{ events: number; points: number }>(
      ctx.database.db,
      sql`select (select count(*)::int from events where team_id = ${tenant.teamId} and session_id = 'visit-many') as events,
        (select count(*)::int from heatmap_points where team_id = ${tenant.teamId} and session_id = 'visit-many') as points`,
    );
    expect(stored).toEqual({ events: 32, points: 16 });
    expect(await personOf('visitor-7')).toMatchObject({ properties: {}, isIdentified: false });
  });

  it('gives a new distinct id sent by two requests at once one person, and leaves no person without a distinct id', async () => {
    await Promise.all([send([event('$pageview', 'anon-7', 1)]), send([event('$pageview', 'anon-7', 2)]), send([event('clicked', 'anon-7', 3)])]);
    const [{ persons: count }] = (await ctx.database.db
      .select({ persons: sql<number>`count(*)::int` })
      .from(persons)
      .where(sql`${persons.teamId} = ${tenant.teamId} and not exists (select 1 from person_distinct_ids d where d.person_id = ${persons.id})`)) as [{ persons: number }];
    expect(count).toBe(0);
    expect(await personOf('anon-7')).toBeDefined();
  });

  it('merges on $identify a person made by an earlier request, also when the same batch holds other events', async () => {
    await send([event('$pageview', 'anon-8', 1, { $session_id: 'visit-4' })]);
    const anonymous = await personOf('anon-8');
    await send([
      event('$pageview', 'anon-8', 2, { $session_id: 'visit-4' }),
      event('$identify', 'user-8', 3, { $anon_distinct_id: 'anon-8', $session_id: 'visit-4', $set: { email: 'eight@example.com' } }),
      event('$pageview', 'user-8', 4, { $session_id: 'visit-4' }),
    ]);
    expect(await personOf('user-8')).toMatchObject({ id: anonymous!.id, properties: { email: 'eight@example.com' }, isIdentified: true });
    expect(await session('visit-4')).toMatchObject({ pageviewCount: 3, distinctId: 'anon-8' });
    // A later event of either id, sent alone, finds the merged person.
    await send([event('$pageview', 'anon-8', 5), event('$pageview', 'user-8', 6)]);
    expect((await personOf('anon-8'))!.id).toBe(anonymous!.id);
  });

  it('cuts an overlong URL or session id without splitting a character in two', async () => {
    const url = `https://shop.example.com/${'a'.repeat(4095 - 25)}\u{1F600}`;
    const sessionId = `${'s'.repeat(199)}\u{1F600}`;
    await send([event('$pageview', 'anon-9', 1, { $session_id: sessionId, $current_url: url })]);
    const row = await session('s'.repeat(199));
    expect(row).toMatchObject({ entryUrl: url.slice(0, 4095), pageviewCount: 1 });
  });
});
