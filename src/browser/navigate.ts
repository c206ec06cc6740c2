import type { Page } from 'playwright-core';
import { redactUrl } from '../lib/logger.js';
import type { UrlGuard } from '../net/url-guard.js';
import { PermanentRenderError, SsrfBlockedError, TransientRenderError, toRenderError } from './errors.js';
import { MAX_REDIRECTS, type GuardedNetwork } from './guarded-network.js';

/** Throws SsrfBlockedError when the guard refused a main-frame navigation (the page's own ones included). */
export function throwIfMainFrameBlocked(net: GuardedNetwork): void {
  const reason = net.mainFrameBlockedReason();
  if (reason !== undefined) throw new SsrfBlockedError(reason);
}

/**
 * goto, following main-frame redirects: the network layer aborts a redirected navigation and reports its
 * Location, which is checked and navigated to as a new navigation (so the page gets its final URL and origin).
 * `hops` counts redirects across every navigation of the page (at most MAX_REDIRECTS); `deadline` is on the
 * Date.now() scale.
 */
export async function navigate(page: Page, net: GuardedNetwork, guard: UrlGuard, url: string, deadline: number, hops: { count: number }): Promise<void> {
  let target = url;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new TransientRenderError(`Timed out loading ${redactUrl(url)} (navigation timeout)`);
    try {
      await page.goto(target, { waitUntil: 'domcontentloaded', timeout: remaining });
      return;
    } catch (error) {
      const redirect = net.takeMainFrameRedirect();
      if (redirect !== undefined) {
        if (++hops.count > MAX_REDIRECTS) throw new PermanentRenderError(`Too many redirects (more than ${MAX_REDIRECTS}) loading ${redactUrl(url)}`);
        const verdict = await guard.check(redirect);
        if (!verdict.allowed) throw new SsrfBlockedError(verdict.reason);
        target = verdict.url.href;
        continue;
      }
      throwIfMainFrameBlocked(net);
      if (error instanceof (await import('playwright-core')).errors.TimeoutError) {
        // PostHog swallows a navigation timeout and captures what is there: fine once a document committed.
        if (page.url() !== 'about:blank') return;
        const failure = net.mainFrameFailure();
        throw new TransientRenderError(
          `Timed out loading ${redactUrl(target)}: no page within the navigation timeout${failure ? ` (${failure.message})` : ''}`,
          { cause: error },
        );
      }
      const failure = net.mainFrameFailure();
      if (failure) throw new TransientRenderError(`Could not load ${redactUrl(target)}: ${failure.message}`, { cause: error });
      throw toRenderError(error, target);
    }
  }
}
