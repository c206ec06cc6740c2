import { type SQL, sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, primaryKey, text, uuid, varchar } from 'drizzle-orm/pg-core';
import { HEATMAP_POINT_TYPES } from '../enums.js';
import { bytea, captureTeamId, timestamptz } from './columns.js';

/**
 * A coordinate in CSS pixels on the 16-px grid, rounded half away from zero as Postgres's round of the quotient would
 * (PostHog's ingestion rounds x / 16 with Math.round), in integer arithmetic.
 */
const gridOf = (column: string) => `(case when ${column} < 0 then (${column}::int8 - 8) / 16 else (${column}::int8 + 8) / 16 end)::int`;
const onGrid = (column: string) => sql.raw(gridOf(column));

/** The page a url_exact query compares: the URL without its trailing slashes, as md5 in a uuid (16 bytes however long the URL). */
export const pageKeyOf = (url: SQL) => sql`md5(rtrim(${url}, '/'))::uuid`;

/** A URL's own key, as md5 in a uuid (a URL may be longer than a b-tree entry can hold). */
export const urlHashOf = (url: SQL) => sql`md5(${url})::uuid`;

const URL_COLUMN = sql.raw('url');

/**
 * round(x / width, 2) in hundredths, of x and a viewport width on the grid, as an integer (in bigint: 200 x may not fit
 * an int); null for a width of 0.
 */
export const relativeXCentsOf = (x: string, width: string) =>
  `(case when ${x} < 0 then 200 * ${x}::int8 - ${width} else 200 * ${x}::int8 + ${width} end) / nullif(2 * ${width}, 0)`;

/** The null height's place in `packed`: no viewport height is this small. */
export const NO_HEIGHT = -(2 ** 31);

/**
 * A point as the heatmap query reads it, 16 bytes: x across the viewport in hundredths (round(x / width, 2) on the
 * grid, in integer arithmetic) as a float8, exact; y on the grid times 4, plus 2 when the point is at (0, 0) on the
 * grid, plus 1 on a fixed element, as an int4; the viewport height on the grid as an int4 (NO_HEIGHT for none). Null
 * without a viewport width.
 */
function packedPoint(): SQL {
  const [x, y, width, height] = ['x', 'y', 'viewport_width', 'viewport_height'].map(gridOf);
  return sql.raw(
    `float8send((${relativeXCentsOf(x!, width!)})::float8) || int4send(${y} * 4 + case when ${x} = 0 and ${y} = 0 then 2 else 0 end + target_fixed::int) || ` +
      `int4send(coalesce(${height}, ${NO_HEIGHT}))`,
  );
}

/**
 * Where people clicked, moved and dead-clicked: one row per point of a `$heatmap_data` property (posthog-js's
 * `$$heatmap` events), as the page reported it, in CSS pixels of the document (x = clientX + scrollX, y likewise;
 * fixed elements without the scroll), with the viewport it was seen in. The heatmap queries scale them as PostHog.
 *
 * Capture writes a dozen of these per `$$heatmap` event, so the table keeps one index the queries need (every query
 * reads pages: a URL pattern, or no URL, through heatmap_pages) and a BRIN range index on time for retention: no
 * key of its own, nor a second b-tree, to maintain per point.
 */
export const heatmapPoints = pgTable(
  'heatmap_points',
  {
    teamId: captureTeamId(),
    /** The event that carried it. */
    eventUuid: uuid('event_uuid').notNull(),
    timestamp: timestamptz('timestamp').notNull(),
    sessionId: varchar('session_id', { length: 200 }),
    distinctId: varchar('distinct_id', { length: 200 }).notNull(),
    url: text('url').notNull(),
    type: varchar('type', { length: 20, enum: HEATMAP_POINT_TYPES }).notNull(),
    x: integer('x').notNull(),
    y: integer('y').notNull(),
    targetFixed: boolean('target_fixed').notNull(),
    viewportWidth: integer('viewport_width'),
    viewportHeight: integer('viewport_height'),
    /** The page (pageKeyOf); Postgres computes it; inserts leave it out. */
    urlKey: uuid('url_key').notNull().generatedAlwaysAs(pageKeyOf(URL_COLUMN)),
    /**
     * x, y and the viewport on PostHog's 16-px grid (its ingestion stores only these), computed by Postgres: the heatmap
     * queries read them from the page index instead of working them out for every point of every request.
     */
    gridX: integer('grid_x')
      .notNull()
      .generatedAlwaysAs(onGrid('x')),
    gridY: integer('grid_y')
      .notNull()
      .generatedAlwaysAs(onGrid('y')),
    gridWidth: integer('grid_width').generatedAlwaysAs(onGrid('viewport_width')),
    gridHeight: integer('grid_height').generatedAlwaysAs(onGrid('viewport_height')),
    /** The point as the heatmap query reads it (packedPoint), from the page index: no work per point in Postgres. */
    packed: bytea('packed').generatedAlwaysAs(packedPoint()),
  },
  (t) => [
    index('heatmap_points_time').using('brin', t.timestamp),
    // One page's points of a type over a time range, with what the heatmap query reads (the viewport's width, which
    // it filters on, and the packed point): an index-only scan whose cost is the page's points, not the team's.
    index('heatmap_points_team_type_page').on(t.teamId, t.type, t.urlKey, t.timestamp, t.gridWidth, t.packed),
  ],
);

/**
 * Every URL a team's heatmap points were reported on, added by capture with the points: a URL pattern, or a query
 * without a URL, finds its pages here and reads each page's range of heatmap_points_team_type_page. Retention
 * deletes a page a day after the points' cutoff passed its last_seen_at.
 */
export const heatmapPages = pgTable(
  'heatmap_pages',
  {
    teamId: captureTeamId(),
    url: text('url').notNull(),
    urlHash: uuid('url_hash').notNull().generatedAlwaysAs(urlHashOf(URL_COLUMN)),
    urlKey: uuid('url_key').notNull().generatedAlwaysAs(pageKeyOf(URL_COLUMN)),
    /** When capture last stored points on it, to the day (it is written at most once a day); retention goes by it. */
    lastSeenAt: timestamptz('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'heatmap_pages_pkey', columns: [t.teamId, t.urlHash] })],
);
