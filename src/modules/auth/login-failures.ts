import type { SharedRedis } from '../../lib/redis.js';

/** django-axes as PostHog configures it: 30 failures lock an account out for 10 minutes. */
const LOGIN_FAILURE_LIMIT = 30;
const LOGIN_COOL_OFF_MS = 10 * 60 * 1000;

// INCR and PEXPIRE in one step, so no counter is left without its expiry.
const RECORD_FAILURE = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

/**
 * Failed logins per normalized email, counted for 10 minutes from the first one. Kept in this process and, with
 * REDIS_URL, in Redis (`burrow:login-failures:<email>`, expiring with the window), whose count decides while it
 * answers; this process's count decides when it does not.
 */
export function createLoginFailures(redis: SharedRedis | null) {
  const local = new Map<string, { count: number; since: number }>();
  const sharedKey = (email: string) => `burrow:login-failures:${email}`;

  function localEntry(email: string): { count: number; since: number } | undefined {
    const entry = local.get(email);
    if (entry && Date.now() - entry.since > LOGIN_COOL_OFF_MS) {
      local.delete(email);
      return undefined;
    }
    return entry;
  }

  return {
    async isLockedOut(email: string): Promise<boolean> {
      const shared = await redis?.run((client) => client.get(sharedKey(email)));
      const count = shared === undefined ? (localEntry(email)?.count ?? 0) : Number(shared ?? 0);
      return count >= LOGIN_FAILURE_LIMIT;
    },

    async recordFailure(email: string): Promise<void> {
      const entry = localEntry(email) ?? { count: 0, since: Date.now() };
      local.set(email, { ...entry, count: entry.count + 1 });
      await redis?.run((client) => client.eval(RECORD_FAILURE, 1, sharedKey(email), LOGIN_COOL_OFF_MS));
    },

    async clear(email: string): Promise<void> {
      local.delete(email);
      await redis?.run((client) => client.del(sharedKey(email)));
    },
  };
}
