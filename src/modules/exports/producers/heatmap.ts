import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RenderError, SsrfBlockedError } from '../../../browser/errors.js';
import type { RenderLogger } from '../../../browser/pool.js';
import type { TeamRow } from '../../../db/schema/index.js';
import { redactUrl } from '../../../lib/logger.js';
import type { HeatmapDataService, OverlayQueryInput } from '../../heatmap-data/index.js';
import type { PageRenderer } from '../../heatmaps/index.js';
import { ExportError, TransientExportError } from '../errors.js';
import { fieldsOf, MAX_IMAGE_SIZE } from '../rules.js';

/** The frontend's (and the spec's) default viewport of a heatmap export. */
export const DEFAULT_HEATMAP_WIDTH = 1400;
export const DEFAULT_HEATMAP_HEIGHT = 600;

export type HeatmapOverlay = Pick<HeatmapDataService, 'pageOverlay' | 'imageOverlay'>;

export interface HeatmapProducerDeps {
  /** The heatmap-data module's overlay: on a saved heatmap's screenshot, or on one just rendered. */
  heatmaps: HeatmapOverlay;
  /** The heatmaps module's renderer, for a page without a saved heatmap. */
  renderPage: PageRenderer;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** export_context.width or .height: a positive whole number (or its digits); the default when absent. */
function sizeOf(name: 'width' | 'height', value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const size = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(size) || size <= 0) throw new ExportError(`export_context.${name} must be a positive whole number, not ${JSON.stringify(value)}`);
  return size;
}

/**
 * A heatmap PNG export (export_context.heatmap_url). The filters are read flat (type, date_from, date_to,
 * aggregation, filter_test_accounts) or in PostHog's exporter shape (heatmap_filters.type / .aggregation,
 * common_filters.date_from / .date_to / .filter_test_accounts). The points are those of heatmap_data_url (exact, or a
 * pattern as a saved heatmap's data_url) when given. The image is:
 *
 * - when the team has a completed saved heatmap of that page: its most recent one's stored screenshot closest to
 *   `width`, the points by default the saved heatmap's data_url;
 * - otherwise the page rendered now by the heatmaps' renderer (its SSRF guard, steps and budgets; nothing stored) at
 *   `width` (at most 4000) with a viewport `height` tall (default 600) and captured full-page down to at most 5000 px
 *   (or the configured height cap), the points by default those of heatmap_url. A URL or redirect the guard refuses,
 *   or a page that does not render, fails the export; a transient render failure (a timeout, a browser that crashed)
 *   is tried again first, as the job's other retries.
 *
 * `css_selector` is not waited for: Burrow renders the page itself, not PostHog's exporter page. Writes heatmap.png
 * in dir and answers its path.
 */
export async function produceHeatmapPng(
  deps: HeatmapProducerDeps,
  team: TeamRow,
  context: Record<string, unknown>,
  dir: string,
  run: { signal: AbortSignal; log: RenderLogger },
): Promise<string> {
  const pageUrl = String(context.heatmap_url);
  const filters = fieldsOf(context.heatmap_filters);
  const common = fieldsOf(context.common_filters);
  const aggregation = text(context.aggregation) ?? text(filters.aggregation);
  const testAccounts = context.filter_test_accounts ?? common.filter_test_accounts;
  const width = sizeOf('width', context.width, DEFAULT_HEATMAP_WIDTH);
  const query: OverlayQueryInput = {
    width: String(width),
    format: 'png',
    type: text(context.type) ?? text(filters.type),
    date_from: text(context.date_from) ?? text(common.date_from),
    date_to: text(context.date_to) ?? text(common.date_to),
    aggregation: aggregation === 'unique_visitors' || aggregation === 'total_count' ? aggregation : undefined,
    filter_test_accounts: testAccounts === true || testAccounts === 'true',
  };
  const dataUrl = text(context.heatmap_data_url);
  let image = await deps.heatmaps.pageOverlay(team, pageUrl, { ...query, data_url: dataUrl });
  if (!image) {
    const shot = await renderPage(deps.renderPage, pageUrl, {
      width: Math.min(width, MAX_IMAGE_SIZE.width),
      viewportHeight: Math.min(sizeOf('height', context.height, DEFAULT_HEATMAP_HEIGHT), MAX_IMAGE_SIZE.height),
      maxHeight: MAX_IMAGE_SIZE.height,
      ...run,
    });
    image = await deps.heatmaps.imageOverlay(team, shot, dataUrl ?? pageUrl, query);
  }
  const file = path.join(dir, 'heatmap.png');
  await writeFile(file, image.body);
  return file;
}

/** The renderer's screenshot of the page, its failures as the export's exception. */
async function renderPage(render: PageRenderer, url: string, request: Omit<Parameters<PageRenderer>[0], 'url'>) {
  try {
    return await render({ url, ...request });
  } catch (error) {
    if (request.signal.aborted) throw error;
    if (error instanceof SsrfBlockedError) throw new ExportError(`heatmap_url not allowed: ${error.reason}`);
    if (error instanceof RenderError) {
      const message = `Could not render ${redactUrl(url)} for the heatmap: ${error.message}`;
      throw error.permanent ? new ExportError(message) : new TransientExportError(message);
    }
    throw error;
  }
}
