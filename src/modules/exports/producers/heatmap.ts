import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TeamRow } from '../../../db/schema/index.js';
import type { HeatmapDataService } from '../../heatmap-data/index.js';
import { ExportError } from '../errors.js';
import { fieldsOf } from '../rules.js';

/** The frontend's (and the spec's) default viewport width of a heatmap export. */
export const DEFAULT_HEATMAP_WIDTH = 1400;

export type HeatmapOverlay = Pick<HeatmapDataService, 'pageOverlay'>;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** export_context.width: a positive whole number (or its digits); the default when absent. */
function widthOf(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_HEATMAP_WIDTH;
  const width = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(width) || width <= 0) throw new ExportError(`export_context.width must be a positive whole number, not ${JSON.stringify(value)}`);
  return width;
}

/**
 * A heatmap PNG export (export_context.heatmap_url): the team's most recent completed saved heatmap of that page, its
 * stored screenshot closest to `width` with the heatmap-data module's overlay drawn on it. The points are those of
 * heatmap_data_url (exact, or a pattern as a saved heatmap's data_url) when given, else the saved heatmap's. The
 * filters are read flat (type, date_from, date_to, aggregation, filter_test_accounts) or in PostHog's exporter shape
 * (heatmap_filters.type / .aggregation, common_filters.date_from / .date_to / .filter_test_accounts). `height` and
 * `css_selector` only matter to a browser rendering the page, which this does not do: a page without a saved
 * screenshot fails. Writes heatmap.png in dir and answers its path.
 */
export async function produceHeatmapPng(overlay: HeatmapOverlay, team: TeamRow, context: Record<string, unknown>, dir: string): Promise<string> {
  const pageUrl = String(context.heatmap_url);
  const filters = fieldsOf(context.heatmap_filters);
  const common = fieldsOf(context.common_filters);
  const aggregation = text(context.aggregation) ?? text(filters.aggregation);
  const testAccounts = context.filter_test_accounts ?? common.filter_test_accounts;
  const image = await overlay.pageOverlay(team, pageUrl, {
    width: String(widthOf(context.width)),
    format: 'png',
    data_url: text(context.heatmap_data_url),
    type: text(context.type) ?? text(filters.type),
    date_from: text(context.date_from) ?? text(common.date_from),
    date_to: text(context.date_to) ?? text(common.date_to),
    aggregation: aggregation === 'unique_visitors' || aggregation === 'total_count' ? aggregation : undefined,
    filter_test_accounts: testAccounts === true || testAccounts === 'true',
  });
  if (!image) {
    throw new ExportError(
      `No saved heatmap with a screenshot for ${pageUrl}: save one first (POST /api/projects/${team.id}/saved/ with this url) and export once its screenshot is completed; rendering an unsaved page is not supported yet`,
    );
  }
  const file = path.join(dir, 'heatmap.png');
  await writeFile(file, image.body);
  return file;
}
