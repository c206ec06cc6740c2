import { CONSENT_TIMEOUT_MS } from '../../../browser/consent.js';
import { SLOW_STEP_MS } from '../../../browser/scroll.js';
import type { Config } from '../../../config.js';
import { VIEWPORT_HEIGHT } from './device.js';

export type RenderSettings = Pick<Config['render'], 'navigationTimeoutMs' | 'settleTimeoutMs' | 'heightCapPx' | 'maxBytes' | 'jpegQuality'>;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** How long each phase may take; a kind's render never takes longer than `hardLimitFor(its widths)`. */
export function budgets(settings: RenderSettings) {
  const navigationMs = settings.navigationTimeoutMs;
  const settleMs = settings.settleTimeoutMs;
  const scrollMs = clamp(settings.settleTimeoutMs / 2, 1_000, 5_000);
  /** The slow pass: SLOW_STEP_MS (and up to two frames) per viewport height, down to the height cap. */
  const slowScrollMs = Math.max(scrollMs, Math.ceil(settings.heightCapPx / VIEWPORT_HEIGHT) * (SLOW_STEP_MS + 50));
  /** The wait for images still loading, after the settle. */
  const afterScrollMs = clamp(settings.settleTimeoutMs / 2, 500, 3_000);
  const captureMs = settings.navigationTimeoutMs;
  /**
   * One width on a loaded page: resize, scroll (fast and slow, each with its one extension of slowScrollMs when it
   * ran out of time before the end), settle, images, capture, encoding and storing.
   */
  const widthMs = scrollMs + 3 * slowScrollMs + 2 * settleMs + afterScrollMs + captureMs + 5_000;
  /** A navigation, one started by the page itself, the consent step (with its settle), and slack for the context. */
  const pageMs = 2 * navigationMs + settleMs + CONSENT_TIMEOUT_MS + 10_000;
  const hardLimitFor = (widths: number) => pageMs + Math.max(1, widths) * widthMs;
  return { navigationMs, settleMs, scrollMs, slowScrollMs, afterScrollMs, captureMs, widthMs, hardLimitFor, hardLimitMs: hardLimitFor(1) };
}

export type Budgets = ReturnType<typeof budgets>;
