import { DEFAULT_TARGET_WIDTHS, MAX_TARGET_WIDTHS, MAX_WIDTH, MIN_WIDTH } from './contract.js';

/** PostHog's STALE_PROCESSING_THRESHOLD: a screenshot still processing after this is rendered again. */
export const STALE_PROCESSING_MS = 10 * 60 * 1000;

/** PostHog's _resolve_widths: valid widths in order without repeats, the defaults when none are set, at most 16. */
export function resolveWidths(target: readonly unknown[]): number[] {
  const source = target.length > 0 ? target : DEFAULT_TARGET_WIDTHS;
  const widths = [...new Set(source.filter((w): w is number => Number.isInteger(w) && (w as number) >= MIN_WIDTH && (w as number) <= MAX_WIDTH))];
  return widths.length > 0 ? widths.slice(0, MAX_TARGET_WIDTHS) : [1024];
}
