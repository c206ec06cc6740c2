import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/lib/ids.js';
import { bearer, createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/context.js';
import { waitFor } from '../helpers/jobs.js';
import { redisNamespace, redisServer } from '../helpers/redis.js';

// Two contexts on one database and one Redis stand for two server processes behind a proxy.

const LOCKED = {
  type: 'authentication_error',
  code: 'too_many_failed_attempts',
  detail: 'Too many failed login attempts. Please try again in 10 minutes.',
  attr: null,
};

async function twoServers(env: Record<string, string>): Promise<[TestContext, TestContext]> {
  const a = await createTestContext(env, { captureLogs: true });
  const b = await createTestContext(env, { captureLogs: true, database: a.database });
  return [a, b];
}

const get = (ctx: TestContext, key: string) => ctx.app.inject({ url: '/api/users/@me/', headers: bearer(key) });
const login = (ctx: TestContext, email: string, password: string) => ctx.app.inject({ method: 'POST', url: '/api/login/', payload: { email, password } });

describe('limits shared through Redis (REDIS_URL)', () => {
  const redis = redisNamespace();
  let a: TestContext;
  let b: TestContext;

  beforeAll(async () => {
    [a, b] = await twoServers({ REDIS_URL: redis.url, RATE_LIMIT_BURST_PER_MINUTE: '5' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis.clean();
  });

  it("gives a key one budget across servers, kept in Redis with each window's expiry", async () => {
    const account = await a.newAccount();
    const key = await a.newKey(account.user);
    for (let i = 0; i < 3; i += 1) expect((await get(a, key)).statusCode).toBe(200);
    for (let i = 0; i < 2; i += 1) expect((await get(b, key)).statusCode).toBe(200);
    const throttled = await get(b, key);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toMatchObject({ type: 'throttled_error', code: 'throttled' });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await get(a, key)).statusCode).toBe(429);

    const keys = (await redis.keys()).filter((k) => k.includes(':throttle:'));
    const hash = hashApiKey(key);
    expect(keys).toEqual([`${redis.prefix}burrow:throttle:hour:${hash}`, `${redis.prefix}burrow:throttle:minute:${hash}`]);
    expect(await redis.client.get(keys[1]!)).toBe('7');
    const minute = await redis.client.pttl(keys[1]!);
    const hour = await redis.client.pttl(keys[0]!);
    expect(minute).toBeGreaterThan(0);
    expect(minute).toBeLessThanOrEqual(60_000);
    expect(hour).toBeGreaterThan(60_000);
    expect(hour).toBeLessThanOrEqual(3_600_000);
    expect(a.logs!.text).not.toContain('Redis is unavailable');
  });

  // Thirty scrypt checks: seconds on a quiet machine, more on a busy one.
  it('locks an account out after 30 failed logins counted across servers', { timeout: 120_000 }, async () => {
    const victim = await a.newAccount();
    const email = victim.user.email;
    for (let i = 0; i < 15; i += 1) expect((await login(a, email, `wrong ${i}`)).statusCode).toBe(400);
    for (let i = 15; i < 30; i += 1) expect((await login(b, email, `wrong ${i}`)).statusCode).toBe(400);
    for (const server of [a, b]) {
      const locked = await login(server, email, STRONG_PASSWORD);
      expect(locked.statusCode).toBe(403);
      expect(locked.json()).toEqual(LOCKED);
    }
    const counter = `${redis.prefix}burrow:login-failures:${email}`;
    expect(await redis.client.get(counter)).toBe('30');
    const ttl = await redis.client.pttl(counter);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
  });

  it("clears an account's shared count when it logs in on any server", async () => {
    const account = await a.newAccount();
    const counter = `${redis.prefix}burrow:login-failures:${account.user.email}`;
    expect((await login(a, account.user.email, 'wrong')).statusCode).toBe(400);
    expect(await redis.client.get(counter)).toBe('1');
    expect((await login(b, account.user.email.toUpperCase(), STRONG_PASSWORD)).statusCode).toBe(200);
    expect(await redis.client.exists(counter)).toBe(0);
  });
});

describe('when Redis is down, hung or back', () => {
  let server: Awaited<ReturnType<typeof redisServer>>;
  let a: TestContext;
  let b: TestContext;
  let account: Awaited<ReturnType<TestContext['newAccount']>>;
  const logged = (ctx: TestContext, msg: string) => ctx.logs!.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg)).length;
  const UNAVAILABLE = 'Redis is unavailable';
  const BACK = 'Redis answers again';

  /** Three requests through each server: with burst 3, all of them pass only if each server counts alone. */
  async function perProcess(): Promise<number[]> {
    const key = await a.newKey(account.user);
    const statuses: number[] = [];
    for (const ctx of [a, b, a, b, a, b, a, b]) statuses.push((await get(ctx, key)).statusCode);
    return statuses;
  }

  /** Two requests through A and one through B spend a shared budget of three. */
  async function shared(): Promise<number[]> {
    const key = await a.newKey(account.user);
    const statuses: number[] = [];
    for (const ctx of [a, b, a, b, a]) statuses.push((await get(ctx, key)).statusCode);
    return statuses;
  }

  beforeAll(async () => {
    server = await redisServer();
    [a, b] = await twoServers({ REDIS_URL: server.url, RATE_LIMIT_BURST_PER_MINUTE: '3' });
    account = await a.newAccount();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await server?.kill();
  });

  it('starts while Redis is down, warns, and limits each server on its own', async () => {
    expect(logged(a, UNAVAILABLE)).toBe(1);
    expect(logged(b, UNAVAILABLE)).toBe(1);
    expect(await perProcess()).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    expect((await login(a, account.user.email, 'wrong')).statusCode).toBe(400);
    expect((await login(b, account.user.email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('shares the budget once Redis is up, without a restart', async () => {
    await server.start();
    await waitFor(() => logged(a, BACK) === 1 && logged(b, BACK) === 1, 15_000);
    expect(await shared()).toEqual([200, 200, 200, 429, 429]);
  });

  it('costs a hung Redis one short timeout, not seconds, and answers from per-process counts', async () => {
    server.pause();
    try {
      const key = await a.newKey(account.user);
      const started = Date.now();
      expect((await get(a, key)).statusCode).toBe(200);
      // The command timeout is 250 ms; the rest is a loaded machine's margin.
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(logged(a, UNAVAILABLE)).toBe(2);
      expect((await get(a, key)).statusCode).toBe(200);
      expect((await get(a, key)).statusCode).toBe(200);
      expect((await get(a, key)).statusCode).toBe(429);
    } finally {
      server.resume();
    }
  });

  it('falls back to per-process limits when Redis goes away, never failing a request', async () => {
    await server.kill();
    await waitFor(() => logged(b, UNAVAILABLE) === 2);
    expect(await perProcess()).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    expect((await login(a, account.user.email, 'wrong')).statusCode).toBe(400);
    expect((await login(b, account.user.email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('shares again when Redis is back', async () => {
    await server.start();
    await waitFor(() => logged(a, BACK) >= 2 && logged(b, BACK) === 2, 15_000);
    expect(await shared()).toEqual([200, 200, 200, 429, 429]);
    expect(a.logs!.lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
    expect(b.logs!.lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });
});
