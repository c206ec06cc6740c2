import { HEATMAP_POINT_TYPES } from '../../db/enums.js';
import type { CapturedEvent } from './events.js';

export type HeatmapPointType = (typeof HEATMAP_POINT_TYPES)[number];

export interface HeatmapPoint {
  url: string;
  type: HeatmapPointType;
  x: number;
  y: number;
  targetFixed: boolean;
}

/** What posthog-js reports itself; scrolldepth points are made here, never taken from the client's list. */
const REPORTED_TYPES = new Set<string>(HEATMAP_POINT_TYPES.filter((type) => type !== 'scrolldepth'));
const MAX_COORDINATE = 2_147_483_647;
const coordinate = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_COORDINATE ? Math.round(value) : null;
const dimension = (value: unknown): number | null => {
  const n = coordinate(value);
  return n !== null && n > 0 ? n : null;
};

/**
 * The scroll depth of the previous page a page view reports (`$prev_pageview_max_scroll`, its deepest scrollTop), as
 * PostHog's ingestion records it: a point at y = that depth on the current URL with the previous page's path.
 */
function scrollDepthPoint(properties: Record<string, unknown>): HeatmapPoint | null {
  const { $prev_pageview_pathname: pathname, $prev_pageview_max_scroll: maxScroll, $current_url: currentUrl } = properties;
  const depth = coordinate(maxScroll);
  if (typeof pathname !== 'string' || pathname === '' || typeof currentUrl !== 'string' || depth === null) return null;
  try {
    const url = new URL(currentUrl);
    url.pathname = pathname;
    return { url: url.href, type: 'scrolldepth', x: 0, y: depth, targetFixed: false };
  } catch {
    return null;
  }
}

/**
 * The points of an event's `$heatmap_data` (`{<url>: [{x, y, target_fixed, type}]}`, posthog-js heatmaps.ts), and
 * the event without them: the points are kept apart, as PostHog's ingestion sends them to its heatmaps table.
 * Points of an unknown type or without numeric coordinates are left out.
 */
export function takeHeatmapPoints(event: CapturedEvent): { event: CapturedEvent; points: HeatmapPoint[]; viewport: { width: number | null; height: number | null } } {
  const data = event.properties.$heatmap_data;
  const viewport = { width: dimension(event.properties.$viewport_width), height: dimension(event.properties.$viewport_height) };
  const scrolled = scrollDepthPoint(event.properties);
  if (data === undefined) return { event, points: scrolled ? [scrolled] : [], viewport };
  const properties = { ...event.properties };
  delete properties.$heatmap_data;
  const points: HeatmapPoint[] = scrolled ? [scrolled] : [];
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    for (const [url, list] of Object.entries(data)) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (typeof item !== 'object' || item === null) continue;
        const { x, y, type, target_fixed: targetFixed } = item as Record<string, unknown>;
        const [px, py] = [coordinate(x), coordinate(y)];
        if (px === null || py === null || typeof type !== 'string' || !REPORTED_TYPES.has(type)) continue;
        points.push({ url, type: type as HeatmapPointType, x: px, y: py, targetFixed: targetFixed === true });
      }
    }
  }
  return { event: { ...event, properties }, points, viewport };
}
