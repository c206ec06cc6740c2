import { z } from 'zod';
import type { TeamRow } from '../../db/schema/index.js';
import { ValidationError } from '../../lib/errors.js';
import { relativeDateWallClock, wallClock } from '../../lib/relative-date.js';
import { isoZ } from '../../lib/time.js';
import { testAccountFilters } from '../identity/index.js';
import type { Logger } from 'pino';
import type { TeamAccess } from '../identity/index.js';
import type { ContentResult, HeatmapsService } from '../heatmaps/index.js';
import {
  type HeatmapEventsQueryInput,
  type HeatmapEventsResponse,
  type HeatmapsQueryInput,
  type HeatmapsResponse,
  MAX_POINTS,
  type OverlayQueryInput,
} from './contract.js';
import { composeOverlay, heatmapLayer, imageSize, scrollDepthLayer } from './overlay.js';
import type { HeatmapDataRepository, PointFilter } from './repository.js';

const DEFAULT_DATE_FROM = '-7d';
const DEFAULT_LIMIT = 500;
const DEFAULT_EVENTS_LIMIT = 50;
const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

type TeamRef = { team: TeamRow };

/** The calendar day (YYYY-MM-DD) an instant falls on in timeZone. */
const dayIn = (instant: Date, timeZone: string) => wallClock(instant, timeZone).toISOString().slice(0, 10);

/**
 * heatmaps_api.py's validate_date: an ISO date or date-time (one with an offset is moved to the project's time zone),
 * else a relative date ("-7d", "-1dStart"), taken to its day. Anything else is today, as PostHog's parser falls back
 * to now without an error.
 */
export function heatmapDay(value: string, now: Date, timeZone: string): string {
  const iso = ISO_DATE.exec(value.trim());
  if (iso) {
    const [, year, month, day, hour, minute, second, offset] = iso;
    const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0)));
    if (date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day)) {
      if (!offset) return date.toISOString().slice(0, 10);
      const minutes = offset === 'Z' ? 0 : (offset.startsWith('-') ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(-2)));
      return dayIn(new Date(date.getTime() - minutes * 60_000), timeZone);
    }
  }
  return relativeDateWallClock(value.trim(), now, timeZone)?.slice(0, 10) ?? dayIn(now, timeZone);
}

/** validate_url_pattern: anchored at both ends; each * not after a dot stands for one or more characters. No escaping. */
export function urlPatternRegex(pattern: string): string {
  const anchored = `${pattern.startsWith('^') ? '' : '^'}${pattern}${pattern.endsWith('$') ? '' : '$'}`;
  return anchored.replace(/\*/g, (star, index: number) => (index === 0 || anchored[index - 1] === '.' ? star : '.+'));
}

const PointsSchema = z.array(z.looseObject({ x: z.number(), y: z.number(), target_fixed: z.boolean().nullish() }));

/** The `points` of /heatmaps/events/: JSON of grid points, each with x and y. */
function eventPoints(value: string | undefined): { x: number; y: number; fixed: boolean }[] {
  if (value === undefined) throw new ValidationError('This field is required.', 'points', 'required');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ValidationError('points must be valid JSON', 'points');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new ValidationError('points must be a non-empty array', 'points');
  const points = PointsSchema.safeParse(parsed);
  if (!points.success) throw new ValidationError('each point must have x and y', 'points');
  return points.data.map((point) => ({ x: point.x, y: Math.trunc(point.y), fixed: point.target_fixed ?? false }));
}

/** The pattern characters that make a saved heatmap's data_url a url_pattern for PostHog's web app (isUrlPattern). */
const URL_PATTERN_CHARS = /[*+?^${}()|[\]\\]/;
/** PostHog's default viewport accuracy: a screenshot of width w shows the points of viewports 0.9w to 1.1w wide. */
const deviceRange = (width: number) => ({ viewport_width_min: Math.round(width * 0.9), viewport_width_max: Math.round(width * 1.1) });
/** Overlays slower than this are logged. */
const SLOW_OVERLAY_MS = 500;

export type OverlayResult = Extract<ContentResult, { kind: 'pending' }> | { kind: 'image'; body: Buffer; format: 'png' | 'jpeg'; width: number };

export interface HeatmapDataServiceDeps {
  heatmapData: HeatmapDataRepository;
  screenshots: Pick<HeatmapsService, 'screenshot' | 'screenshotOfPage'>;
  log: Logger;
}

export function createHeatmapDataService({ heatmapData, screenshots, log }: HeatmapDataServiceDeps) {
  type FilterInput = Pick<HeatmapsQueryInput, 'type' | 'date_from' | 'date_to' | 'url_exact' | 'url_pattern' | 'viewport_width_min' | 'viewport_width_max' | 'filter_test_accounts'> & {
    hide_zero_coordinates?: boolean | undefined;
  };

  async function pointFilter(team: TeamRow, q: FilterInput, now: Date): Promise<PointFilter> {
    const timeZone = team.timezone;
    // Both given: the pattern wins unless the two are the same.
    const exact = q.url_exact || undefined;
    const pattern = q.url_pattern && q.url_pattern !== exact ? urlPatternRegex(q.url_pattern) : undefined;
    if (pattern !== undefined) {
      await heatmapData.assertCompiles(pattern).catch((error: unknown) => {
        throw error instanceof ValidationError ? new ValidationError('Invalid url_pattern: not a valid regular expression', 'url_pattern') : error;
      });
    }
    return {
      type: q.type || 'click',
      from: heatmapDay(q.date_from || DEFAULT_DATE_FROM, now, timeZone),
      to: q.date_to ? heatmapDay(q.date_to, now, timeZone) : dayIn(now, timeZone),
      timeZone,
      url: pattern !== undefined ? { pattern } : exact !== undefined ? { exact } : null,
      viewportWidthMin: q.viewport_width_min ?? null,
      viewportWidthMax: q.viewport_width_max ?? null,
      testAccounts: q.filter_test_accounts ? testAccountFilters(team).filter((f) => f.type === 'event' || f.type === 'person') : null,
      hideZeroCoordinates: q.hide_zero_coordinates ?? true,
    };
  }

  /** The overlay of the points of dataUrl (or its pattern) in the screenshot's device range, drawn on the screenshot. */
  async function draw(
    team: TeamRow,
    shortId: string | null,
    content: Pick<Extract<ContentResult, { kind: 'image' }>, 'jpeg' | 'width'>,
    dataUrl: string,
    q: OverlayQueryInput,
    started: number,
  ): Promise<Extract<OverlayResult, { kind: 'image' }>> {
    const url = URL_PATTERN_CHARS.test(dataUrl) ? { url_pattern: dataUrl } : { url_exact: dataUrl };
    const filter = await pointFilter(team, { ...q, ...url, ...deviceRange(content.width) }, new Date());
    const { width, height } = await imageSize(content.jpeg);
    const size = { width: width ?? content.width, height: height ?? 0 };
    const aggregation = q.aggregation ?? 'total_count';
    let layer: Buffer;
    let max: number | null = null;
    if (filter.type === 'scrolldepth') {
      const buckets = await heatmapData.scrollDepth(team.id, filter, aggregation);
      layer = scrollDepthLayer(size.width, size.height, buckets.map((b) => ({ bottom: b.scroll_depth_bucket, count: b.cumulative_count })));
    } else {
      const rows = await heatmapData.points(team.id, filter, aggregation, { limit: MAX_POINTS, offset: 0 });
      // Hottest first: the first cell holds the highest count.
      max = rows[0]?.count ?? 0;
      const points = rows.map((row) => ({ x: Math.round(row.pointer_relative_x * size.width), y: row.pointer_y, value: row.count }));
      layer = heatmapLayer(size.width, size.height, points, max);
    }
    const format = q.format ?? 'png';
    const label = filter.type === 'scrolldepth' ? 'scroll depth' : aggregation === 'unique_visitors' ? `visitors (${filter.type})` : `${filter.type}s`;
    const body = await composeOverlay(content.jpeg, { rgba: layer, ...size }, { format, label, max });
    const ms = Date.now() - started;
    if (ms > SLOW_OVERLAY_MS) log.info({ team_id: team.id, short_id: shortId, width: size.width, height: size.height, ms }, 'slow heatmap overlay');
    return { kind: 'image', body, format, width: content.width };
  }

  return {
    /** GET …/heatmaps/: the points on the grid with their counts, or scroll depth buckets for type=scrolldepth. */
    async points({ team }: TeamRef, q: HeatmapsQueryInput): Promise<HeatmapsResponse> {
      const filter = await pointFilter(team, q, new Date());
      const aggregation = q.aggregation ?? 'total_count';
      if (filter.type === 'scrolldepth') return { results: await heatmapData.scrollDepth(team.id, filter, aggregation) };
      const limit = q.limit ?? DEFAULT_LIMIT;
      const page = { limit: limit === 0 ? MAX_POINTS : limit + 1, offset: q.offset ?? 0 };
      const { points: rows, fold } = await heatmapData.pointsAndFold(team.id, filter, aggregation, page);
      const hasMore = limit !== 0 && rows.length > limit;
      return {
        results: hasMore ? rows.slice(0, limit) : rows,
        fold: {
          total_count: fold.total,
          below_fold_count: fold.below,
          pct_below_fold: fold.total > 0 ? Math.round((1000 * fold.below) / fold.total) / 10 : 0,
          median_viewport_height: fold.median || null,
        },
        has_more: hasMore,
      };
    },

    /**
     * GET …/saved/:short_id/overlay/: the saved heatmap's screenshot closest to `width` with the points of its data_url
     * drawn on it, those of viewports in the screenshot's device range; scroll depth as bands. Points below the
     * screenshot (a page taller than the capture) are left out with it.
     */
    async overlay(access: TeamAccess, shortId: string, q: OverlayQueryInput): Promise<OverlayResult> {
      const started = Date.now();
      const { content, dataUrl } = await screenshots.screenshot(access, shortId, q.width);
      if (content.kind === 'pending') return content;
      return draw(access.team, shortId, content, dataUrl, q, started);
    },

    /**
     * A heatmap PNG export: the screenshot closest to q.width of the team's most recent completed saved heatmap of
     * pageUrl with the overlay drawn as overlay() draws it, the points of dataUrl (exact, or a pattern with * as the
     * saved heatmap's data_url) when given, else those of the saved heatmap's data_url or url. Null when the team has
     * no saved heatmap of that page with a stored screenshot.
     */
    async pageOverlay(team: TeamRow, pageUrl: string, q: OverlayQueryInput & { data_url?: string | undefined }): Promise<Extract<OverlayResult, { kind: 'image' }> | null> {
      const started = Date.now();
      const found = await screenshots.screenshotOfPage(team.id, pageUrl, q.width);
      if (!found || found.content.kind === 'pending') return null;
      return draw(team, found.shortId, found.content, q.data_url || found.dataUrl, q, started);
    },

    /**
     * A heatmap export of a page without a saved heatmap: the overlay drawn on a screenshot just rendered at `width`,
     * as pageOverlay draws it on a stored one, with the points of dataUrl (exact, or a pattern).
     */
    async imageOverlay(team: TeamRow, image: { jpeg: Buffer; width: number }, dataUrl: string, q: OverlayQueryInput): Promise<Extract<OverlayResult, { kind: 'image' }>> {
      return draw(team, null, image, dataUrl, q, Date.now());
    },

    /** GET …/heatmaps/events/: the interactions behind some grid points, newest first. */
    async events({ team }: TeamRef, q: HeatmapEventsQueryInput): Promise<HeatmapEventsResponse> {
      const points = eventPoints(q.points);
      const filter = await pointFilter(team, q, new Date());
      const page = { limit: q.limit ?? DEFAULT_EVENTS_LIMIT, offset: q.offset ?? 0 };
      const { rows, total } = await heatmapData.events(team.id, filter, points, page);
      return {
        results: rows.map((row) => ({ ...row, timestamp: isoZ(row.timestamp), session_id: row.session_id || null })),
        total_count: total,
        has_more: total > page.offset + page.limit,
      };
    },
  };
}

export type HeatmapDataService = ReturnType<typeof createHeatmapDataService>;
