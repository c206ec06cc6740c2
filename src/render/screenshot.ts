import { errors, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import sharp from 'sharp';
import { dismissConsentBanners } from '../browser/consent.js';
import { PermanentRenderError, RenderError, SsrfBlockedError, TransientRenderError, toRenderError } from '../browser/errors.js';
import { guardContextNetwork, MAX_REDIRECTS, type GuardedNetwork } from '../browser/guarded-network.js';
import { pageScript } from '../browser/page-scripts.js';
import type { BrowserPool, RenderLogger } from '../browser/pool.js';
import type { Config } from '../config.js';
import { redactUrl } from '../lib/logger.js';
import type { UrlGuard } from '../net/url-guard.js';

/**
 * A heatmap's screenshots, one per width: PostHog's local Playwright recipe (spec heatmaps.md §4.4 A) with the
 * waiting of its Browserless recipe (B: networkidle2, capped), plus a height and a byte cap (§4.8).
 *
 * One page per device kind, not one context per width. PostHog opens a fresh context for every width. Here the
 * widths are split into two kinds, phone (below 500 px: PostHog's iPhone user agent, isMobile, hasTouch) and
 * desktop (500 px and up: a desktop Chrome user agent). The two kinds differ in context options that cannot change
 * once a context exists. Within a kind only the viewport differs, and that can change. So each kind gets one
 * context and one page, which loads the URL once. The kind's other widths are rendered on the same page after
 * `page.setViewportSize` (viewport and screen width x 800, device scale 1, as a fresh context would have). The two
 * kinds render at the same time, each in its own pool slot.
 *
 * Why: a heatmap's seven default widths cost 2 page loads instead of 7, and 2 contexts instead of 7. Page loads and
 * context churn were most of the time and CPU spent per heatmap apart from the scroll pass and the capture
 * (bench/screenshots). What it changes: a width after the first of its kind shows the page as it is after a
 * resize, not after a fresh load at that width. Responsive CSS, media queries, srcset and resize handlers follow the
 * resize, and content loaded lazily at an earlier width is still there. A script that lays the page out once, from
 * the width it saw at load time, and ignores resizes, shows that earlier layout at the later widths. Fresh contexts
 * would not show it. Cookies and storage set at an earlier width are also still set.
 *
 * Per kind:
 *  1. The URL passes the SSRF guard (once per heatmap), or the render fails for good with "SSRF blocked: <reason>".
 *  2. A context on the warm browser with the first width's options (contextOptionsFor). Every request goes through
 *     the guard (guarded-network.ts). An init script (IO_TRACKER) follows, in every document, the targets the
 *     page's IntersectionObservers observe and what each was last reported as (for 5).
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

export type RenderSettings = Pick<Config['render'], 'navigationTimeoutMs' | 'settleTimeoutMs' | 'heightCapPx' | 'maxBytes' | 'jpegQuality'>;

/** Widths below this are rendered as a phone (PostHog: `is_mobile = w < 500`). */
export const MOBILE_BREAKPOINT = 500;
export const VIEWPORT_HEIGHT = 800;
/** PostHog's mobile user agent, verbatim. */
export const MOBILE_USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/115.0.0.0 Mobile/15E148 Safari/604.1';

export type DeviceKind = 'mobile' | 'desktop';

export const deviceKind = (width: number): DeviceKind => (width < MOBILE_BREAKPOINT ? 'mobile' : 'desktop');

/**
 * A desktop Chrome user agent for the running browser's major version. Headless Chromium's own says
 * "HeadlessChrome", which bot protection turns away (PostHog's heatmaps_utils.py). Linux, to agree with
 * navigator.platform and the engine's real features.
 */
export function desktopUserAgent(browserVersion: string): string {
  const major = /^(\d+)\./.exec(browserVersion)?.[1] ?? '130';
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
}

/** PostHog's context for one width. All widths of one kind get the same options but the viewport and screen. */
export function contextOptionsFor(width: number, browserVersion: string): BrowserContextOptions {
  const mobile = deviceKind(width) === 'mobile';
  return {
    viewport: { width, height: VIEWPORT_HEIGHT },
    screen: { width, height: VIEWPORT_HEIGHT },
    deviceScaleFactor: 1,
    isMobile: mobile,
    hasTouch: mobile,
    userAgent: mobile ? MOBILE_USER_AGENT : desktopUserAgent(browserVersion),
    locale: 'en-US',
    // Workers that could fetch behind the route's back.
    serviceWorkers: 'block',
    acceptDownloads: false,
    // So the banner and scrollbar styles apply on pages whose CSP forbids inline styles.
    bypassCSP: true,
  };
}

const QUIET_MS = 250;
const QUIET_MAX_INFLIGHT = 2;
/** The settle after a scroll pass ends no sooner than this after it, quiet network or not (see QuietOptions). */
const SCROLL_GRACE_MS = 100;
/** Scroll passes per width: the first, and more while the page grows below what they saw. */
const MAX_SCROLL_ROUNDS = 4;
/**
 * The slow pass (see lazyCheck): each position held this long, so a scroll listener that checks at most every
 * 125 ms (lazysizes) or once scrolling has paused that long sees every position.
 */
const SLOW_STEP_MS = 150;
const EVALUATE_TIMEOUT_MS = 2_000;
/** Eight selectors, one click and the hiding; PostHog allows 500 ms per selector. */
const CONSENT_TIMEOUT_MS = 5_000;
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

type Budgets = ReturnType<typeof budgets>;

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

export interface RenderWidthsOptions {
  pool: BrowserPool;
  guard: UrlGuard;
  url: string;
  /** Widths to render, each once; within each device kind in this order, the first of a kind loading the page. */
  widths: readonly number[];
  blockConsentModals: boolean;
  settings: RenderSettings;
  /** Aborting closes the pages at once; the render rejects with the signal's reason. */
  signal?: AbortSignal;
  log: RenderLogger;
  /**
   * Called with each width as soon as it is captured, before the next width of its kind starts (the two kinds'
   * calls may overlap). Answering false stops the render: no more widths, the pages closed, and the render resolves
   * with `stopped: true`. An error it throws fails the render with that error.
   */
  onScreenshot(result: ScreenshotResult): Promise<boolean>;
}

export interface RenderWidthsResult {
  /** Whether onScreenshot asked to stop (so not every width was handed over). */
  stopped: boolean;
}

/** Why a kind's render stopped early: onScreenshot answered false, or the other kind failed for good. */
class StopRender extends Error {
  override name = 'StopRender';
}

/** An error onScreenshot threw, passed on to the caller unchanged. */
class CallbackFailure extends Error {
  override name = 'CallbackFailure';
}

/**
 * Renders `widths` of `url` (see the top of this file): one context and page per device kind, the two kinds at the
 * same time. The first failure rejects the render, once both kinds have ended; the widths handed to onScreenshot
 * before it stay handed over. A transient failure of one kind lets the other finish its widths (a retry then has
 * fewer to do); a permanent one (or an error from onScreenshot) stops the other at once.
 */
export async function renderWidths(options: RenderWidthsOptions): Promise<RenderWidthsResult> {
  const started = Date.now();
  options.signal?.throwIfAborted();
  const widths = [...new Set(options.widths)];
  for (const width of widths) {
    if (!Number.isInteger(width) || width < 1) throw new PermanentRenderError(`Invalid screenshot width: ${width}`);
  }
  if (widths.length === 0) return { stopped: false };

  const verdict = await options.guard.check(options.url);
  if (!verdict.allowed) throw new SsrfBlockedError(verdict.reason);

  // The kind of the first width first: with one free pool slot, it is the one that gets it.
  const kinds = [...new Set(widths.map(deviceKind))].map((kind) => widths.filter((width) => deviceKind(width) === kind));
  const stop = new AbortController();
  let stopped = false;
  const deliver = async (result: ScreenshotResult): Promise<boolean> => {
    if (stopped) return false;
    let goOn: boolean;
    try {
      goOn = await options.onScreenshot(result);
    } catch (error) {
      throw new CallbackFailure('onScreenshot failed', { cause: error });
    }
    if (!goOn && !stopped) {
      stopped = true;
      stop.abort(new StopRender('onScreenshot asked to stop'));
    }
    return goOn && !stopped;
  };

  const failures: unknown[] = [];
  await Promise.all(
    kinds.map(async (kindWidths) => {
      try {
        await renderKind({ ...options, url: verdict.url.href, originalUrl: options.url, widths: kindWidths, started, stop: stop.signal, deliver });
      } catch (error) {
        if (error instanceof StopRender) return;
        failures.push(error);
        if (!(error instanceof RenderError && !error.permanent)) stop.abort(new StopRender('the other device kind failed'));
      }
    }),
  );
  if (options.signal?.aborted) throw options.signal.reason;
  if (failures.length > 0) throw failures[0];
  return { stopped };
}

export interface RenderScreenshotOptions extends Omit<RenderWidthsOptions, 'widths' | 'onScreenshot'> {
  width: number;
}

/** One width: renderWidths with a single width (the one code path), for callers that want the result back. */
export async function renderScreenshot(options: RenderScreenshotOptions): Promise<ScreenshotResult> {
  const { width, ...rest } = options;
  let result: ScreenshotResult | undefined;
  await renderWidths({
    ...rest,
    widths: [width],
    onScreenshot: async (shot) => {
      result = shot;
      return true;
    },
  });
  if (!result) throw new TransientRenderError(`The render of ${redactUrl(options.url)} at ${width} px ended without a screenshot`);
  return result;
}

/** The job handler's `render` dependency: renderWidths bound to a pool, a guard and the settings. */
export function createScreenshotRenderer(deps: { pool: BrowserPool; guard: UrlGuard; settings: RenderSettings }) {
  return (request: Omit<RenderWidthsOptions, 'pool' | 'guard' | 'settings'>): Promise<RenderWidthsResult> => renderWidths({ ...deps, ...request });
}

interface KindArgs extends Omit<RenderWidthsOptions, 'onScreenshot'> {
  /** The URL as the guard normalised it. */
  url: string;
  /** The URL as given, for messages. */
  originalUrl: string;
  started: number;
  stop: AbortSignal;
  deliver(result: ScreenshotResult): Promise<boolean>;
}

/** One device kind's widths on one page, in one pool slot. */
async function renderKind(args: KindArgs): Promise<void> {
  const { widths, settings } = args;
  const limits = budgets(settings);
  const watchdog = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let slotAt: number | undefined;
  const signal = AbortSignal.any([...(args.signal ? [args.signal] : []), args.stop, watchdog.signal]);
  try {
    await args.pool.withPage(
      ({ version }) => {
        // Called once a slot is ours: the time limit counts from here, not from the wait for a slot.
        slotAt ??= Date.now();
        timer ??= setTimeout(() => {
          const list = widths.join(', ');
          watchdog.abort(
            new TransientRenderError(`Render of ${redactUrl(args.originalUrl)} at ${list} px did not finish within ${Math.round(limits.hardLimitFor(widths.length) / 1000)} s`),
          );
        }, limits.hardLimitFor(widths.length));
        return contextOptionsFor(widths[0]!, version);
      },
      (page, context) => renderOnPage({ ...args, page, context, limits, signal, slotAt: slotAt ?? Date.now() }),
      signal,
    );
  } catch (error) {
    if (args.signal?.aborted) throw args.signal.reason;
    if (args.stop.aborted) throw args.stop.reason;
    if (watchdog.signal.aborted) throw watchdog.signal.reason;
    if (error instanceof CallbackFailure) throw error.cause;
    throw toRenderError(error, args.originalUrl);
  } finally {
    clearTimeout(timer);
  }
}

interface PageArgs extends KindArgs {
  page: Page;
  context: BrowserContext;
  limits: Budgets;
  signal: AbortSignal;
  slotAt: number;
}

const noTimings = (): Record<RenderPhase, number> => ({ wait: 0, open: 0, navigate: 0, consent: 0, resize: 0, scroll: 0, settle: 0, capture: 0, encode: 0 });

async function renderOnPage(args: PageArgs): Promise<void> {
  const { page, context, guard, widths, settings, limits, log } = args;
  // Stop waiting at once when the tab or the whole browser dies, rather than at the next timeout.
  const gone = new AbortController();
  page.once('close', () => gone.abort(new TransientRenderError('Chromium stopped during the render; it is restarted for the next one')));
  page.once('crash', () => gone.abort(new TransientRenderError(`The page crashed the browser tab (out of memory?) at ${widths.join(', ')} px`)));
  const signal = AbortSignal.any([args.signal, gone.signal]);
  const net = await guardContextNetwork(context, { guard, page, maxBytes: settings.maxBytes, timeoutMs: settings.navigationTimeoutMs, signal, log });
  // Before the first navigation, so that it is in every document of the page: what resizeCheck asks about.
  await context.addInitScript({ content: IO_TRACKER() });
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
        await resize(page, browserSide, width);
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
        // Two frames (each at most 500 ms when none comes) before it looks: time for those on top of the usual.
        const check = await browserSide.evaluate<{ pending: number; seen: number } | null>(
          resizeCheck({ maxY: settings.heightCapPx, settle: true }),
          null,
          EVALUATE_TIMEOUT_MS + 1_000,
        );
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
          await net.waitForQuiet({ quietMs: QUIET_MS, maxInflight: QUIET_MAX_INFLIGHT, deadline: Date.now() + limits.settleMs, signal });
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
        settled = await net.waitForQuiet({
          quietMs: QUIET_MS,
          maxInflight: QUIET_MAX_INFLIGHT,
          notBefore: Date.now() + SCROLL_GRACE_MS,
          deadline: Date.now() + limits.settleMs,
          signal,
        });
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
        const after = await browserSide.evaluate<{ grown?: number; pending?: number; height?: number } | null>(
          topAndImages({ seen: more, ms: limits.afterScrollMs, maxY: settings.heightCapPx, lazy: slowScroll ? 'give up' : 'check' }),
          null,
          limits.afterScrollMs + 500,
        );
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
          : await measureHeight(page, browserSide);
      const clipHeight = Math.max(1, Math.min(pageHeight, settings.heightCapPx));
      const raw = await page.screenshot({
        type: 'jpeg',
        quality: settings.jpegQuality,
        fullPage: true,
        clip: { x: 0, y: 0, width, height: clipHeight },
        animations: 'disabled',
        caret: 'hide',
        timeout: limits.captureMs,
      });
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

/** The next width of the kind: the viewport (and screen) change, as a fresh context of that width would have them. */
async function resize(page: Page, browserSide: InPage, width: number): Promise<void> {
  const done = await browserSide.within(page.setViewportSize({ width, height: VIEWPORT_HEIGHT }).then(() => true), EVALUATE_TIMEOUT_MS, false);
  if (!done) throw new TransientRenderError(`Could not resize the page to ${width} px`);
}

function throwIfMainFrameBlocked(net: GuardedNetwork): void {
  const reason = net.mainFrameBlockedReason();
  if (reason !== undefined) throw new SsrfBlockedError(reason);
}

/**
 * goto, following main-frame redirects: the network layer aborts a redirected navigation and reports its
 * Location, which is checked and navigated to as a new navigation (so the page gets its final URL and origin).
 */
async function navigate(page: Page, net: GuardedNetwork, guard: UrlGuard, url: string, deadline: number, hops: { count: number }): Promise<void> {
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
      if (error instanceof errors.TimeoutError) {
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

const IO_TRACKER = pageScript<[]>('io-tracker');
const resizeCheck = pageScript<[{ maxY: number; settle: boolean }]>('resize-check');
const scrollPassScript = pageScript<[{ from: number; budgetMs: number; maxY: number; dwellMs: number }]>('scroll-pass');
const topAndImages = pageScript<[{ seen: number; ms: number; maxY: number; lazy: 'check' | 'give up' }]>('top-and-images');
const PAGE_HEIGHT = pageScript<[]>('page-height')();

const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT once timeoutMs have passed (a rejection after that is ignored). */
async function orTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls into the page that give up instead of hanging. Once one times out (the page keeps its renderer busy, e.g.
 * a script in an endless loop), the following ones are skipped, and the capture's own timeout decides.
 */
interface InPage {
  readonly stalled: boolean;
  /** The promise's value; `fallback` when it rejects, times out, or the page stalled earlier. */
  within<T, F>(promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F>;
  evaluate<T>(expression: string, fallback: T, timeoutMs?: number): Promise<T>;
}

function inPage(page: Page): InPage {
  let stalled = false;
  const within = async <T, F>(promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F> => {
    promise.catch(() => undefined);
    if (stalled) return fallback;
    try {
      const value = await orTimeout(promise, timeoutMs);
      if (value !== TIMED_OUT) return value;
      stalled = true;
      return fallback;
    } catch {
      return fallback;
    }
  };
  return {
    get stalled() {
      return stalled;
    },
    within,
    evaluate: <T>(expression: string, fallback: T, timeoutMs = EVALUATE_TIMEOUT_MS) =>
      stalled ? Promise.resolve(fallback) : (within(page.evaluate(expression) as Promise<T>, timeoutMs, fallback) as Promise<T>),
  };
}

/** What a scroll pass did: its steps, how far down it saw (-1: no answer), and whether it got to the end. */
interface PassResult {
  steps: number;
  seen: number;
  done: boolean;
}

/** The scroll pass (scrollPassScript); `seen` is -1 when the page did not answer. */
async function scrollPass(browserSide: InPage, options: { from: number; budgetMs: number; maxY: number; dwellMs: number }): Promise<PassResult> {
  const timeoutMs = Math.max(0, options.budgetMs) + EVALUATE_TIMEOUT_MS;
  return browserSide.evaluate(scrollPassScript(options), { steps: 0, seen: -1, done: false }, timeoutMs);
}

/** Far enough down for any page: a frame's own document is not clipped by the height cap. */
const FRAME_MAX_Y = 10_000_000;
const FRAME_CHECK_TIMEOUT_MS = 1_000;

/**
 * resizeCheck in the page's other frames (each has its own IO_TRACKER): whether any might still need a pass. A
 * frame that does not answer, or has no tracker, counts as needing one; a frame gone meanwhile does not.
 */
async function childFramesPending(page: Page, maxY: number): Promise<boolean> {
  const frames = page.frames().filter((frame) => frame !== page.mainFrame() && !frame.isDetached());
  if (frames.length === 0) return false;
  const answers = await Promise.all(
    frames.map(async (frame) => {
      try {
        const answer = frame.evaluate(resizeCheck({ maxY: Math.max(maxY, FRAME_MAX_Y), settle: false })) as Promise<{ pending: number } | null>;
        const value = await orTimeout(answer, FRAME_CHECK_TIMEOUT_MS);
        return value === TIMED_OUT || value === null ? !frame.isDetached() : value.pending !== 0;
      } catch {
        return !frame.isDetached();
      }
    }),
  );
  return answers.some(Boolean);
}

async function measureHeight(page: Page, browserSide: InPage): Promise<number> {
  for (let attempt = 0; attempt < 2 && !browserSide.stalled; attempt++) {
    const height = await browserSide.evaluate<number | null>(PAGE_HEIGHT, null);
    if (typeof height === 'number' && height > 0) return Math.ceil(height);
    // The page may be between two documents (it navigated itself): give the new one a moment.
    await page.waitForLoadState('domcontentloaded', { timeout: EVALUATE_TIMEOUT_MS }).catch(() => undefined);
  }
  return VIEWPORT_HEIGHT;
}

const MIN_QUALITY = 30;

/**
 * Checks Chromium's JPEG and brings it to the exact width and under the byte cap: lower quality first (in steps
 * of 10, down to 30), then a shorter image. Only a cap too small for a one-pixel strip fails (permanently).
 */
export async function finishJpeg(
  raw: Buffer,
  options: { width: number; quality: number; maxBytes: number; log: RenderLogger },
): Promise<{ jpeg: Buffer; height: number; quality: number }> {
  const { width, maxBytes, log } = options;
  const meta = await sharp(raw)
    .metadata()
    .catch(() => undefined);
  if (!meta || meta.format !== 'jpeg' || !meta.width || !meta.height) {
    throw new TransientRenderError('Chromium returned a screenshot that is not a readable JPEG');
  }
  let jpeg = raw;
  let height = meta.height;
  let quality = options.quality;

  if (meta.width !== width) {
    // Not expected (the clip is the viewport width); keep the overlay's coordinates right if it happens.
    log.warn({ expected: width, got: meta.width }, 'screenshot width differs from the viewport; padding or cropping it');
    const keep = Math.min(meta.width, width);
    jpeg = await sharp(raw)
      .extract({ left: 0, top: 0, width: keep, height })
      .extend({ right: width - keep, background: '#ffffff' })
      .jpeg({ quality })
      .toBuffer();
  }

  if (jpeg.length > maxBytes) {
    const source = jpeg;
    const originalBytes = jpeg.length;
    for (let q = quality - 10; q >= MIN_QUALITY && jpeg.length > maxBytes; q -= 10) {
      quality = q;
      jpeg = await sharp(source).jpeg({ quality }).toBuffer();
    }
    quality = Math.min(quality, Math.max(MIN_QUALITY, options.quality - 10));
    while (jpeg.length > maxBytes) {
      const shorter = Math.floor(height * (maxBytes / jpeg.length) * 0.9);
      if (shorter < 1) {
        throw new PermanentRenderError(`Screenshot too large: ${originalBytes} bytes, and RENDER_MAX_BYTES (${maxBytes}) is too small for any image ${width} px wide`);
      }
      height = shorter;
      jpeg = await sharp(source).extract({ left: 0, top: 0, width, height }).jpeg({ quality }).toBuffer();
    }
    log.info({ originalBytes, bytes: jpeg.length, quality, height }, 'screenshot over the byte cap: re-encoded');
  }

  const check = await sharp(jpeg).metadata();
  if (check.format !== 'jpeg' || check.width !== width || check.height !== height) {
    throw new TransientRenderError(`Screenshot failed its check: ${check.format} ${check.width}x${check.height}`);
  }
  return { jpeg, height, quality };
}
