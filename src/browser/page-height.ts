import type { Page } from 'playwright-core';
import { EVALUATE_TIMEOUT_MS, type InPage } from './in-page.js';
import { pageScript } from './page-scripts.js';

const PAGE_HEIGHT = pageScript<[]>('page-height')();

/** The page's height as Playwright's full-page capture measures it; `fallback` when the page does not tell. */
export async function measureHeight(page: Page, browserSide: InPage, fallback: number): Promise<number> {
  for (let attempt = 0; attempt < 2 && !browserSide.stalled; attempt++) {
    const height = await browserSide.evaluate<number | null>(PAGE_HEIGHT, null);
    if (typeof height === 'number' && height > 0) return Math.ceil(height);
    // The page may be between two documents (it navigated itself): give the new one a moment.
    await page.waitForLoadState('domcontentloaded', { timeout: EVALUATE_TIMEOUT_MS }).catch(() => undefined);
  }
  return fallback;
}
