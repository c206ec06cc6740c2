/**
 * How much one project may send: a token bucket per project that refills at `perSecond` events per second and holds
 * a burst of ten seconds' worth. Kept in each server process (several servers each allow the rate).
 */
export function createEventRateLimiter(perSecond: number, now: () => number = Date.now) {
  const capacity = perSecond * 10;
  const buckets = new Map<number, { tokens: number; at: number }>();
  return {
    /** Takes `count` events from the team's bucket; answers the seconds to wait when it holds too few, else 0. */
    take(teamId: number, count: number): number {
      if (perSecond <= 0) return 0;
      const t = now();
      const bucket = buckets.get(teamId) ?? { tokens: capacity, at: t };
      bucket.tokens = Math.min(capacity, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
      bucket.at = t;
      buckets.set(teamId, bucket);
      if (bucket.tokens < Math.min(count, capacity)) return Math.ceil((Math.min(count, capacity) - bucket.tokens) / perSecond);
      bucket.tokens -= count;
      return 0;
    },
  };
}

export type EventRateLimiter = ReturnType<typeof createEventRateLimiter>;
