import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { SharedRedis } from '../lib/redis.js';

type Counted = { current: number; ttl: number };
type StoreCtor<A extends unknown[]> = new (continueExceeding: boolean, exponentialBackoff: boolean, ...rest: A) => FastifyRateLimitStore;

// @fastify/rate-limit's own two stores, which its index does not export: the in-memory one it uses by default and
// the Redis one it uses with its `redis` option.
const require = createRequire(import.meta.url);
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor<[]>;
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreCtor<[redis: Redis, key: string]>;

/**
 * The throttle's store with REDIS_URL: every request is counted in this process and, while Redis answers, in Redis
 * (`burrow:throttle:<window>:<key hash>`, expiring with its window). Redis's count decides when it answers, this
 * process's when it does not, so an outage degrades to per-process limits instead of to none (the plugin's
 * `skipOnError`) or to 500s (its default). Not a `child` of the Redis store: that names keys after the route,
 * which `createRateLimit` windows do not have (their keys carry the window's name instead, http/auth.ts).
 */
export function sharedThrottleStore(redis: SharedRedis): FastifyRateLimitStoreCtor {
  const shared = new RedisStore(false, false, redis.client, 'burrow:throttle:');
  const sharedIncr = (key: string, timeWindow: number, max: number) =>
    new Promise<Counted>((resolve, reject) =>
      shared.incr(key, (error, counted) => (counted ? resolve(counted) : reject(error ?? new Error('no count'))), timeWindow, max),
    );

  return class SharedThrottleStore implements FastifyRateLimitStore {
    private readonly local = new LocalStore(false, false);

    incr(key: string, callback: (error: Error | null, result?: Counted) => void, timeWindow: number, max: number): void {
      this.local.incr(
        key,
        (_error, counted) => {
          void redis.run(() => sharedIncr(key, timeWindow, max)).then((result) => callback(null, result ?? counted));
        },
        timeWindow,
        max,
      );
    }

    child(): FastifyRateLimitStore {
      return new SharedThrottleStore();
    }
  };
}
