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

const TYPES = new Set<string>(HEATMAP_POINT_TYPES);
const MAX_COORDINATE = 2_147_483_647;
const coordinate = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_COORDINATE ? Math.round(value) : null;
const dimension = (value: unknown): number | null => {
  const n = coordinate(value);
  return n !== null && n > 0 ? n : null;
};

/**
 * The points of an event's `$heatmap_data` (`{<url>: [{x, y, target_fixed, type}]}`, posthog-js heatmaps.ts), and
 * the event without them: the points are kept apart, as PostHog's ingestion sends them to its heatmaps table.
 * Points of an unknown type or without numeric coordinates are left out.
 */
export function takeHeatmapPoints(event: CapturedEvent): { event: CapturedEvent; points: HeatmapPoint[]; viewport: { width: number | null; height: number | null } } {
  const data = event.properties.$heatmap_data;
  const viewport = { width: dimension(event.properties.$viewport_width), height: dimension(event.properties.$viewport_height) };
  if (data === undefined) return { event, points: [], viewport };
  const properties = { ...event.properties };
  delete properties.$heatmap_data;
  const points: HeatmapPoint[] = [];
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    for (const [url, list] of Object.entries(data)) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (typeof item !== 'object' || item === null) continue;
        const { x, y, type, target_fixed: targetFixed } = item as Record<string, unknown>;
        const [px, py] = [coordinate(x), coordinate(y)];
        if (px === null || py === null || typeof type !== 'string' || !TYPES.has(type)) continue;
        points.push({ url, type: type as HeatmapPointType, x: px, y: py, targetFixed: targetFixed === true });
      }
    }
  }
  return { event: { ...event, properties }, points, viewport };
}
