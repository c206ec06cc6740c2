import { z } from 'zod';
import { query } from '../../http/query.js';
import { DateTime } from '../../lib/wire.js';

/** PostHog's ingestion keeps points on a 16-px grid (SCALE_FACTOR): x, y and the viewport are stored divided by it. */
export const SCALE_FACTOR = 16;
/** What limit=0 fetches: PostHog's MAX_SELECT_HEATMAPS_LIMIT. */
export const MAX_POINTS = 1_000_000;
export const AGGREGATIONS = ['unique_visitors', 'total_count'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** HeatmapsRequestSerializer's query parameters (products/web_analytics/backend/api/heatmaps_api.py). */
export const HeatmapsQuery = z.object({
  type: z.string().optional().meta({ description: 'click (default), rageclick, mousemove, deadclick or scrolldepth; any other type has no points' }),
  date_from: z.string().optional().meta({ description: 'A date, ISO or relative (-7d, the default); the day it falls on in the project time zone' }),
  date_to: z.string().optional().meta({ description: 'A date, ISO or relative; its whole day is included (default today)' }),
  url_exact: z.string().optional().meta({ description: 'The page URL; a trailing slash is ignored on both sides' }),
  url_pattern: z
    .string()
    .optional()
    .meta({ description: 'A regular expression anchored at both ends where * stands for one or more characters (.* stays as it is); wins over url_exact' }),
  viewport_width_min: query.integer({ description: 'Visitors whose viewport is at least this wide (compared on the 16-px grid)' }),
  viewport_width_max: query.integer({ description: 'Visitors whose viewport is at most this wide (compared on the 16-px grid)' }),
  aggregation: query.choice(AGGREGATIONS, { description: 'total_count (default) or unique_visitors' }),
  filter_test_accounts: query.nullableBoolean({ description: "true leaves out sessions that do not match the project's test_account_filters" }),
  hide_zero_coordinates: query.nullableBoolean({ description: 'Leave out points at (0, 0) on the grid (default true)' }),
  limit: query.boundedInteger({ min: 0, max: MAX_POINTS }, { description: 'Points per page, hottest first (default 500; 0 = all, up to 1,000,000)' }),
  offset: query.boundedInteger({ min: 0, max: MAX_POINTS }),
});
export type HeatmapsQueryInput = z.output<typeof HeatmapsQuery>;

export const HeatmapEventsQuery = HeatmapsQuery.omit({ limit: true, offset: true }).extend({
  points: z.string().optional().meta({ description: 'JSON: [{"x": <pointer_relative_x>, "y": <pointer_y>, "target_fixed": false}, ...] (required)' }),
  limit: query.boundedInteger({ min: 1, max: 100 }, { description: 'Interactions per page, 1 to 100 (default 50)' }),
  offset: query.boundedInteger({ min: 0 }),
});
export type HeatmapEventsQueryInput = z.output<typeof HeatmapEventsQuery>;

export const HeatmapPointSchema = z
  .object({
    count: z.number().int(),
    pointer_y: z.number().int().meta({ description: 'Pixels from the top of the page (of the viewport for fixed targets), on a 16-px grid' }),
    pointer_relative_x: z.number().meta({ description: 'The share of the viewport width, to 2 decimals' }),
    pointer_target_fixed: z.boolean(),
  })
  .meta({ id: 'HeatmapResponseItem' });

export const FoldSchema = z.object({
  total_count: z.number().int(),
  below_fold_count: z.number().int(),
  pct_below_fold: z.number(),
  median_viewport_height: z.number().int().nullable(),
});

export const ScrollDepthBucketSchema = z.object({
  cumulative_count: z.number().int().meta({ description: 'How many scrolled at least this far' }),
  bucket_count: z.number().int(),
  scroll_depth_bucket: z.number().int().meta({ description: 'The bottom of the viewport at the deepest scroll, floored to 100 px' }),
});

export const HeatmapsResponseSchema = z
  .union([
    z.object({ results: z.array(HeatmapPointSchema), fold: FoldSchema, has_more: z.boolean() }),
    z.object({ results: z.array(ScrollDepthBucketSchema) }).meta({ description: 'type=scrolldepth' }),
  ])
  .meta({ id: 'HeatmapsResponse' });
export type HeatmapsResponse = z.infer<typeof HeatmapsResponseSchema>;

export const HeatmapEventSchema = z.object({
  session_id: z.string().nullable(),
  distinct_id: z.string(),
  timestamp: DateTime,
  pointer_relative_x: z.number(),
  pointer_y: z.number().int(),
  current_url: z.string(),
  type: z.string(),
});

export const HeatmapEventsResponseSchema = z
  .object({ results: z.array(HeatmapEventSchema), total_count: z.number().int(), has_more: z.boolean() })
  .meta({ id: 'HeatmapEventsResponse' });
export type HeatmapEventsResponse = z.infer<typeof HeatmapEventsResponseSchema>;

/** The overlay's query (Burrow's extension): the data's filters, the screenshot's width and the image format. */
export const OverlayQuery = HeatmapsQuery.pick({ type: true, date_from: true, date_to: true, aggregation: true, filter_test_accounts: true }).extend({
  width: z.string().optional().meta({ description: 'The screenshot width to draw on (default 1024; the closest stored one)' }),
  format: query.choice(['png', 'jpeg'] as const, { description: 'png (default) or jpeg' }),
});
export type OverlayQueryInput = z.output<typeof OverlayQuery>;
