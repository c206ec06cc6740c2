import type { Page } from 'playwright-core';
import { pageScript } from './page-scripts.js';

/**
 * Cookie and consent banners, for heatmaps with block_consent_modals (PostHog's local recipe, spec heatmaps.md
 * §4.4 A): click an accept button, then hide what is left with CSS, then remove Cookiebot's dialog.
 *
 * One deliberate difference: PostHog's `button:has-text("OK")` is Playwright's case-insensitive substring match,
 * so it clicks "Book a demo" or "Facebook". Button labels here must match the whole (trimmed) text.
 */

/** How long the whole consent step may take: eight selectors, one click and the hiding (PostHog: 500 ms a selector). */
export const CONSENT_TIMEOUT_MS = 5_000;

const ACCEPT_LABEL = /^\s*(?:accept(?: all)?(?: cookies)?|allow all(?: cookies)?|i agree|agree|got it|ok|okay)\s*[.!]?\s*$/i;

/** In PostHog's order; the first visible match is clicked. */
export const CONSENT_CLICK_SELECTORS: readonly string[] = [
  'button',
  'button[aria-label*="accept" i]',
  '[role="dialog"] button',
  'button[id*="accept" i], button[class*="accept" i]',
  '#onetrust-accept-btn-handler',
  '.onetrust-accept-btn-handler',
  '#CybotCookiebotDialogBodyButtonAccept',
  '#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll',
];

/** Which selectors need the accept label (the generic ones); the specific ones are clicked as they are. */
const NEEDS_LABEL = new Set(['button', '[role="dialog"] button']);

const KEYWORDS = ['cookie', 'consent', 'gdpr', 'onetrust', 'ot-sdk', 'sp_message', 'sp-consent', 'quantcast'];

/** PostHog's hiding rules; never html or body. */
export const CONSENT_HIDE_CSS = [
  ...['div', 'section', 'aside'].flatMap((tag) => KEYWORDS.flatMap((k) => [`${tag}[id*="${k}" i]`, `${tag}[class*="${k}" i]`])),
  ...['consent', 'cookie', 'onetrust'].map((k) => `iframe[src*="${k}" i]`),
  'div[style*="position:fixed"][style*="z-index"]',
  'div[style*="position: fixed"][style*="z-index"]',
].join(',\n') + ' { display: none !important; visibility: hidden !important; }';

const REMOVE_COOKIEBOT = pageScript<[]>('remove-cookiebot')();

export interface ConsentResult {
  clicked: string | undefined;
}

/** Clicks the first accept button it finds, then hides and removes banners. Errors are swallowed (best effort). */
export async function dismissConsentBanners(page: Page, timeoutMs = 1000): Promise<ConsentResult> {
  let clicked: string | undefined;
  for (const selector of CONSENT_CLICK_SELECTORS) {
    let locator = page.locator(selector);
    if (NEEDS_LABEL.has(selector)) locator = locator.filter({ hasText: ACCEPT_LABEL });
    try {
      const candidate = locator.first();
      if (!(await candidate.isVisible())) continue;
      await candidate.click({ timeout: timeoutMs });
      clicked = selector;
      await page.waitForTimeout(250);
      break;
    } catch {
      // not clickable after all (covered, detached, navigated away): try the next selector
    }
  }
  await page.addStyleTag({ content: CONSENT_HIDE_CSS }).catch(() => undefined);
  await page.evaluate(REMOVE_COOKIEBOT).catch(() => undefined);
  return { clicked };
}
