import type { BrowserContext, Page } from 'playwright-core';
import { captureJpeg, finishJpeg } from '../../../browser/capture.js';
import { CONSENT_TIMEOUT_MS, dismissConsentBanners } from '../../../browser/consent.js';
import { PermanentRenderError, TransientRenderError } from '../../../browser/errors.js';
import { guardContextNetwork, MAX_REDIRECTS } from '../../../browser/guarded-network.js';
import { inPage } from '../../../browser/in-page.js';
import { navigate, throwIfMainFrameBlocked } from '../../../browser/navigate.js';
import { measureHeight } from '../../../browser/page-height.js';
import type { RenderLogger } from '../../../browser/pool.js';
import { resize } from '../../../browser/resize.js';
import { childFramesPending, resizeCheck, trackIntersectionObservers } from '../../../browser/resize-check.js';
import { scrollPass, SLOW_STEP_MS, topAndImages, type PassResult } from '../../../browser/scroll.js';
import { SCROLL_GRACE_MS, settle } from '../../../browser/settle.js';
import { redactUrl } from '../../../lib/logger.js';
import type { UrlGuard } from '../../../net/url-guard.js';
import type { Budgets, RenderSettings } from './budgets.js';
import { deviceKind, VIEWPORT_HEIGHT } from './device.js';

/**
 * The steps of a render (see the top of render-widths.ts for why one page per device kind).
 *
 * Per kind:
 *  1. The URL passes the SSRF guard (once per heatmap), or the render fails for good with "SSRF blocked: <reason>".
 *  2. A context on the warm browser with the first width's options (contextOptionsFor). Every request goes through
 *     the guard (src/browser/guarded-network.ts). An init script (src/browser/page-scripts/io-tracker.js) follows,
 *     in every document, the targets the page's IntersectionObservers observe and what each was last reported as
 *     (for 5).
 *  3. Navigation until DOMContentLoaded, within the navigation timeout, following redirects hop by hop (each hop
 *     checked). A timeout once the page has committed is not an error: the render goes on with what is there.
 *  4. Consent banners, only with block_consent_modals: first a wait, within the settle timeout, until the network has
 *     been quiet (so banners that late scripts add are there), then click accept, hide with CSS, remove Cookiebot.
 *     Once per page load: the click and the CSS stay in effect at the later widths.
 * Then per width (after a resize for every width but the first; see 5 for when such a width goes without a pass):
 *  5. Scroll pass, in the page: scrollbars hidden, then down one viewport height at a time to the bottom or the
 *     height cap, each step made in an animation frame's callbacks and held until the next frame. So a frame is
 *     laid out and painted at every position, and IntersectionObservers and loading=lazy see each one, even on a
 *     starved CPU. The first step, at the top, waits two frames, which also lets a resize settle before anything is
 *     measured. When the page has grown below what the pass saw, the pass goes on from there. A pass that runs out
 *     of time before the end (frames come slowly when the CPU is starved) goes on from where it stopped, once, with
 *     the slow pass's budget: the part of the page it never showed has loaded nothing. The budget counts from the
 *     start of the pass, after the consent step's wait.
 *     After a resize the pass is left out when nothing could still load by scrolling (resizeCheck, asked after two
 *     frames so the new layout is there), and only on the document the earlier widths scrolled all of (no
 *     navigation since its last pass, which got to the end, and no growth below what that pass saw):
 *     - no IntersectionObserver target laid out above the height cap that the page still observes and that was
 *       never reported intersecting (one a media query shows only now), or that was in view and is out again
 *       within two viewports of the bottom (an infinite list's sentinel);
 *     - no loading=lazy image laid out above the cap and not loaded, and no loading=lazy iframe at all;
 *     - no image marked by a scroll-listener loader and still unloaded (lazyCheck);
 *     - the same in every child frame (one that does not answer, or has no tracker, counts as pending).
 *     Why that is safe: the earlier pass showed every position of the page, so every target laid out then was
 *     reported intersecting, and what it loads has loaded; a target hidden then and shown by the resize was never
 *     reported, so it calls for a pass. Loaders that use scroll listeners are covered by lazyCheck, as after any
 *     pass. A page whose observers never fire for a target keeps getting a pass at every width, as before.
 *     Everything after the pass still happens: scrollbars hidden, the settle with its 100 ms grace, the growth
 *     check (growth below the height resizeCheck measured gets a pass from there), lazyCheck and the wait for
 *     images. What a skip gives up: the ~400 ms of a pass, in which a resize handler debounced by more than about
 *     100 ms would also have run; such a handler may now run after the capture.
 *  6. Settle: until the network has been quiet for 250 ms (at most 2 requests open, like networkidle2), within the
 *     settle timeout, and at least 100 ms after the scroll pass. A page that never goes quiet is captured anyway.
 *     If the page navigated itself to a URL that redirects, that is followed like the first URL, and 4-6 run again.
 *  7. Lazy images still not loaded (marked the way scroll-listener loaders such as lazysizes mark them, see
 *     lazyCheck): those loaders check the position at most every so often, and the fast pass is too quick for
 *     them. Then the pass runs again from the top, each position held 150 ms (the old pace), and 6 again. Pages
 *     whose lazy content loads through IntersectionObserver or loading=lazy never need this.
 *  8. Back to the top, and a bounded wait for images still loading in the part that is captured.
 *  9. Full-page JPEG at the configured quality, clipped by Chromium itself to the viewport width and the height cap
 *     (no bitmap taller than the cap is ever built).
 * 10. Over the byte cap: re-encoded at lower quality (down to 30), then cut shorter, never failed unless even a
 *     one-pixel strip is too large. The result is decoded with sharp to check it and read its size.
 * 11. Handed to `onScreenshot` at once (the job handler stores it), before the next width starts.
 */


/** Scroll passes per width: the first, and more while the page grows below what they saw. */
const MAX_SCROLL_ROUNDS = 4;

export type RenderPhase = 'wait' | 'open' | 'navigate' | 'consent' | 'resize' | 'scroll' | 'settle' | 'capture' | 'encode';

export interface ScreenshotResult {
  jpeg: Buffer;
  width: number;
  /** Height of the JPEG. */
  height: number;
  /** Height of the page as measured before the capture. */
  pageHeight: number;
  /** Whether the image stops before the page does (height cap, or byte cap). */
  clipped: boolean;
  /** JPEG quality of the result (lower than configured when the byte cap forced a re-encode). */
  quality: number;
  /** Whether the network went quiet before the settle timeout. */
  settled: boolean;
  /** Whether lazy images still unloaded after the fast scroll pass made it scroll again slowly (see lazyCheck). */
  slowScroll: boolean;
  /**
   * Whether the scroll pass was left out at this width: a width after a resize on a page that had nothing left to
   * load by scrolling (see resizeCheck).
   */
  scrollSkipped: boolean;
  /** The page's URL when captured (after redirects). */
  finalUrl: string;
  /** Requests (and WebSockets) the guard refused, on this width's page so far. */
  blockedRequests: number;
  /**
   * Time spent on this width: for the first width of a kind from the start of the render (waiting for a pool slot,
   * opening the context and loading the page included), for the others from the end of the previous width.
   */
  durationMs: number;
  /** Where durationMs went, in ms. `wait` and `open` (slot, context, page) only on the first width of a kind. */
  timings: Record<RenderPhase, number>;
}

/** One device kind's render on its page (see renderKind in render-widths.ts). */
export interface PageRenderArgs {
  page: Page;
  context: BrowserContext;
  guard: UrlGuard;
  /** The URL as the guard normalised it. */
  url: string;
  /** The URL as given, for messages. */
  originalUrl: string;
  /** The kind's widths, in order; the first is the context's. */
  widths: readonly number[];
  blockConsentModals: boolean;
  settings: RenderSettings;
  /** The viewport's height (VIEWPORT_HEIGHT when not given). */
  viewportHeight?: number | undefined;
  limits: Budgets;
  signal: AbortSignal;
  log: RenderLogger;
  /** When the render started, and when this kind's pool slot was had (Date.now() scale). */
  started: number;
  slotAt: number;
  /** Hands a width over; false when the render is to stop. */
  deliver(result: ScreenshotResult): Promise<boolean>;
}

const noTimings = (): Record<RenderPhase, number> => ({ wait: 0, open: 0, navigate: 0, consent: 0, resize: 0, scroll: 0, settle: 0, capture: 0, encode: 0 });

/**
 * Steps 3 to 11 above: the page loaded once, then each width of the kind (resized to from the second on) scrolled,
 * settled, captured and handed over before the next.
 */
export async function renderOnPage(args: PageRenderArgs): Promise<void> {
  const { page, context, guard, widths, settings, limits, log } = args;
  const viewportHeight = args.viewportHeight ?? VIEWPORT_HEIGHT;
  // Stop waiting at once when the tab or the whole browser dies, rather than at the next timeout.
  const gone = new AbortController();
  page.once('close', () => gone.abort(new TransientRenderError('Chromium stopped during the render; it is restarted for the next one')));
  page.once('crash', () => gone.abort(new TransientRenderError(`The page crashed the browser tab (out of memory?) at ${widths.join(', ')} px`)));
  const signal = AbortSignal.any([args.signal, gone.signal]);
  const net = await guardContextNetwork(context, { guard, page, maxBytes: settings.maxBytes, timeoutMs: settings.navigationTimeoutMs, signal, log });
  // Before the first navigation, so that it is in every document of the page: what resizeCheck asks about.
  await trackIntersectionObservers(context);
  const browserSide = inPage(page);
  // Main-frame navigations, the page's own included: a document loaded since the last scroll pass was not scrolled.
  let navigations = 0;
  let navigationsAtPass = -1;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });

  // The first width's clock starts with the render; the time before the page was ours is `wait` and `open`.
  let timings = noTimings();
  timings.wait = args.slotAt - args.started;
  timings.open = Date.now() - args.slotAt;
  let widthStart = args.started;
  let phaseStart = Date.now();
  const endPhase = (name: RenderPhase) => {
    const now = Date.now();
    timings[name] += now - phaseStart;
    phaseStart = now;
  };
  const hops = { count: 0 };

  try {
    await navigate(page, net, guard, args.url, Date.now() + limits.navigationMs, hops);
    endPhase('navigate');
    let freshDocument = true;
    /**
     * Whether the last width's scroll passes saw the whole page (down to the bottom or the height cap), with no
     * growth left unscrolled: a later width may then go without a pass (resizeCheck).
     */
    let covered = false;

    for (const [index, width] of widths.entries()) {
      if (index > 0) {
        timings = noTimings();
        widthStart = phaseStart = Date.now();
        await resize(page, browserSide, { width, height: viewportHeight });
        endPhase('resize');
      }
      let settled = false;
      let measured: number | undefined;
      const requestsBefore = net.requests;
      let steps = 0;
      let rounds = 0;
      let from = 0;
      let dwellMs = 0;
      let slowScroll = false;
      // After a resize, on the document the earlier widths scrolled all of: a pass only when something could
      // still load by scrolling (see resizeCheck and the top of this file).
      let scrollSkipped = false;
      let skipSeen = -1;
      // For the log: what resizeCheck found (-1: no tracker; null: not asked, or no answer).
      let resizePending: number | null = null;
      if (index > 0 && !freshDocument && covered && navigations === navigationsAtPass && !browserSide.stalled) {
        const check = await resizeCheck(browserSide, settings.heightCapPx);
        scrollSkipped = check !== null && check.pending === 0 && check.seen > 0 && !(await childFramesPending(page, settings.heightCapPx));
        skipSeen = check?.seen ?? -1;
        resizePending = check?.pending ?? null;
        endPhase('scroll');
      }
      let skipNext = scrollSkipped;
      let lastPass: PassResult = { steps: 0, seen: -1, done: false };
      let passEnd = 0;
      // Whether the current pass (fast, or slow) already had its extension (see below).
      let extended = false;
      for (let round = 1; ; round++) {
        if (freshDocument && args.blockConsentModals) {
          await settle(net, { timeoutMs: limits.settleMs, signal });
          await browserSide.within(dismissConsentBanners(page), CONSENT_TIMEOUT_MS, undefined);
          endPhase('consent');
        }
        freshDocument = false;
        // The pass's budget counts from here, after the consent step's own wait (not from the start of the width).
        if (round === 1 && passEnd === 0) passEnd = Date.now() + limits.scrollMs;
        let pass: PassResult;
        if (skipNext) {
          // Nothing to scroll for: the page as it is after the resize, and growth from here on still caught below.
          skipNext = false;
          pass = { steps: 0, seen: skipSeen, done: true };
        } else {
          // Counted from before the pass: a document the page loads during or after it was not scrolled.
          navigationsAtPass = navigations;
          pass = await scrollPass(browserSide, { from, budgetMs: passEnd - Date.now(), maxY: settings.heightCapPx, dwellMs });
        }
        lastPass = pass;
        steps += pass.steps;
        rounds++;
        signal.throwIfAborted();
        endPhase('scroll');
        settled = await settle(net, { timeoutMs: limits.settleMs, graceMs: SCROLL_GRACE_MS, signal });
        // The page navigated itself to a URL that redirects: follow it like the first one, then start over.
        const next = net.takeMainFrameRedirect();
        if (next !== undefined) {
          endPhase('settle');
          if (++hops.count > MAX_REDIRECTS) throw new PermanentRenderError(`Too many redirects (more than ${MAX_REDIRECTS}) loading ${redactUrl(args.originalUrl)}`);
          await navigate(page, net, guard, next, Date.now() + limits.navigationMs, hops);
          endPhase('navigate');
          freshDocument = true;
          [from, round, dwellMs, slowScroll, passEnd, extended] = [0, 0, 0, false, 0, false];
          continue;
        }
        throwIfMainFrameBlocked(net);
        // The pass ran out of time before the end (frames come slowly on a starved CPU): the rest of the page was
        // never in view, so nothing there was loaded. It goes on from where it stopped, once, with the slow pass's
        // budget (enough for the whole height cap at 200 ms a step).
        if (!pass.done && pass.seen >= 0 && !extended && round < MAX_SCROLL_ROUNDS && !browserSide.stalled) {
          endPhase('settle');
          [from, extended, passEnd] = [pass.seen, true, Date.now() + limits.slowScrollMs];
          continue;
        }
        // The page grew below what the pass saw: go on from there (a few times, within the scroll budget).
        const more = round < MAX_SCROLL_ROUNDS && Date.now() < passEnd ? pass.seen : -1;
        const after = await topAndImages(browserSide, {
          seen: more,
          waitMs: limits.afterScrollMs,
          maxY: settings.heightCapPx,
          lazy: slowScroll ? 'give up' : 'check',
        });
        endPhase('settle');
        if (typeof after?.grown === 'number') {
          from = after.grown;
          continue;
        }
        if (typeof after?.pending === 'number') {
          // Lazy images the fast pass did not get loaded: once more, from the top, slowly.
          [from, round, dwellMs, slowScroll, passEnd, extended] = [0, 0, SLOW_STEP_MS, true, Date.now() + limits.slowScrollMs, false];
          continue;
        }
        measured = after?.height;
        break;
      }
      throwIfMainFrameBlocked(net);
      // Whether the next width may go without a pass: the last pass got to the end of the page (or the cap), and the
      // page did not grow below what it saw.
      covered =
        lastPass.done && typeof measured === 'number' && Math.min(measured, settings.heightCapPx) <= lastPass.seen + 2 && !browserSide.stalled;

      // A page that stopped answering gets the cap as its clip; Playwright trims that to the page, if it answers.
      const pageHeight = browserSide.stalled
        ? settings.heightCapPx
        : typeof measured === 'number' && measured > 0
          ? Math.ceil(measured)
          : await measureHeight(page, browserSide, viewportHeight);
      const clipHeight = Math.max(1, Math.min(pageHeight, settings.heightCapPx));
      const raw = await captureJpeg(page, { width, height: clipHeight, quality: settings.jpegQuality, timeoutMs: limits.captureMs });
      endPhase('capture');

      const image = await finishJpeg(raw, { width, quality: settings.jpegQuality, maxBytes: settings.maxBytes, log });
      endPhase('encode');

      const result: ScreenshotResult = {
        jpeg: image.jpeg,
        width,
        height: image.height,
        pageHeight,
        clipped: pageHeight > image.height,
        quality: image.quality,
        settled,
        slowScroll,
        scrollSkipped,
        finalUrl: page.url(),
        blockedRequests: net.blockedCount,
        durationMs: Date.now() - widthStart,
        timings,
      };
      log.debug(
        {
          url: redactUrl(args.url),
          width,
          kind: deviceKind(width),
          // The page's requests so far (it served the earlier widths of its kind too), and during this width.
          requests: net.requests,
          widthRequests: net.requests - requestsBefore,
          steps,
          rounds,
          slowScroll,
          scrollSkipped,
          resizePending,
          height: result.height,
          pageHeight,
          bytes: result.jpeg.length,
          settled,
          blocked: net.blockedCount,
          timings,
        },
        'screenshot rendered',
      );
      if (!(await args.deliver(result))) return;
    }
    if (net.blockedCount > 0) {
      const examples = net.blocked.slice(0, 5).map((b) => `${redactUrl(b.url)} (${b.reason})`);
      log.info({ url: redactUrl(args.url), widths, blocked: net.blockedCount, examples }, 'the SSRF guard refused some of the page\'s requests');
    }
  } finally {
    net.dispose();
  }
}
