import { EVALUATE_TIMEOUT_MS, type InPage } from './in-page.js';
import { pageScript } from './page-scripts.js';

/**
 * The slow pass (see lazyCheck): each position held this long, so a scroll listener that checks at most every
 * 125 ms (lazysizes) or once scrolling has paused that long sees every position.
 */
export const SLOW_STEP_MS = 150;

export interface ScrollPassOptions {
  /** Where the pass starts (px from the top). */
  from: number;
  /** Time for the whole pass; it stops where it is when that runs out. */
  budgetMs: number;
  /** How far down it goes at most (the height cap). */
  maxY: number;
  /** How long each position is held at least: 0 for the fast pass, SLOW_STEP_MS for the slow one. */
  dwellMs: number;
}

/** What a scroll pass did: its steps, how far down it saw (-1: no answer), and whether it got to the end. */
export interface PassResult {
  steps: number;
  seen: number;
  done: boolean;
}

/** What topAndImages answers (see page-scripts/top-and-images.js); null when the page did not answer. */
export type AfterScroll = { grown?: number; pending?: number; height?: number } | null;

const scrollPassScript = pageScript<[ScrollPassOptions]>('scroll-pass');
const topAndImagesScript = pageScript<[{ seen: number; ms: number; maxY: number; lazy: 'check' | 'give up' }]>('top-and-images');

/** The scroll pass (page-scripts/scroll-pass.js); `seen` is -1 when the page did not answer. */
export async function scrollPass(browserSide: InPage, options: ScrollPassOptions): Promise<PassResult> {
  const timeoutMs = Math.max(0, options.budgetMs) + EVALUATE_TIMEOUT_MS;
  return browserSide.evaluate(scrollPassScript(options), { steps: 0, seen: -1, done: false }, timeoutMs);
}

/**
 * After the settle that follows a scroll pass: growth below `seen` (-1: not checked), lazy images still pending, or
 * else back to the top, at most `waitMs` for the images still loading above maxY, and the page's height
 * (page-scripts/top-and-images.js).
 */
export function topAndImages(
  browserSide: InPage,
  options: { seen: number; waitMs: number; maxY: number; lazy: 'check' | 'give up' },
): Promise<AfterScroll> {
  const { seen, waitMs, maxY, lazy } = options;
  return browserSide.evaluate<AfterScroll>(topAndImagesScript({ seen, ms: waitMs, maxY, lazy }), null, waitMs + 500);
}
