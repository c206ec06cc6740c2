import type { GuardedNetwork } from './guarded-network.js';

const QUIET_MS = 250;
const QUIET_MAX_INFLIGHT = 2;

/** The settle after a scroll pass ends no sooner than this after it, quiet network or not (see QuietOptions). */
export const SCROLL_GRACE_MS = 100;

/**
 * Resolves true once the network has been quiet for 250 ms with at most 2 requests open (like networkidle2), and at
 * least `graceMs` from now; false after `timeoutMs` (a page that never goes quiet is captured anyway).
 */
export function settle(net: GuardedNetwork, options: { timeoutMs: number; graceMs?: number; signal: AbortSignal }): Promise<boolean> {
  return net.waitForQuiet({
    quietMs: QUIET_MS,
    maxInflight: QUIET_MAX_INFLIGHT,
    ...(options.graceMs !== undefined && { notBefore: Date.now() + options.graceMs }),
    deadline: Date.now() + options.timeoutMs,
    signal: options.signal,
  });
}
