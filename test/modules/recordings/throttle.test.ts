import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, sessionHeaders } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { record } from './fixtures.js';

describe('session recordings: the replay throttles of personal API keys (RECORDINGS_API_TIER)', () => {
  let ctx: TestContext;
  let owner: Tenant;
  const url = (path = '') => `/api/projects/${owner.teamId}/session_recordings/${path}`;

  beforeAll(async () => {
    ctx = await createTestContext({ RECORDINGS_API_TIER: 'free' });
    const make = factories(ctx);
    owner = await make.tenant();
    await record(ctx, await make.projectToken(owner), { sessionId: 's1', distinctId: 'd', start: Date.now() - 60_000, durationSeconds: 5, url: 'https://a.example/' });
  });
  afterAll(() => ctx.close());

  it('lets a key list 12 times a minute on the free tier, then answers 429 with Retry-After; snapshots count apart; sessions are not throttled', async () => {
    for (let i = 0; i < 12; i++) ok(await owner.call('GET', url()));
    const refused = await owner.call('GET', url());
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ type: 'throttled_error', code: 'throttled' });
    expect(refused.json().detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds?\.$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    // Snapshots have a budget of their own; other actions only the global one.
    for (let i = 0; i < 12; i++) ok(await owner.call('GET', url('s1/snapshots/')));
    expect((await owner.call('GET', url('s1/snapshots/'))).statusCode).toBe(429);
    ok(await owner.call('GET', url('s1/')));

    const session = sessionHeaders(await ctx.login(owner.user.email));
    for (let i = 0; i < 14; i++) ok(await ctx.app.inject({ method: 'GET', url: url(), headers: session }));
  });
});
