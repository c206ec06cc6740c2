import type { BrowserPool } from '../../../browser/pool.js';
import type { JobLogger } from '../../../jobs/queue.js';
import type { UrlGuard } from '../../../net/url-guard.js';
import type { RenderSettings } from './budgets.js';
import { renderWidths, type RenderWidthsResult } from './render-widths.js';

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
