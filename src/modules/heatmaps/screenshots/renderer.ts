import type { BrowserPool } from '../../../browser/pool.js';
import type { JobLogger } from '../../../jobs/queue.js';
import type { UrlGuard } from '../../../net/url-guard.js';
import type { RenderSettings } from './budgets.js';
import type { RenderLogger } from '../../../browser/pool.js';
import { renderScreenshot, renderWidths, type RenderWidthsResult } from './render-widths.js';

/** One width as the renderer hands it over. */
export interface RenderedWidth {
  width: number;
  jpeg: Buffer;
  /** The renderer's time for this width (see ScreenshotResult.durationMs). */
  durationMs: number;
}

export interface RenderRequest {
  url: string;
  /** The widths to render, in order; the renderer shares one page among the widths of each device kind. */
  widths: readonly number[];
  blockConsentModals: boolean;
  signal: AbortSignal;
  log: JobLogger;
  /** Each width as soon as it is rendered; answering false stops the render (a newer generation took over). */
  onScreenshot(shot: RenderedWidth): Promise<boolean>;
}

/** The job handler's `render` dependency: renderWidths bound to a pool, a guard and the settings. */
export function createScreenshotRenderer(deps: { pool: BrowserPool; guard: UrlGuard; settings: RenderSettings }) {
  return (request: RenderRequest): Promise<RenderWidthsResult> => renderWidths({ ...deps, ...request });
}

/** One screenshot of a page that has no saved heatmap (a heatmap export). */
export interface PageShotRequest {
  url: string;
  width: number;
  /** The viewport's height before the full-page capture. */
  viewportHeight: number;
  /** The tallest the image may be; the configured height cap when that is lower. */
  maxHeight: number;
  signal: AbortSignal;
  log: RenderLogger;
}

export type PageRenderer = (request: PageShotRequest) => Promise<{ jpeg: Buffer; width: number; height: number }>;

/**
 * Renders one width of a page as a saved heatmap's widths are rendered (the same pool, SSRF guard, steps and
 * budgets), without storing it. Fails with the renderer's errors (src/browser/errors.ts): SsrfBlockedError for a URL
 * or a redirect the guard refuses, other RenderErrors for a page that does not render.
 */
export function createPageRenderer(deps: { pool: BrowserPool; guard: UrlGuard; settings: RenderSettings }): PageRenderer {
  return async ({ url, width, viewportHeight, maxHeight, signal, log }) => {
    const settings = { ...deps.settings, heightCapPx: Math.min(deps.settings.heightCapPx, maxHeight) };
    const shot = await renderScreenshot({ pool: deps.pool, guard: deps.guard, settings, url, width, viewportHeight, blockConsentModals: false, signal, log });
    return { jpeg: shot.jpeg, width: shot.width, height: shot.height };
  };
}
