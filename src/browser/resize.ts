import type { Page } from 'playwright-core';
import { TransientRenderError } from './errors.js';
import { EVALUATE_TIMEOUT_MS, type InPage } from './in-page.js';

/** A new viewport for the page: the viewport (and screen) change, as a fresh context of that size would have them. */
export async function resize(page: Page, browserSide: InPage, viewport: { width: number; height: number }): Promise<void> {
  const done = await browserSide.within(page.setViewportSize(viewport).then(() => true), EVALUATE_TIMEOUT_MS, false);
  if (!done) throw new TransientRenderError(`Could not resize the page to ${viewport.width} px`);
}
