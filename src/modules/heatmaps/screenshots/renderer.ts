import type { BrowserPool } from '../../../browser/pool.js';
import type { RenderRequest } from '../jobs.js';
import type { UrlGuard } from '../../../net/url-guard.js';
import type { RenderSettings } from './budgets.js';
import { renderWidths, type RenderWidthsResult } from './render-widths.js';

/** The job handler's `render` dependency: renderWidths bound to a pool, a guard and the settings. */
export function createScreenshotRenderer(deps: { pool: BrowserPool; guard: UrlGuard; settings: RenderSettings }) {
  return (request: RenderRequest): Promise<RenderWidthsResult> => renderWidths({ ...deps, ...request });
}
