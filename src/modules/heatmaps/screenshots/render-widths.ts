import { PermanentRenderError, RenderError, SsrfBlockedError, TransientRenderError, toRenderError } from '../../../browser/errors.js';
import type { BrowserPool, RenderLogger } from '../../../browser/pool.js';
import { redactUrl } from '../../../lib/logger.js';
import type { UrlGuard } from '../../../net/url-guard.js';
import { budgets, type RenderSettings } from './budgets.js';
import { contextOptionsFor, deviceKind } from './device.js';
import { renderOnPage, type ScreenshotResult } from './render-page.js';

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
 * The steps, per kind and per width, are at the top of render-page.ts.
 */

export interface RenderWidthsOptions {
  pool: BrowserPool;
  guard: UrlGuard;
  url: string;
  /** Widths to render, each once; within each device kind in this order, the first of a kind loading the page. */
  widths: readonly number[];
  blockConsentModals: boolean;
  settings: RenderSettings;
  /** The viewport's height, before the full-page capture; VIEWPORT_HEIGHT when not given. */
  viewportHeight?: number;
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
        return contextOptionsFor(widths[0]!, version, args.viewportHeight);
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
