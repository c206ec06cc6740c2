import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestContext, type TestAccount, type TestContext } from '../helpers/context.js';

describe('throttling per personal API key', () => {
  let ctx: TestContext;
  let account: TestAccount;

  beforeAll(async () => {
    ctx = await createTestContext({ RATE_LIMIT_BURST_PER_MINUTE: '3', RATE_LIMIT_SUSTAINED_PER_HOUR: '5' });
    account = await ctx.newAccount();
  });
  afterAll(() => ctx.close());

  const get = (headers: Record<string, string>) => ctx.app.inject({ url: '/api/projects/@current/', headers });

  it("answers 429 with PostHog's body and Retry-After once a key's burst budget is spent", async () => {
    const key = await ctx.newKey(account.user);
    for (let i = 0; i < 3; i += 1) expect((await get(bearer(key))).statusCode).toBe(200);
    const throttled = await get(bearer(key));
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toMatchObject({ type: 'throttled_error', code: 'throttled', attr: null });
    expect(throttled.json().detail).toMatch(/^Request was throttled\. Expected available in (\d+) seconds?\.$/);
    const wait = Number(/in (\d+) second/.exec(throttled.json().detail)![1]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(throttled.headers['retry-after']).toBe(String(wait));
  });

  it('gives each key its own budget, and does not throttle browser sessions', async () => {
    const other = await ctx.newKey(account.user);
    expect((await get(bearer(other))).statusCode).toBe(200);
    const session = await ctx.login(account.user.email);
    for (let i = 0; i < 6; i += 1) expect((await get({ cookie: session.cookie })).statusCode).toBe(200);
  });

  it('applies the hourly budget as well', async () => {
    const limited = await createTestContext({ RATE_LIMIT_BURST_PER_MINUTE: '100', RATE_LIMIT_SUSTAINED_PER_HOUR: '2' });
    try {
      const a = await limited.newAccount();
      const key = await limited.newKey(a.user);
      const call = () => limited.app.inject({ url: '/api/users/@me/', headers: bearer(key) });
      expect((await call()).statusCode).toBe(200);
      expect((await call()).statusCode).toBe(200);
      const third = await call();
      expect(third.statusCode).toBe(429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(60);
    } finally {
      await limited.close();
    }
  });

  it('can be turned off', async () => {
    const off = await createTestContext({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_BURST_PER_MINUTE: '1' });
    try {
      const a = await off.newAccount();
      const key = await off.newKey(a.user);
      for (let i = 0; i < 4; i += 1) expect((await off.app.inject({ url: '/api/users/@me/', headers: bearer(key) })).statusCode).toBe(200);
    } finally {
      await off.close();
    }
  });
});
