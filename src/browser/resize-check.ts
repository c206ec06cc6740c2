import type { BrowserContext, Page } from 'playwright-core';
import { EVALUATE_TIMEOUT_MS, orTimeout, TIMED_OUT, type InPage } from './in-page.js';
import { pageScript } from './page-scripts.js';

/**
 * After a resize, whether a scroll pass could still load anything (page-scripts/resize-check.js): the page's
 * IntersectionObserver targets (followed by page-scripts/io-tracker.js), lazy images and iframes, in the main frame
 * and in every child frame.
 */

const IO_TRACKER = pageScript<[]>('io-tracker')();
const resizeCheckScript = pageScript<[{ maxY: number; settle: boolean }]>('resize-check');

/** Far enough down for any page: a frame's own document is not clipped by the height cap. */
const FRAME_MAX_Y = 10_000_000;
const FRAME_CHECK_TIMEOUT_MS = 1_000;

/**
 * The IntersectionObserver tracker, in every document the context loads from now on (so, before the first
 * navigation, in every document of the page): what resizeCheck asks about.
 */
export async function trackIntersectionObservers(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: IO_TRACKER });
}

/**
 * resizeCheck in the main frame, two frames after the resize: what is pending above maxY (-1: no tracker) and the
 * page's height up to maxY; null when the page does not answer.
 */
export function resizeCheck(browserSide: InPage, maxY: number): Promise<{ pending: number; seen: number } | null> {
  // Two frames (each at most 500 ms when none comes) before it looks: time for those on top of the usual.
  return browserSide.evaluate<{ pending: number; seen: number } | null>(resizeCheckScript({ maxY, settle: true }), null, EVALUATE_TIMEOUT_MS + 1_000);
}

/**
 * resizeCheck in the page's other frames (each has its own tracker): whether any might still need a pass. A frame
 * that does not answer, or has no tracker, counts as needing one; a frame gone meanwhile does not.
 */
export async function childFramesPending(page: Page, maxY: number): Promise<boolean> {
  const frames = page.frames().filter((frame) => frame !== page.mainFrame() && !frame.isDetached());
  if (frames.length === 0) return false;
  const answers = await Promise.all(
    frames.map(async (frame) => {
      try {
        const answer = frame.evaluate(resizeCheckScript({ maxY: Math.max(maxY, FRAME_MAX_Y), settle: false })) as Promise<{ pending: number } | null>;
        const value = await orTimeout(answer, FRAME_CHECK_TIMEOUT_MS);
        return value === TIMED_OUT || value === null ? !frame.isDetached() : value.pending !== 0;
      } catch {
        return !frame.isDetached();
      }
    }),
  );
  return answers.some(Boolean);
}
