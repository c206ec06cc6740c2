import { gzipSync } from 'node:zlib';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, sessionRecordings } from '../../../src/db/schema/index.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories } from '../../helpers/factories.js';

let counter = 0;
const nextUuid = () => `0190a0b0-0000-7000-c000-${String(++counter).padStart(12, '0')}`;

describe('capture: rate limits and the recordings quota', () => {
  let ctx: TestContext;
  let make: Factories;

  beforeAll(async () => {
    // A bucket of 20 events (2 per second, ten seconds' burst); one recording a month.
    ctx = await createTestContext({ CAPTURE_EVENTS_PER_SECOND: '2', RECORDINGS_QUOTA_PER_MONTH: '1' });
    make = factories(ctx);
  });
  afterAll(() => ctx.close());

  const pageviews = (token: string, n: number) => ({
    api_key: token,
    batch: Array.from({ length: n }, () => ({ uuid: nextUuid(), event: '$pageview', distinct_id: 'v', properties: {} })),
  });
  const stored = async (teamId: number) => (await ctx.database.db.select().from(events).where(eq(events.teamId, teamId))).length;

  it('answers 429 with Retry-After once a project sends faster than CAPTURE_EVENTS_PER_SECOND, storing nothing of it', async () => {
    const busy = await make.tenant();
    const token = await make.projectToken(busy);
    expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: pageviews(token, 20) })).statusCode).toBe(200);
    // 15 more need 7.5 s of refill: refused even on a slow machine.
    const throttled = await ctx.app.inject({ method: 'POST', url: '/batch/', payload: pageviews(token, 15) });
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toMatchObject({ type: 'throttled_error', code: 'throttled' });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await stored(busy.teamId)).toBe(20);

    const quiet = await make.tenant();
    expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: pageviews(await make.projectToken(quiet), 5) })).statusCode).toBe(200);
  });

  it('takes no recording past the monthly quota: /s/ answers quota_limited and the config stops recording', async () => {
    const owner = await make.tenant();
    const token = await make.projectToken(owner);
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { session_recording_opt_in: true }));
    const snapshot = (sessionId: string) =>
      gzipSync(
        JSON.stringify([
          { uuid: nextUuid(), event: '$snapshot', properties: { token, distinct_id: 'v', $session_id: sessionId, $snapshot_data: [{ type: 4, timestamp: Date.now(), data: { href: 'https://a.example/' } }] } },
        ]),
      );
    const send = (sessionId: string) => ctx.app.inject({ method: 'POST', url: '/s/', headers: { 'content-type': 'text/plain' }, payload: snapshot(sessionId) });

    expect((await send('first')).json()).toEqual({ status: 'Ok' });
    const limited = await send('second');
    expect(limited.statusCode).toBe(200);
    expect(limited.json()).toEqual({ status: 'Ok', quota_limited: ['recordings'] });
    const sessions = (await ctx.database.db.select().from(sessionRecordings).where(eq(sessionRecordings.teamId, owner.teamId))).map((r) => r.sessionId);
    expect(sessions).toEqual(['first']);

    const config = (await ctx.app.inject({ method: 'GET', url: `/array/${token}/config` })).json();
    expect(config).toMatchObject({ sessionRecording: false, quotaLimited: ['recordings'] });
  });
});
